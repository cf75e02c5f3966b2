// Package natsbus connects the service to NATS JetStream: it runs the
// embedded server when no external one is given, alone or as a member of
// a cluster (cluster.go), with its own operator, accounts and per-role
// credentials (auth.go), and declares the streams and buckets the service
// keeps all its state in. It knows nothing of detectors, policies or gRPC.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of what the service keeps in JetStream. Platform services rely on
// the subjects (see DESIGN.md, contracts); the stream and bucket names are
// ours.
const (
	EventsStream    = "EVENTS"
	EventsSubjects  = "mod.events.>"
	DecisionsStream = "DECISIONS"
	DLQStream       = "DLQ"
	DLQSubjects     = "mod.dlq.>"
	AccountsBucket  = "ACCOUNTS"
	AppealsBucket   = "APPEALS"
	PipelineDurable = "pipeline"

	// RevocationsBucket holds revoked API token ids; every instance
	// follows it into memory and refuses those tokens.
	RevocationsBucket = "REVOCATIONS"

	// SnapshotsBucket is the object store of the pipeline's snapshots of
	// its detector windows, so a restart replays only what came after
	// (pipeline/snapshot.go).
	SnapshotsBucket = "SNAPSHOTS"

	// EnforcementPrefix + account is where enforcement changes are published.
	// The DECISIONS stream captures these subjects, so one publish is both
	// the notification platform services subscribe to and the audit record.
	EnforcementPrefix = "mod.enforcement."
	AuditPrefix       = "mod.audit."
	// PurgePrefix + account tells the platform a closed account may now be
	// purged: its appeal window passed with no appeal open.
	PurgePrefix = "mod.purge."
)

// Headers on dead letters.
const (
	HeaderError           = "Mod-Error"
	HeaderReason          = "Mod-Reason"
	HeaderOriginalSubject = "Mod-Original-Subject"
	HeaderOriginalSeq     = "Mod-Original-Seq"
)

// EmbeddedConfig configures the embedded server.
type EmbeddedConfig struct {
	Listen     string // host:port for outside clients; port -1 picks a free one
	StoreDir   string
	SyncAlways bool // fsync every write: survives power loss, costs throughput
	// DataDir holds the server's trust in DataDir/nats: operator and
	// account keys, and the credentials of each role (see CredsPath).
	DataDir string
	// TLSCert and TLSKey, when set, serve the client port over TLS only.
	TLSCert, TLSKey string
	// Cluster, when Cluster.Listen is set, makes the server a member of a
	// cluster (cluster.go); by default it runs alone.
	Cluster ClusterConfig
	// Log receives what a cluster member's server reports (serverLog);
	// nil: nothing.
	Log *slog.Logger
}

// StartEmbedded runs a nats-server with JetStream inside this process. It
// listens for outside clients so platform services and the nats CLI can
// publish to it, and accepts only users signed by its own account (see
// Trust): never an anonymous client.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	host, port, err := splitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address: %w", err)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("start embedded nats server: no data dir for its keys and credentials")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("start embedded nats server: a TLS certificate needs its key, and a key its certificate")
	}
	trust, err := LoadOrCreateTrust(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := adoptAnonymousStore(cfg.StoreDir, trust); err != nil {
		return nil, err
	}
	if err := checkStoreKind(cfg.StoreDir, trust, cfg.Cluster.Clustered()); err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "moderation",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		SyncAlways: cfg.SyncAlways,
		NoSigs:     true, // the service owns signal handling
		NoLog:      true,
		MaxPayload: 1 << 20,
	}
	if err := trust.configure(opts); err != nil {
		return nil, err
	}
	if cfg.Cluster.Clustered() {
		if err := cfg.Cluster.configure(opts, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if cfg.TLSCert != "" {
		if opts.TLSConfig, err = server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey}); err != nil {
			return nil, fmt.Errorf("load nats tls certificate: %w", err)
		}
		opts.TLS = true
		opts.TLSTimeout = 2
	}
	// The server would only time out on a port in use, logging it nowhere
	// when alone; say so at once.
	for _, addr := range []struct{ what, hostport string }{{"", cfg.Listen}, {"routes ", cfg.Cluster.Listen}} {
		if _, port, _ := splitHostPort(addr.hostport); port > 0 {
			ln, err := net.Listen("tcp", addr.hostport)
			if err != nil {
				return nil, fmt.Errorf("embedded nats server cannot listen for %son %s: %w", addr.what, addr.hostport, err)
			}
			ln.Close()
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("create embedded nats server: %w", err)
	}
	if cfg.Cluster.Clustered() && cfg.Log != nil {
		ns.SetLoggerV2(serverLog{cfg.Log}, false, false, false)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats server not ready after 15s")
	}
	return ns, nil
}

