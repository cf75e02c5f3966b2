package service

import (
	"github.com/nats-io/nats.go"

	"moderation/internal/natsbus"
)

// NATSAs connects a client to the service's embedded NATS server as role
// (natsbus.RolePublisher, ...), with the credentials the server created in
// the data dir. The embedded server refuses anonymous clients.
func (s *Service) NATSAs(role string) nats.Option { return natsbus.As(s.cfg.DataDir, role) }
