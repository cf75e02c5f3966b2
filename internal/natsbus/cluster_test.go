package natsbus_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// member is one embedded server of a test cluster.
type member struct {
	name    string
	dataDir string
	listen  string   // route address
	routes  []string // every member's
	ns      *server.Server
	log     *syncBuffer
}

// syncBuffer is a log a server writes from its own goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePorts reserves n TCP ports on 127.0.0.1 and frees them for the
// servers: every member's routes must name the others' ports before any
// of them starts.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// copyTrust copies the trust directory of one member's data dir to
// another's, as an operator copies it from the first machine to the next.
func copyTrust(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(natsbus.TrustDir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(natsbus.TrustDir(from))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(natsbus.TrustDir(from), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(natsbus.TrustDir(to), e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func startMember(t *testing.T, name, dataDir, listen string, routes []string) *member {
	t.Helper()
	m := &member{name: name, dataDir: dataDir, listen: listen, routes: routes, log: &syncBuffer{}}
	ns, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{
		Listen: "127.0.0.1:-1", StoreDir: filepath.Join(dataDir, "jetstream"), DataDir: dataDir,
		Cluster: natsbus.ClusterConfig{Listen: listen, Routes: routes, ServerName: name},
		Log:     slog.New(slog.NewTextHandler(m.log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	m.ns = ns
	t.Cleanup(m.stop)
	return m
}

func (m *member) stop() { m.ns.Shutdown(); m.ns.WaitForShutdown() }

// startCluster starts three members that route to each other, as the
// README has an operator do: the first creates the trust directory, which
// is copied to the others before they start.
func startCluster(t *testing.T) []*member {
	t.Helper()
	routes := freePorts(t, 3)
	var ms []*member
	first := t.TempDir()
	for i, listen := range routes {
		dir := first
		if i > 0 {
			dir = t.TempDir()
			copyTrust(t, first, dir)
		}
		ms = append(ms, startMember(t, fmt.Sprintf("m%d", i+1), dir, listen, routes))
	}
	return ms
}

// connect connects to m as role, with m's copy of the credentials.
func (m *member) connect(t *testing.T, role string) jetstream.JetStream {
	t.Helper()
	nc, err := natsbus.Connect(m.ns.ClientURL(), "test-"+m.name, natsbus.As(m.dataDir, role))
	if err != nil {
		t.Fatalf("connect to %s as %s: %v", m.name, role, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// eventually retries fn until it succeeds or the minute is up: a
// cluster elects leaders after a start or a loss, and answers only then.
// Each attempt has 10 seconds of its own: a request made before a leader
// is elected may never be answered.
func eventually(t *testing.T, what string, fn func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := fn(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after a minute: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// remoteNames are the server names m has routes to.
func (m *member) remoteNames(t *testing.T) []string {
	t.Helper()
	rz, err := m.ns.Routez(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var names []string
	for _, r := range rz.Routes {
		if !seen[r.RemoteName] {
			seen[r.RemoteName] = true
			names = append(names, r.RemoteName)
		}
	}
	slices.Sort(names)
	return names
}

// TestClusterReplicates: three embedded members form a cluster; Setup
// declares everything with three replicas; credentials issued on one
// member work on another; events published to one member are consumed
// through another; and when the member leading the events stream stops,
// the other two go on taking events and delivering them, the consumer's
// acknowledgements and the buckets' values intact.
func TestClusterReplicates(t *testing.T) {
	ms := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Setup waits for the cluster to elect its leaders.
	streams, err := natsbus.Setup(ctx, ms[1].connect(t, natsbus.RoleService), natsbus.Config{Replicas: 3})
	if err != nil {
		t.Fatalf("setup with 3 replicas: %v", err)
	}
	for _, s := range []jetstream.Stream{streams.Events, streams.Decisions, streams.DLQ} {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Errorf("stream %s: replicas %d, cluster %+v; want 3 replicas, a leader and two followers", info.Config.Name, info.Config.Replicas, info.Cluster)
		}
	}
	for _, kv := range []jetstream.KeyValue{streams.Accounts, streams.Appeals, streams.Revocations} {
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 3 {
			t.Errorf("bucket %s: %d replicas, want 3", st.Bucket(), st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas)
		}
	}

	// A publisher issued credentials on m2 (as modctl nats-creds does)
	// connects to m1: every member trusts the same account.
	trust, err := natsbus.LoadTrust(ms[1].dataDir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := trust.UserCreds(natsbus.RolePublisher, "svc-test", 0)
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(t.TempDir(), "svc.creds")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	publishers := map[string]jetstream.JetStream{}
	services := map[string]jetstream.JetStream{}
	for _, m := range ms {
		nc, err := natsbus.Connect(m.ns.ClientURL(), "test-publisher", nats.UserCredentials(credsFile))
		if err != nil {
			t.Fatalf("publisher with credentials issued on m2, connecting to %s: %v", m.name, err)
		}
		t.Cleanup(nc.Close)
		if publishers[m.name], err = jetstream.New(nc); err != nil {
			t.Fatal(err)
		}
		services[m.name] = m.connect(t, natsbus.RoleService)
	}
	publish := func(via string, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			// Retried under the same id until acknowledged: stored once.
			eventually(t, fmt.Sprintf("publish event %d through %s", i, via), func(ctx context.Context) error {
				_, err := publishers[via].Publish(ctx, fmt.Sprintf("mod.events.friend_add.acct_%d", i), []byte(fmt.Sprintf(`{"id":"e-%d"}`, i)),
					jetstream.WithMsgID(fmt.Sprintf("e-%d", i)))
				return err
			})
		}
	}
	consume := func(via string, want int) []string {
		t.Helper()
		var got []string
		eventually(t, fmt.Sprintf("consume %d events through %s", want, via), func(ctx context.Context) error {
			c, err := services[via].CreateOrUpdateConsumer(ctx, natsbus.EventsStream, jetstream.ConsumerConfig{
				Durable: "test", AckPolicy: jetstream.AckExplicitPolicy,
			})
			if err != nil {
				return err
			}
			batch, err := c.Fetch(want-len(got), jetstream.FetchMaxWait(time.Second))
			if err != nil {
				return err
			}
			for msg := range batch.Messages() {
				if err := msg.DoubleAck(ctx); err != nil {
					return err // delivered again: read it then
				}
				got = append(got, string(msg.Data()))
			}
			if len(got) < want {
				return fmt.Errorf("%d of %d so far (%v)", len(got), want, batch.Error())
			}
			return nil
		})
		return got
	}

	publish("m1", 0, 5)
	if got := consume("m3", 5); len(got) != 5 || got[0] != `{"id":"e-0"}` || got[4] != `{"id":"e-4"}` {
		t.Fatalf("consumed through m3 %v, want e-0 to e-4 as published through m1", got)
	}
	if _, err := streams.Accounts.Put(ctx, "acct_1", []byte("suspended")); err != nil {
		t.Fatal(err)
	}

	// Stop the member leading the events stream: the worst one to lose.
	info, err := streams.Events.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var survivors []string
	for _, m := range ms {
		if m.name == info.Cluster.Leader {
			m.stop()
			t.Logf("stopped %s, the events stream's leader", m.name)
		} else {
			survivors = append(survivors, m.name)
		}
	}
	if len(survivors) != 2 {
		t.Fatalf("events stream leader %q is none of the members", info.Cluster.Leader)
	}

	publish(survivors[0], 5, 10)
	got := consume(survivors[1], 5)
	if len(got) != 5 || got[0] != `{"id":"e-5"}` || got[4] != `{"id":"e-9"}` {
		t.Errorf("consumed through %s after the loss %v, want e-5 to e-9: nothing lost, nothing acknowledged delivered again", survivors[1], got)
	}
	var entry jetstream.KeyValueEntry
	eventually(t, "read the bucket after the loss", func(ctx context.Context) error {
		kv, err := services[survivors[1]].KeyValue(ctx, natsbus.AccountsBucket)
		if err != nil {
			return err
		}
		entry, err = kv.Get(ctx, "acct_1")
		return err
	})
	if string(entry.Value()) != "suspended" {
		t.Errorf("acct_1 after the loss: %q, want what was put before it", entry.Value())
	}
	// A service starting now, with one member down, finds everything.
	if _, err := natsbus.Setup(ctx, services[survivors[0]], natsbus.Config{Replicas: 3}); err != nil {
		t.Errorf("setup with one member of three down: %v", err)
	}
}

// TestClusterRefusesStrangers: a route is accepted only from a process
// presenting the cluster's route certificate. A server that routes
// without TLS, and a moderation server with a route certificate of its own
// (a trust directory not copied from the cluster), are refused: neither
// joins, and the members stay among themselves.
func TestClusterRefusesStrangers(t *testing.T) {
	ms := startCluster(t)
	target := ms[0]
	eventually(t, "the cluster's routes", func(ctx context.Context) error {
		if got := target.remoteNames(t); !slices.Equal(got, []string{"m2", "m3"}) {
			return fmt.Errorf("m1 routes to %v", got)
		}
		return nil
	})
	routeURL := []*url.URL{{Scheme: "nats", Host: target.ns.ClusterAddr().String()}}

	refused := func(t *testing.T, stranger *server.Server) {
		t.Helper()
		before := strings.Count(target.log.String(), "TLS route handshake error")
		eventually(t, "m1 refusing the stranger's route", func(ctx context.Context) error {
			if n := stranger.NumRoutes(); n > 0 {
				t.Fatalf("the stranger joined the cluster: %d routes", n)
			}
			if strings.Count(target.log.String(), "TLS route handshake error") <= before {
				return errors.New("no refusal in m1's log yet")
			}
			return nil
		})
		if n := stranger.NumRoutes(); n != 0 {
			t.Errorf("the stranger has %d routes, want none", n)
		}
		if got := target.remoteNames(t); !slices.Equal(got, []string{"m2", "m3"}) {
			t.Errorf("m1 routes to %v, want m2 and m3 only", got)
		}
	}

	t.Run("no TLS", func(t *testing.T) {
		ns, err := server.NewServer(&server.Options{
			ServerName: "stranger", Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: natsbus.DefaultClusterName, Host: "127.0.0.1", Port: -1},
			Routes:  routeURL,
		})
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		refused(t, ns)
	})
	t.Run("a route certificate of its own", func(t *testing.T) {
		stranger := startMember(t, "stranger", t.TempDir(), "127.0.0.1:-1", []string{target.ns.ClusterAddr().String()})
		refused(t, stranger.ns)
	})
}

// TestClusterConfigRefused: settings that cannot make a member are refused
// before the server starts.
func TestClusterConfigRefused(t *testing.T) {
	halfCopied := t.TempDir()
	startMember(t, "alone", halfCopied, "127.0.0.1:-1", []string{"127.0.0.1:1"}).stop()
	if err := os.Remove(filepath.Join(natsbus.TrustDir(halfCopied), "route.key")); err != nil {
		t.Fatalf("the first clustered start left no route key: %v", err)
	}
	for _, tc := range []struct {
		name    string
		dataDir string
		cluster natsbus.ClusterConfig
		wantErr string
	}{
		{"no routes", t.TempDir(), natsbus.ClusterConfig{Listen: "127.0.0.1:-1", ServerName: "a"}, "no routes"},
		{"credentials in a route", t.TempDir(), natsbus.ClusterConfig{Listen: "127.0.0.1:-1", ServerName: "a", Routes: []string{"nats://u:secret@10.0.0.2:6222"}}, "no credentials in routes"},
		{"a route without a port", t.TempDir(), natsbus.ClusterConfig{Listen: "127.0.0.1:-1", ServerName: "a", Routes: []string{"10.0.0.2"}}, "want host:port"},
		{"a random port and no name", t.TempDir(), natsbus.ClusterConfig{Listen: "127.0.0.1:-1", Routes: []string{"10.0.0.2:6222"}}, "needs a server name"},
		{"a route certificate without its key", halfCopied, natsbus.ClusterConfig{Listen: "127.0.0.1:-1", ServerName: "a", Routes: []string{"10.0.0.2:6222"}}, "load nats route certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(tc.dataDir, "jetstream"), DataDir: tc.dataDir, Cluster: tc.cluster})
			if err == nil {
				ns.Shutdown()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestClusterSetupWaitsForMembers: the first member of a cluster to start
// cannot elect a leader alone; a service on it waits in Setup until the
// others start, instead of failing on the first unanswered request.
func TestClusterSetupWaitsForMembers(t *testing.T) {
	routes := freePorts(t, 3)
	first := startMember(t, "m1", t.TempDir(), routes[0], routes)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	js := first.connect(t, natsbus.RoleService)
	go func() {
		_, err := natsbus.Setup(ctx, js, natsbus.Config{Replicas: 3})
		done <- err
	}()
	// m1 reports it waits for the others, so Setup is waiting too.
	eventually(t, "m1 reporting it waits for routes", func(ctx context.Context) error {
		if !strings.Contains(first.log.String(), "Waiting for routing to be established") {
			return errors.New("not yet")
		}
		return nil
	})
	select {
	case err := <-done:
		t.Fatalf("Setup returned %v with one member of three", err)
	default:
	}
	for i, listen := range routes[1:] {
		dir := t.TempDir()
		copyTrust(t, first.dataDir, dir)
		startMember(t, fmt.Sprintf("m%d", i+2), dir, listen, routes)
	}
	if err := <-done; err != nil {
		t.Fatalf("Setup once the others started: %v", err)
	}
}

// TestClusterStoreKind: a lone server's store is refused to a cluster
// member (which would declare the streams anew over it, its history out
// of view), and a member's store to a lone server; a member restarted as
// itself finds what the cluster stored.
func TestClusterStoreKind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	routes := freePorts(t, 3)

	lone := t.TempDir()
	loneServer := startEmbedded(t, lone)
	loneMember := &member{name: "lone", dataDir: lone, ns: loneServer}
	if _, err := natsbus.Setup(ctx, loneMember.connect(t, natsbus.RoleService), natsbus.Config{}); err != nil {
		t.Fatal(err)
	}
	loneMember.stop()
	_, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(lone, "jetstream"), DataDir: lone,
		Cluster: natsbus.ClusterConfig{Listen: routes[0], Routes: routes, ServerName: "m1"}})
	if err == nil || !strings.Contains(err.Error(), "written by a lone server") {
		t.Errorf("a lone server's store under a cluster member: got %v, want it refused", err)
	}

	ms := startCluster(t)
	streams, err := natsbus.Setup(ctx, ms[0].connect(t, natsbus.RoleService), natsbus.Config{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := streams.Accounts.Put(ctx, "acct_1", []byte("suspended")); err != nil {
		t.Fatal(err)
	}
	m1 := ms[0]
	m1.stop()
	_, err = natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(m1.dataDir, "jetstream"), DataDir: m1.dataDir})
	if err == nil || !strings.Contains(err.Error(), "belongs to a cluster member") {
		t.Errorf("a member's store under a lone server: got %v, want it refused", err)
	}

	// Restarted as itself, m1 rejoins: the bucket keeps its replica there.
	m1 = startMember(t, "m1", m1.dataDir, m1.listen, m1.routes)
	js := m1.connect(t, natsbus.RoleService)
	eventually(t, "m1 back among the bucket's replicas, with the value", func(ctx context.Context) error {
		kv, err := js.KeyValue(ctx, natsbus.AccountsBucket)
		if err != nil {
			return err
		}
		st, err := kv.Status(ctx)
		if err != nil {
			return err
		}
		ci := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Cluster
		peers := []string{ci.Leader}
		for _, r := range ci.Replicas {
			if r.Current {
				peers = append(peers, r.Name)
			}
		}
		if !slices.Contains(peers, "m1") {
			return fmt.Errorf("current peers %v", peers)
		}
		e, err := kv.Get(ctx, "acct_1")
		if err != nil {
			return err
		}
		if string(e.Value()) != "suspended" {
			return fmt.Errorf("acct_1 is %q", e.Value())
		}
		return nil
	})
}
