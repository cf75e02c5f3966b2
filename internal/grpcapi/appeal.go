package grpcapi

import (
	moderationv1 "moderation/api/moderation/v1"
)

// appealService is the owners' side of appeals. Its methods answer
// Unimplemented until the appeals flow is served; authorization already
// covers them.
type appealService struct {
	*api
	moderationv1.UnimplementedAppealServiceServer
}
