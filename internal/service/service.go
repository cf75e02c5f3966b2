// Package service assembles the moderation service from its parts: NATS
// (embedded or external), the pipeline, the gRPC API and the ops endpoints.
// moderationd runs it; tests and the bench command run the same thing.
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"moderation/appeals"
	"moderation/detectors/adtext"
	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/enforcement"
	"moderation/internal/eventlog"
	"moderation/internal/grpcapi"
	"moderation/internal/judge"
	"moderation/internal/natsbus"
	"moderation/internal/opshttp"
	"moderation/internal/pipeline"
	"moderation/internal/transparency"
	"moderation/policies"
)

var _ pipeline.Store = (*enforcement.Store)(nil)

// Config is every setting of the service; cmd/moderationd fills it from
// flags and environment.
type Config struct {
	DataDir         string
	NATSListen      string // embedded server's client address
	NATSURL         string // external server or cluster; empty embeds one
	NATSSyncAlways  bool
	GRPCListen      string
	HTTPListen      string
	ConsoleListen   string // the reviewer console's address; empty: no console
	MaxStateMB      int64
	DedupWindow     time.Duration
	Location        *time.Location // platform time zone for calendar quotas
	AdModel         *adtext.Model  // nil: the model built into the binary
	PolicyDir       string         // replaces the embedded policy, reloaded on change
	ShadowPolicyDir string         // evaluated beside the live policy, never enforced
	PolicyPoll      time.Duration  // how often policy directories are looked at
	// PolicyBundle replaces the embedded policy with a signed OPA bundle, a
	// file or an http(s) URL, looked at every PolicyPoll (a URL with
	// If-None-Match). It must be signed with the private half of
	// PolicyBundleKey (a PEM public key) by PolicyBundleAlg (empty: inferred
	// from the key). It and PolicyDir exclude each other.
	PolicyBundle, PolicyBundleKey, PolicyBundleAlg string
	// DenyUnknownWhenStale makes Check refuse accounts it knows nothing
	// about while NATS is unreachable (fail closed); by default it allows
	// them (fail open), as it does when NATS is up.
	DenyUnknownWhenStale bool
	CheckCacheBytes      int64 // account states Check holds in memory; 0: enforcement.DefaultCacheBytes
	// MaxClockSkew is how far ahead of the service's clock an event may be
	// dated before it is dead-lettered as bad_time; 0: 10 minutes.
	MaxClockSkew time.Duration
	// StallAfter is how long events may wait with none processed before
	// Ready reports the pipeline stalled; 0: 30 seconds.
	StallAfter time.Duration
	// Partitioned shares the events with other instances on the same NATS:
	// every instance counts every event, and JetStream pins each partition's
	// judging to one of them (pipeline.Config.Partitioned). All instances
	// on one NATS must agree.
	Partitioned bool

	Replicas int

	// NATSTLSCert and NATSTLSKey serve the embedded server's client port
	// over TLS. The embedded server never takes anonymous clients: it
	// creates credentials in DataDir/nats (natsbus.CredsPath).
	NATSTLSCert, NATSTLSKey string
	// NATSExternal is how the service authenticates to the server at
	// NATSURL: credentials or an nkey, a CA, a client certificate.
	NATSExternal natsbus.ExternalConfig
	// NATSCluster makes the embedded server a member of a cluster.
	NATSCluster natsbus.ClusterConfig

	// TokenKeyFile is the Ed25519 key that signs and verifies bearer
	// tokens; empty: auth.DefaultKeyFile(DataDir), created on first start.
	// TokenKeyPEM, when set, is the key itself (from the environment).
	TokenKeyFile string
	TokenKeyPEM  string
	// InsecureDev serves gRPC without authentication. Loudly logged.
	InsecureDev bool
	// TLSCert and TLSKey serve gRPC over TLS; ClientCA also requires
	// client certificates signed by it (mTLS).
	TLSCert, TLSKey, ClientCA string
	// OwnerRate and OwnerBurst limit each owner account's calls; 0: 5/s,
	// bursts of 20.
	OwnerRate  float64
	OwnerBurst int

	// Appeals: how long a measure can be appealed (for manual measures and
	// decisions without a deadline; policy decisions carry their own), how
	// long a reviewer's claim holds, how many appeals an account may file a
	// day, and how often closed accounts are swept for purge eligibility.
	AppealWindow        time.Duration
	AppealLease         time.Duration
	AppealFilingsPerDay int
	PurgeSweep          time.Duration
	// A rule whose decisions are overturned on appeal more often than
	// OverturnAlertRate (of at least OverturnAlertMin decided appeals) is
	// reported; with ShadowOverturnedRules its verdicts are then recorded
	// and not enforced until the rate falls again.
	OverturnAlertRate     float64
	OverturnAlertMin      int
	ShadowOverturnedRules bool
	// CrashAfterStateWrite names an account-change path (judge, manual,
	// appeal, reevaluate, purge) after whose state write the process kills
	// itself: how the tests rehearse a crash between the write and the
	// publish. Empty in normal use.
	CrashAfterStateWrite string
	Log                  *slog.Logger
}

