package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/moderation"
)

type adminService struct {
	*api
	moderationv1.UnimplementedAdminServiceServer
}

// MintToken issues a token; the authorization policy lets only admins
// reach it.
func (s *adminService) MintToken(ctx context.Context, req *moderationv1.MintTokenRequest) (*moderationv1.MintTokenResponse, error) {
	if s.deps.Issuer == nil {
		return nil, moderation.Invalid("role", "tokens cannot be minted by this instance (no signing key)")
	}
	id := auth.Identity{Subject: req.GetSubject(), Role: auth.Role(req.GetRole()), Account: req.GetAccount()}
	if err := id.Validate(); err != nil {
		return nil, moderation.Invalid("role", err.Error())
	}
	var ttl time.Duration
	if req.GetTtl() != nil {
		ttl = req.GetTtl().AsDuration()
	}
	token, expires, err := s.deps.Issuer.Mint(id, ttl, s.now())
	if err != nil {
		return nil, err
	}
	return &moderationv1.MintTokenResponse{Token: token, ExpiresAt: timestamppb.New(expires)}, nil
}