// ClientOptions are how the service connects to the server it embeds: as
// its own service user and, over TLS, trusting the certificate it serves.
func (cfg EmbeddedConfig) ClientOptions() ([]nats.Option, error) {
	opts := []nats.Option{As(cfg.DataDir, RoleService)}
	if cfg.TLSCert != "" {
		tc, err := pinnedTLS(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// ExternalConfig is how the service authenticates to an external server:
// a .creds file or an nkey seed, and TLS with a CA and a client
// certificate, each optional.
type ExternalConfig struct {
	Creds    string // user JWT and seed (.creds)
	NKeySeed string // file holding a user nkey seed
	CA       string // CA (PEM) that signed the server's certificate
	Cert     string // client certificate (PEM), for servers that verify clients
	Key      string // key (PEM) of Cert
}

// ClientOptions turns the configuration into connection options. The
// service's inbox prefix is among them: give its user subscribe permission
// on _MOD_INBOX.> and deny it to everyone else.
func (cfg ExternalConfig) ClientOptions() ([]nats.Option, error) {
	opts := []nats.Option{ServiceInbox()}
	if cfg.Creds != "" && cfg.NKeySeed != "" {
		return nil, errors.New("nats credentials: a .creds file or an nkey seed, not both")
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.NKeySeed != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("read nats nkey seed %s: %w", cfg.NKeySeed, err)
		}
		opts = append(opts, o)
	}
	if cfg.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.CA))
	}
	if (cfg.Cert == "") != (cfg.Key == "") {
		return nil, errors.New("nats client certificate: the certificate and its key go together")
	}
	if cfg.Cert != "" {
		opts = append(opts, nats.ClientCert(cfg.Cert, cfg.Key))
	}
	return opts, nil
}

// adoptAnonymousStore moves the streams a server without accounts kept (in
// its global account, $G) to the application account, once: a data dir
// from before accounts keeps its events, decisions and buckets.
func adoptAnonymousStore(storeDir string, trust *Trust) error {
	pub, err := trust.accountPublicKey()
	if err != nil {
		return err
	}
	root := filepath.Join(storeDir, server.JetStreamStoreDir)
	from, to := filepath.Join(root, server.DEFAULT_GLOBAL_ACCOUNT), filepath.Join(root, pub)
	if _, err := os.Stat(from); err != nil {
		return nil // nothing to adopt
	}
	if _, err := os.Stat(to); err == nil {
		return nil // adopted before; the old directory is left as it was
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("move streams to the application account: %w", err)
	}
	return nil
}

// Connect dials NATS with reconnects that never give up: a service that
// outlives a NATS restart must not need one itself.
func Connect(url, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats at %s: %w", url, err)
	}
	return nc, nil
}

// DefaultEventsMaxAge is how long events are kept: longer than the longest
// detector window (30 days, detectors.MaxWindow), so a restart can rebuild
// every window.
const DefaultEventsMaxAge = 31 * 24 * time.Hour

// Config sizes what Setup declares.
type Config struct {
	Replicas        int           // 1 on the embedded server, 3 on a cluster
	EventsMaxAge    time.Duration // retention of events; detectors rebuild from it
	DuplicateWindow time.Duration // Nats-Msg-Id de-duplication of events
}

// Defaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.EventsMaxAge == 0 {
		c.EventsMaxAge = DefaultEventsMaxAge
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	return c
}

// Streams is what Setup declared.
type Streams struct {
	Events jetstream.Stream
	// Partitioned is whether the events stream adds each event's partition
	// to its subject (a server of 2.10 or later).
	Partitioned bool
	Decisions   jetstream.Stream
	DLQ         jetstream.Stream
	Accounts    jetstream.KeyValue
	Appeals     jetstream.KeyValue
	// Revocations is keyed by token id (jti).
	Revocations jetstream.KeyValue
	Snapshots   jetstream.ObjectStore
}

// Setup creates or updates, idempotently, every stream and bucket the
// service needs, as soon as JetStream can (WhenAvailable).
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) (*Streams, error) {
	var s *Streams
	err := WhenAvailable(ctx, func(ctx context.Context) (err error) {
		s, err = declare(ctx, js, cfg)
		return err
	})
	return s, err
}

