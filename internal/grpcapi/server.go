// Package grpcapi serves the moderation.v1 gRPC API. It translates between
// the wire types and the domain; it reads enforcement through a small
// interface and knows nothing of NATS or OPA.
package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
)

// Enforcement is what Check reads: an account's state from memory, and
// whether that memory may be behind.
type Enforcement interface {
	Get(account string) *moderation.AccountState
	Stale() bool
}

// Options shape the API's answers.
type Options struct {
	// DenyUnknownWhenStale: while answers may be behind, refuse accounts
	// with no known state instead of allowing them.
	DenyUnknownWhenStale bool
}

// NewServer returns a gRPC server with the moderation service, health and
// reflection registered, and the interceptor chain in front of them.
func NewServer(enf Enforcement, opts Options, log *slog.Logger) (*grpc.Server, *health.Server) {
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	// Recovery is last so a panic in a handler becomes Internal for the
	// caller, and is logged by the interceptors before it.
	panicToStatus := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in gRPC handler", "panic", p)
		return status.Error(codes.Internal, "internal error")
	})
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(
			logging.UnaryServerInterceptor(logger, logging.WithLogOnEvents(logging.FinishCall)),
			recovery.UnaryServerInterceptor(panicToStatus),
		),
		grpc.ChainStreamInterceptor(
			logging.StreamServerInterceptor(logger, logging.WithLogOnEvents(logging.FinishCall)),
			recovery.StreamServerInterceptor(panicToStatus),
		),
	)
	moderationv1.RegisterModerationServiceServer(srv, &moderationService{enf: enf, opts: opts, now: time.Now})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv, hs
}

type moderationService struct {
	moderationv1.UnimplementedModerationServiceServer
	enf  Enforcement
	opts Options
	now  func() time.Time
}

var capabilities = map[moderationv1.Capability]moderation.Capability{
	moderationv1.Capability_CAPABILITY_BROADCAST:  moderation.CapBroadcast,
	moderationv1.Capability_CAPABILITY_FRIEND_ADD: moderation.CapFriendAdd,
}

var statuses = map[moderation.Action]moderationv1.Status{
	moderation.ActionAllow:   moderationv1.Status_STATUS_ACTIVE,
	moderation.ActionWarn:    moderationv1.Status_STATUS_WARNED,
	moderation.ActionLimit:   moderationv1.Status_STATUS_LIMITED,
	moderation.ActionSuspend: moderationv1.Status_STATUS_SUSPENDED,
	moderation.ActionClose:   moderationv1.Status_STATUS_CLOSED,
}

// Check answers from memory: it never waits on NATS.
func (s *moderationService) Check(ctx context.Context, req *moderationv1.CheckRequest) (*moderationv1.CheckResponse, error) {
	if !moderation.ValidAccountID(req.GetAccount()) {
		return nil, invalidArgument("account", "must match [A-Za-z0-9_-]{1,64}")
	}
	c, known := capabilities[req.GetCapability()]
	if !known && req.GetCapability() != moderationv1.Capability_CAPABILITY_UNSPECIFIED {
		return nil, invalidArgument("capability", "is not a known capability")
	}
	// While stale (loading, or NATS unreachable) the answer is still the
	// best known, flagged so the caller can weigh it.
	resp := &moderationv1.CheckResponse{Account: req.GetAccount(), Stale: s.enf.Stale()}
	now := s.now()
	st := s.enf.Get(req.GetAccount())
	if st == nil && resp.Stale && s.opts.DenyUnknownWhenStale {
		resp.Status = moderationv1.Status_STATUS_ACTIVE // nothing known against it, but nothing known for sure
		return resp, nil
	}
	action := st.Effective(now)
	resp.Status = statuses[action]
	if known {
		resp.Allowed = st.Allows(c, now)
	} else {
		// No capability named: allowed means nothing at all is restricted.
		resp.Allowed = action.Severity() < moderation.ActionLimit.Severity()
	}
	if action != moderation.ActionAllow {
		d := st.Current
		resp.DecisionId, resp.PolicyVersion = d.DecisionID, d.PolicyVersion
		for _, r := range d.Reasons {
			resp.Reasons = append(resp.Reasons, &moderationv1.Reason{Code: r.Code, Detail: r.Detail})
		}
		if d.Until != nil {
			resp.Until = timestamppb.New(*d.Until)
		}
	}
	return resp, nil
}
