// Package grpcapi serves the moderation.v1 gRPC API. It translates between
// the wire types and the domain, authenticates and authorizes every call,
// and reaches the rest of the service through small interfaces: it knows
// nothing of NATS or OPA.
package grpcapi

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"buf.build/go/protovalidate"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	grpcauth "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	pvinterceptor "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/ratelimit"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/appeals"
	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/moderation"
)

// Enforcement is what Check reads: an account's state from memory, and
// whether that memory may be behind.
type Enforcement interface {
	Get(account string) *moderation.AccountState
	Stale() bool
}

// Decisions reads the decisions published on mod.enforcement.<account>.
type Decisions interface {
	List(ctx context.Context, account string, from uint64, limit int) ([]moderation.DecisionRecord, uint64, error)
	Get(ctx context.Context, account, decisionID string) (*moderation.DecisionRecord, error)
	Watch(ctx context.Context, account string, from uint64, fn func(moderation.DecisionRecord) error) error
}

// Events stores events and reads an account's back.
type Events interface {
	Ingest(ctx context.Context, evs []*moderation.Event) ([]moderation.EventRecord, error)
	History(ctx context.Context, account string, since time.Time, limit int) ([]moderation.EventRecord, error)
}

// Actions applies reviewers' manual actions.
type Actions interface {
	TakeAction(ctx context.Context, a moderation.ManualAction, now time.Time) (*moderation.Decision, error)
}

// Signals reads the detectors' current signals on an account.
type Signals interface {
	Signals(account string) (map[string]moderation.Signal, bool)
}

// Backtester replays history through a candidate policy given as files.
type Backtester interface {
	Backtest(ctx context.Context, files map[string]string, since, until time.Time) (*BacktestResult, error)
}

// BacktestResult is what a backtest found.
type BacktestResult struct {
	PolicyVersion      string
	Events             int
	Actioned, Released []BacktestChange
}

// BacktestChange is an account whose strongest measure would differ.
type BacktestChange struct {
	Account, Was, Would, Rule, Reason string
}

// AppealFlow is the appeal state machine with its stores.
type AppealFlow interface {
	File(ctx context.Context, r appeals.FileRequest) (*appeals.Appeal, error)
	Get(ctx context.Context, account, id string) (*appeals.Appeal, error)
	ListMine(ctx context.Context, account string) ([]*appeals.Appeal, error)
	Withdraw(ctx context.Context, account, id, actor string) (*appeals.Appeal, error)
	Queue(ctx context.Context, f appeals.Filter) ([]*appeals.Appeal, error)
	Claim(ctx context.Context, id, reviewer string) (*appeals.Appeal, error)
	Decide(ctx context.Context, id string, v appeals.Verdict) (*appeals.Appeal, error)
}

// Reevaluator re-judges suspended and closed accounts under a policy given
// by version or as files.
type Reevaluator interface {
	Reevaluate(ctx context.Context, files map[string]string, version string, r appeals.ReevaluateRequest) (*appeals.ReevaluateReport, error)
}

// Deps are the parts of the service the API reaches.
type Deps struct {
	Appeals     AppealFlow
	Reevaluator Reevaluator
	Enforcement Enforcement
	Decisions   Decisions
	Events      Events
	Actions     Actions
	Signals     Signals
	Backtester  Backtester
	Audit       AuditTrail          // the audit trail, for AuditService
	Verifier    *auth.Verifier      // checks bearer tokens
	Issuer      *auth.Issuer        // mints tokens for AdminService; nil refuses
	Tokens      Tokens              // audits mints, keeps revocations; nil refuses both
	Authorizer  *authz.Authorizer   // the authorization policy
	Policies    Policies            // the policy in force, for ConsoleService; nil refuses
	Metrics     prometheus.Gatherer // the service's metrics, for ConsoleService; nil refuses
}

// Options shape the API.
type Options struct {
	// DenyUnknownWhenStale: while answers may be behind, refuse accounts
	// with no known state instead of allowing them.
	DenyUnknownWhenStale bool
	// InsecureDev serves every call without a token, as an admin. For a
	// developer's machine only.
	InsecureDev bool
	// TLS, when set, is the server's TLS (and mTLS) configuration.
	TLS *tls.Config
	// OwnerRate and OwnerBurst limit each owner account's calls per second.
	OwnerRate  float64
	OwnerBurst int
	// AppealWindow is how long a manual action can be appealed.
	AppealWindow time.Duration
	// MaxClockSkew is how far ahead of the clock Ingest accepts an event's
	// time; 0: the events package's default.
	MaxClockSkew time.Duration
	// Registry receives the per-method call metrics.
	Registry prometheus.Registerer
	// EndStreams, closed when the service begins to stop, ends the
	// context of every open stream, so a graceful stop waits for handlers
	// to return rather than for watchers to hang up.
	EndStreams <-chan struct{}
}