// WhenAvailable runs declare, which creates or updates streams or buckets
// idempotently, until it succeeds. While JetStream answers "not now" it
// tries again until ctx ends: a cluster member starts before there is a
// majority of members to elect a leader, and waits for the others for as
// long as they take; instances starting together on a cluster race to
// create the same stream, and those that lose may get no answer.
// Requests left unanswered are tried again for setupSilence at most: a
// cluster electing a leader answers none for a few seconds, but neither
// does a server whose permissions drop the request, which would otherwise
// be waited on for ever.
func WhenAvailable(ctx context.Context, declare func(ctx context.Context) error) error {
	answered := time.Now()
	for {
		// A request made while there is no leader is not answered: each
		// attempt has a time of its own, so a late leader is not missed.
		actx, cancel := context.WithTimeout(ctx, setupAttempt)
		err := declare(actx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		switch notNow, unanswered := unavailable(err); {
		case notNow:
			answered = time.Now()
		case !unanswered || time.Since(answered) > setupSilence:
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// setupAttempt bounds one attempt at declaring, setupSilence the time
// WhenAvailable goes on without an answer.
const (
	setupAttempt = 2 * time.Second
	setupSilence = time.Minute
)

// unavailable tells whether err is JetStream saying "not now" (no leader
// yet, too few members up or known for the replicas asked for) or no
// answer in time. JetStream disabled, or replicas on a lone server, are
// neither: they are for good.
func unavailable(err error) (notNow, unanswered bool) {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.ErrorCode(server.JSClusterNotAvailErr), jetstream.ErrorCode(server.JSInsufficientResourcesErr),
			jetstream.ErrorCode(server.JSClusterNoPeersErrF):
			return true, false
		}
		return false, false
	}
	return false, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}

func declare(ctx context.Context, js jetstream.JetStream, cfg Config) (*Streams, error) {
	cfg = cfg.withDefaults()
	var s Streams
	var err error
	events := jetstream.StreamConfig{
		Name:        EventsStream,
		Description: "platform events in: broadcasts, friend requests, complaints",
		Subjects:    []string{EventsSubjects},
		// Stored as mod.events.<kind>.<account>.<partition> (partition.go).
		SubjectTransform: eventsTransform,
		Storage:          jetstream.FileStorage,
		Replicas:         cfg.Replicas,
		MaxAge:           cfg.EventsMaxAge,
		Duplicates:       cfg.DuplicateWindow,
		MaxMsgSize:       1 << 20,
	}
	s.Events, err = js.CreateOrUpdateStream(ctx, events)
	if errors.Is(err, jetstream.ErrStreamSubjectTransformNotSupported) {
		// A server before 2.10 (Debian's 2.9, say) has no subject
		// transforms: events are stored as published and one instance
		// reads them all; sharing them between instances needs the
		// partition token (Streams.Partitioned).
		events.SubjectTransform = nil
		s.Events, err = js.CreateOrUpdateStream(ctx, events)
	}
	if err != nil {
		return nil, fmt.Errorf("declare stream %s: %w", EventsStream, err)
	}
	s.Partitioned = s.Events.CachedInfo().Config.SubjectTransform != nil
	s.Decisions, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DecisionsStream,
		Description: "append-only audit: every enforcement change and every actor's step",
		Subjects:    []string{EnforcementPrefix + "*", AuditPrefix + ">", PurgePrefix + "*"},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		// Decision ids are derived from the triggering event, so a
		// redelivered event is stored once if it comes back within a day.
		Duplicates:  24 * time.Hour,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("declare stream %s: %w", DecisionsStream, err)
	}
	s.DLQ, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DLQStream,
		Description: "events that failed to parse or validate, with the reason",
		Subjects:    []string{DLQSubjects},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      30 * 24 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("declare stream %s: %w", DLQStream, err)
	}
	s.Accounts, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      AccountsBucket,
		Description: "enforcement state per account",
		History:     8,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", AccountsBucket, err)
	}
	s.Appeals, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      AppealsBucket,
		Description: "appeals against decisions, by appeal id",
		// Each claim, lease extension and decision is a revision; 16 keep
		// an appeal's recent writes for inspection (its Steps hold the
		// whole record).
		History:  16,
		Storage:  jetstream.FileStorage,
		Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", AppealsBucket, err)
	}
	s.Revocations, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      RevocationsBucket,
		Description: "revoked API token ids, with who revoked them",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", RevocationsBucket, err)
	}
	s.Snapshots, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      SnapshotsBucket,
		Description: "the pipeline's detector windows as of a stream sequence, replaced as it goes",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", SnapshotsBucket, err)
	}
	return &s, nil
}

// ReadThrough delivers the messages of an ordered consumer, in stream
// order, up to and including stream sequence last, or until the stream has
// no more; fn returning false stops early. It is how history is replayed:
// rebuilding windows, backtests.
func ReadThrough(ctx context.Context, oc jetstream.Consumer, last uint64, fn func(msg jetstream.Msg, meta *jetstream.MsgMetadata) (bool, error)) error {
	for {
		batch, err := oc.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			if meta.Sequence.Stream > last {
				return nil
			}
			more, err := fn(msg, meta)
			if err != nil || !more || meta.Sequence.Stream == last {
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if got == 0 || ctx.Err() != nil {
			return ctx.Err() // the stream ends before last: the rest aged out
		}
	}
}

// FollowKV delivers every entry of a KV watch to apply, in order, and
// calls loaded once, when the values stored at the start have all been
// delivered. It returns when ctx ends, or, reporting closed, when the watch
// was closed under it (the connection closed), which leaves whoever
// follows the bucket behind.
func FollowKV(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry), loaded func()) (closed bool) {
	defer w.Stop()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return false
		case e, ok := <-w.Updates():
			if !ok {
				return ctx.Err() == nil // ending ctx closes the watch too
			}
			if e == nil { // the watcher's marker: every stored key has been sent
				if initial {
					initial = false
					loaded()
				}
				continue
			}
			apply(e)
		}
	}
}