// Service is a running instance.
type Service struct {
	cfg      Config
	log      *slog.Logger
	ns       *server.Server // nil with an external NATS
	nc       *nats.Conn
	JS       jetstream.JetStream
	Streams  *natsbus.Streams
	Pipeline *pipeline.Pipeline
	View     *enforcement.View
	Registry *prometheus.Registry

	NATSURL     string
	GRPCAddr    string
	HTTPAddr    string
	ConsoleAddr string // the reviewer console's, when it is served

	Appeals *appeals.Service
	known   policyVersions

	reloaders  []*judge.Reloader
	issuer     *auth.Issuer
	grpc       *grpc.Server
	health     *health.Server
	http       *http.Server
	console    *http.Server     // the reviewer console, if served
	consoleAPI *grpc.ClientConn // its connection to the gRPC API
	cancel     context.CancelFunc
	pipelineNC *nats.Conn // the pipeline's own connection
	lock       *os.File   // held on the data dir while running
	running    sync.WaitGroup
	started    chan struct{}
	failed     chan struct{} // closed on the first failure of a running part
	errOnce    sync.Once
	err        error

	// streams ends the open API streams (watches) when Stop begins.
	streams context.CancelFunc
}

// Start brings the service up and returns once it listens everywhere. The
// pipeline rebuilds its windows in the background; Ready reports when it
// consumes live events.
func Start(ctx context.Context, cfg Config) (_ *Service, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	s := &Service{cfg: cfg, log: cfg.Log, failed: make(chan struct{}), started: make(chan struct{}), Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Readers skip and report records they cannot decode (DESIGN.md,
	// reliability): one counter for the process, logged on this service's log.
	s.Registry.MustRegister(natsbus.SkippedRecords)
	natsbus.ReportSkipsTo(s.log)

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if s.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	s.NATSURL = cfg.NATSURL
	var natsOpts []nats.Option
	if s.NATSURL == "" {
		embedded := natsbus.EmbeddedConfig{
			Listen: cfg.NATSListen, StoreDir: filepath.Join(cfg.DataDir, "jetstream"), SyncAlways: cfg.NATSSyncAlways,
			DataDir: cfg.DataDir, TLSCert: cfg.NATSTLSCert, TLSKey: cfg.NATSTLSKey,
			Cluster: cfg.NATSCluster, Log: s.log,
		}
		if s.ns, err = natsbus.StartEmbedded(embedded); err != nil {
			return nil, err
		}
		if natsOpts, err = embedded.ClientOptions(); err != nil {
			return nil, err
		}
		s.NATSURL = s.ns.ClientURL()
		s.log.Info("embedded NATS with JetStream listening", "url", s.NATSURL, "store", filepath.Join(cfg.DataDir, "jetstream"),
			"tls", cfg.NATSTLSCert != "", "publisher_creds", natsbus.CredsPath(cfg.DataDir, natsbus.RolePublisher),
			"follower_creds", natsbus.CredsPath(cfg.DataDir, natsbus.RoleFollower),
			"more_creds", "modctl nats-creds -role publisher|follower -name NAME -data-dir "+cfg.DataDir)
	} else if natsOpts, err = cfg.NATSExternal.ClientOptions(); err != nil {
		return nil, err
	}
	s.nc, err = natsbus.Connect(s.NATSURL, "moderationd", append(natsOpts,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil { // our own Close or Drain, as Stop does: nothing to warn of
				s.log.Debug("NATS connection closed")
				return
			}
			s.log.Warn("NATS disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { s.log.Info("NATS reconnected", "url", nc.ConnectedUrl()) }))...)
	if err != nil {
		return nil, err
	}
	if s.JS, err = jetstream.New(s.nc); err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	if s.Streams, err = natsbus.Setup(ctx, s.JS, natsbus.Config{Replicas: cfg.Replicas, DuplicateWindow: cfg.DedupWindow}); err != nil {
		return nil, err
	}
	policy, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		return nil, err
	}
	s.log.Info("policy loaded", "version", policy.Version)

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	if s.View, err = enforcement.Watch(runCtx, s.Streams.Accounts, cfg.CheckCacheBytes, s.nc.IsConnected, s.log); err != nil {
		return nil, err
	}
	store := enforcement.NewStore(s.JS, s.Streams.Accounts)
	store.CrashAfterWrite = cfg.CrashAfterStateWrite
	store.Known = s.View // judging changes accounts without reading the bucket first
	s.goRun("reconciler", func() error { store.Reconcile(runCtx, 5*time.Second, s.log); return nil })
	// The pipeline reads events on a connection of its own: its deliveries
	// would otherwise queue, on the one socket, ahead of the replies its
	// own writes wait for.
	if s.pipelineNC, err = natsbus.Connect(s.NATSURL, "moderationd pipeline", natsOpts...); err != nil {
		return nil, err
	}
	pipelineJS, err := jetstream.New(s.pipelineNC)
	if err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	pipelineStreams := *s.Streams
	if pipelineStreams.Events, err = pipelineJS.Stream(ctx, natsbus.EventsStream); err != nil {
		return nil, fmt.Errorf("open stream %s: %w", natsbus.EventsStream, err)
	}
	s.Pipeline, err = pipeline.New(pipeline.Config{MaxStateBytes: cfg.MaxStateMB << 20, Location: cfg.Location, AdModel: cfg.AdModel, MaxClockSkew: cfg.MaxClockSkew, StallAfter: cfg.StallAfter, Partitioned: cfg.Partitioned}, pipelineJS, &pipelineStreams, store, policy, pipeline.NewMetrics(s.Registry), s.log)
	if err != nil {
		return nil, err
	}
	if s.known.stored, err = openPolicyHistory(ctx, s.JS, cfg.Replicas); err != nil {
		return nil, err
	}
	s.known.log = s.log
	if err := s.watchPolicies(ctx, runCtx, policy); err != nil {
		return nil, err
	}
	if err := s.startAppeals(ctx, runCtx, store); err != nil {
		return nil, err
	}

	grpcLn, err := net.Listen("tcp", cfg.GRPCListen)
	if err != nil {
		return nil, fmt.Errorf("listen for gRPC on %s: %w", cfg.GRPCListen, err)
	}
	s.GRPCAddr = grpcLn.Addr().String()
	verifier, tlsConfig, err := s.apiSecurity()
	if err != nil {
		return nil, err
	}
	streamsCtx, endStreams := context.WithCancel(context.Background())
	s.streams = endStreams
	tokens, err := s.followRevocations(ctx, runCtx, store)
	if err != nil {
		return nil, err
	}
	verifier.CheckRevocations(tokens.revoked)
	authorizer, err := authz.New()
	if err != nil {
		return nil, err
	}
	s.grpc, s.health, err = grpcapi.NewServer(grpcapi.Deps{
		Enforcement: s.View,
		Decisions:   enforcement.NewLog(s.Streams.Decisions),
		Events:      eventlog.New(s.JS, s.Streams.Events),
		Actions:     store,
		Signals:     s.Pipeline,
		Backtester:  backtester{svc: s},
		Audit:       transparency.NewTrail(s.Streams.Decisions),
		Appeals:     s.Appeals,
		Reevaluator: reevaluator{svc: s, store: store},
		Verifier:    verifier,
		Issuer:      s.issuer,
		Tokens:      tokens,
		Authorizer:  authorizer,
		Policies:    policyInfo{svc: s},
		Metrics:     s.Registry,
	}, grpcapi.Options{
		DenyUnknownWhenStale: cfg.DenyUnknownWhenStale,
		InsecureDev:          cfg.InsecureDev,
		TLS:                  tlsConfig,
		OwnerRate:            cfg.OwnerRate,
		OwnerBurst:           cfg.OwnerBurst,
		MaxClockSkew:         cfg.MaxClockSkew,
		AppealWindow:         cmp.Or(cfg.AppealWindow, policy.AppealWindow),
		Registry:             s.Registry,
		EndStreams:           streamsCtx.Done(),
	}, s.log)
	if err != nil {
		grpcLn.Close()
		return nil, fmt.Errorf("build gRPC server: %w", err)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	s.goRun("gRPC server", func() error { return s.grpc.Serve(grpcLn) })
	if cfg.ConsoleListen != "" {
		if err := s.startConsole(verifier, authorizer, tlsConfig); err != nil {
			return nil, err
		}
	}

	httpLn, err := net.Listen("tcp", cfg.HTTPListen)
	if err != nil {
		return nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPListen, err)
	}
	s.HTTPAddr = httpLn.Addr().String()
	s.http = &http.Server{Handler: opshttp.Handler(s.Registry, s.Ready), ReadHeaderTimeout: 5 * time.Second}
	s.goRun("HTTP server", func() error {
		if err := s.http.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	s.goRun("pipeline", func() error { return s.Pipeline.Run(runCtx, s.started) })
	go func() { _ = s.WaitReady(runCtx) }() // flips gRPC health to SERVING
	s.log.Info("moderation service listening", "grpc", s.GRPCAddr, "http", s.HTTPAddr, "nats", s.NATSURL)
	return s, nil
}

// watchPolicies loads the live policy's directory or bundle and the shadow
// directory, if configured, and keeps reloading them. One that fails at
// start leaves the embedded policy (or no shadow) running, loudly, until it
// is fixed; only a configuration that can never load anything (no bundle
// key, or a directory and a bundle at once) stops the start.
func (s *Service) watchPolicies(ctx, runCtx context.Context, embedded *judge.Policy) error {
	m := newPolicyMetrics(s.Registry)
	m.loaded("live", embedded)
	s.known.add("live", embedded)
	report := func(label string) func(*judge.Policy, error) {
		return func(p *judge.Policy, err error) {
			if err != nil {
				m.refused(label)
				return
			}
			m.loaded(label, p)
			s.known.add(label, p)
		}
	}
	for _, dir := range []struct {
		label, path string
		apply       func(*judge.Policy)
	}{
		{"live", s.cfg.PolicyDir, s.Pipeline.SetPolicy},
		{"shadow", s.cfg.ShadowPolicyDir, s.Pipeline.SetShadow},
	} {
		if dir.path != "" {
			s.reloaders = append(s.reloaders, judge.NewReloader(dir.path, dir.label, dir.apply, report(dir.label), s.cfg.PolicyPoll, s.log))
		}
	}
	if s.cfg.PolicyBundle != "" {
		if s.cfg.PolicyDir != "" {
			return errors.New("policy: a policy directory and a policy bundle both replace the live policy; configure one")
		}
		if s.cfg.PolicyBundleKey == "" {
			return errors.New("policy bundle: no key to verify its signature (unsigned bundles are refused)")
		}
		key, err := judge.LoadBundleKey(s.cfg.PolicyBundleKey, s.cfg.PolicyBundleAlg)
		if err != nil {
			return err
		}
		r, err := judge.NewBundleReloader(s.cfg.PolicyBundle, key, "live", s.Pipeline.SetPolicy, report("live"), s.cfg.PolicyPoll, s.log)
		if err != nil {
			return err
		}
		s.reloaders = append(s.reloaders, r)
	}
	for _, r := range s.reloaders {
		_, _ = r.Load(ctx) // reported inside; a refusal keeps what runs
		go r.Run(runCtx)
	}
	return nil
}

// Reload asks every policy directory and bundle to be looked at now (SIGHUP).
func (s *Service) Reload() {
	for _, r := range s.reloaders {
		r.Trigger()
	}
}

func (s *Service) goRun(name string, fn func() error) {
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		if err := fn(); err != nil {
			s.errOnce.Do(func() {
				s.err = fmt.Errorf("%s: %w", name, err)
				close(s.failed)
			})
		}
	}()
}

// Failed is closed when a running part fails; Err then says which and why.
func (s *Service) Failed() <-chan struct{} { return s.failed }

// Err is the first failure of a running part, nil while all run.
func (s *Service) Err() error {
	select {
	case <-s.failed:
		return s.err
	default:
		return nil
	}
}

// Ready is nil once NATS is connected, enforcement state is loaded and the
// pipeline consumes live events, and for as long as the pipeline advances:
// events waiting with none processed for StallAfter make it an error.
func (s *Service) Ready() error {
	select {
	case <-s.started:
	default:
		return errors.New("pipeline is rebuilding detector windows")
	}
	select {
	case <-s.View.Ready():
	default:
		return errors.New("enforcement state is loading")
	}
	if !s.nc.IsConnected() {
		return errors.New("NATS is disconnected")
	}
	return s.Pipeline.Stalled(context.Background())
}

// WaitReady blocks until Ready or ctx ends.
func (s *Service) WaitReady(ctx context.Context) error {
	for {
		if s.Ready() == nil {
			s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for service: %w (%v)", ctx.Err(), s.Ready())
		case <-s.failed:
			return s.err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop shuts down in order: stop taking work (gRPC, pipeline), finish what
// is in hand, drain NATS, stop the embedded server. It is safe to call on a
// partly started service.
func (s *Service) Stop() {
	if s.health != nil {
		s.health.Shutdown()
	}
	if s.streams != nil {
		s.streams() // watches end now, so GracefulStop need not wait them out
	}
	if s.console != nil {
		// The console first: its pages call the gRPC API.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.console.Shutdown(ctx)
		cancel()
	}
	if s.consoleAPI != nil {
		s.consoleAPI.Close()
	}
	if s.grpc != nil {
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			s.grpc.Stop()
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
	}
	s.running.Wait()
	if s.pipelineNC != nil {
		s.pipelineNC.Close() // the pipeline has stopped: nothing in flight
	}
	if s.nc != nil {
		closed := make(chan struct{})
		s.nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
		if err := s.nc.Drain(); err == nil {
			select {
			case <-closed:
			case <-time.After(3 * time.Second):
			}
		}
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	if s.lock != nil {
		s.lock.Close() // releases the data dir
	}
}