// checkedByHand are the hot path's requests: protovalidate's regular
// expression for an account id costs Check about 7 µs, an eighth of its
// whole cost, so these are checked by validCheck, which
// TestHandCheckMatchesProtovalidate holds to the rules in the .proto.
var checkedByHand = pvinterceptor.WithIgnoreMessages(
	(&moderationv1.CheckRequest{}).ProtoReflect().Type(),
	(&moderationv1.BatchCheckRequest{}).ProtoReflect().Type(),
)

// NewServer returns a gRPC server with every moderation.v1 service, health
// and reflection registered behind one interceptor chain:
//
//	request id → metrics → logging → auth → validation → authorization →
//	owner rate limit → error mapping → recovery
//
// Auth and authorization are skipped for health and reflection, which say
// nothing about any account.
func NewServer(deps Deps, opts Options, log *slog.Logger) (*grpc.Server, *health.Server, error) {
	if deps.Authorizer == nil || (deps.Verifier == nil && !opts.InsecureDev) {
		return nil, nil, errors.New("grpc server: an authorizer and a token verifier are required")
	}
	if opts.OwnerRate <= 0 {
		opts.OwnerRate, opts.OwnerBurst = 5, 20
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{0.0001, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5})))
	if opts.Registry != nil {
		if err := opts.Registry.Register(metrics); err != nil {
			return nil, nil, err
		}
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, nil, err
	}
	limiter, err := newOwnerLimiter(opts.OwnerRate, opts.OwnerBurst)
	if err != nil {
		return nil, nil, err
	}
	logger := slogLogger(log)
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall), logging.WithLevels(callLevel), logging.WithFieldsFromContext(logFields)}
	// Recovery is last so a panic in a handler becomes Internal for the
	// caller, and is logged by the interceptors before it.
	panicToStatus := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in gRPC handler", "panic", p)
		return status.Error(codes.Internal, "internal error")
	})
	guarded := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return c.Service != healthpb.Health_ServiceDesc.ServiceName && !isReflection(c.Service)
	})
	authn := authenticate(deps.Verifier, opts.InsecureDev)
	az := authorizer{az: deps.Authorizer}
	errUnary, errStream := mapErrors(log)
	logUnary := logging.UnaryServerInterceptor(logger, logOpts...)
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		logUnary = quietOnHotPath(logUnary, log)
	}
	serverOpts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(
			beginUnary,
			metrics.UnaryServerInterceptor(),
			logUnary,
			selector.UnaryServerInterceptor(grpcauth.UnaryServerInterceptor(authn), guarded),
			badRequestUnary,
			pvinterceptor.UnaryServerInterceptor(validator, checkedByHand),
			selector.UnaryServerInterceptor(az.unary, guarded),
			ratelimit.UnaryServerInterceptor(limiter),
			errUnary,
			recovery.UnaryServerInterceptor(panicToStatus),
		),
		grpc.ChainStreamInterceptor(
			beginStream,
			endStreamsOn(opts.EndStreams),
			metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(logger, logOpts...),
			selector.StreamServerInterceptor(grpcauth.StreamServerInterceptor(authn), guarded),
			badRequestStream,
			pvinterceptor.StreamServerInterceptor(validator, checkedByHand),
			selector.StreamServerInterceptor(az.stream, guarded),
			ratelimit.StreamServerInterceptor(limiter),
			errStream,
			recovery.StreamServerInterceptor(panicToStatus),
		),
	}
	if opts.TLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	// Reuse a goroutine per core for calls instead of starting one per call
	// (whose stack grows each time): several microseconds of Check's cost.
	serverOpts = append(serverOpts, grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))))
	srv := grpc.NewServer(serverOpts...)
	api := &api{deps: deps, opts: opts, now: time.Now}
	moderationv1.RegisterModerationServiceServer(srv, &moderationService{api: api})
	moderationv1.RegisterReviewServiceServer(srv, &reviewService{api: api})
	moderationv1.RegisterAppealServiceServer(srv, &appealService{api: api})
	moderationv1.RegisterAdminServiceServer(srv, &adminService{api: api})
	moderationv1.RegisterAuditServiceServer(srv, &auditService{api: api})
	moderationv1.RegisterConsoleServiceServer(srv, &consoleService{api: api})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	metrics.InitializeMetrics(srv)
	return srv, hs, nil
}

func isReflection(service string) bool {
	return service == "grpc.reflection.v1.ServerReflection" || service == "grpc.reflection.v1alpha.ServerReflection"
}

// api is what every service's handlers share.
type api struct {
	deps Deps
	opts Options
	now  func() time.Time
}

// actor names the caller in audit records: "reviewer:alice".
func actor(ctx context.Context) string {
	id, _ := auth.FromContext(ctx)
	return id.Actor()
}
