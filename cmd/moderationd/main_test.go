package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"moderation/internal/auth"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// moderationd builds the real binary once per test run.
func moderationd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "moderationd-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "moderationd")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build moderationd: %v", buildErr)
	}
	return binary
}

// process is a running moderationd and the addresses it logged.
type process struct {
	dataDir string
	cmd     *exec.Cmd
	natsURL string
	grpc    string
	mu      sync.Mutex
	log     strings.Builder
	exited  chan error
}

// start runs moderationd and returns once it listens.
func start(t *testing.T, dataDir string, extra ...string) *process {
	t.Helper()
	p, listening := launch(t, dataDir, extra...)
	select {
	case <-listening:
	case err := <-p.exited:
		t.Fatalf("moderationd exited before listening: %v\n%s", err, p.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("moderationd did not start in 30s\n%s", p.logText())
	}
	return p
}

// as connects to the process's embedded NATS server as role, with the
// credentials it created in its data dir.
func (p *process) as(role string) nats.Option { return natsbus.As(p.dataDir, role) }

// stop sends SIGTERM and fails the test unless the process exits 0 within
// the time given.
func (p *process) stop(t *testing.T, within time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("still running %s after SIGTERM", within)
	}
}

func (p *process) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// connect connects to NATS with opts; to the embedded server, with
// credentials: p.as(role) or svc.NATSAs(role).
func connect(t *testing.T, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// decisions reads every enforcement decision recorded in the decisions
// stream, in order.
func decisions(t *testing.T, js jetstream.JetStream) []moderation.Decision {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []moderation.Decision
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("read decision %d: %v", seq, err)
		}
		if !strings.HasPrefix(m.Subject, natsbus.EnforcementPrefix) {
			continue
		}
		var d moderation.Decision
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatalf("decision %d: %v", seq, err)
		}
		out = append(out, d)
	}
	return out
}

// caughtUp reports whether the pipeline consumer has acknowledged every
// event in the stream.
func caughtUp(ctx context.Context, js jetstream.JetStream, want uint64) bool {
	s, err := js.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		return false
	}
	si, err := s.Info(ctx)
	if err != nil || si.State.Msgs < want {
		return false
	}
	c, err := s.Consumer(ctx, natsbus.PipelineDurable)
	if err != nil {
		return false
	}
	ci, err := c.Info(ctx)
	return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0 && ci.AckFloor.Stream == si.State.LastSeq
}

func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func keyOf(d moderation.Decision) string {
	return d.Account + " " + string(d.Action) + " " + d.DecisionID + " " + d.EventID
}

// TestKillDuringReplay kills moderationd with SIGKILL in the middle of a
// 50,000-event replay, starts it again on the same data dir and replays
// everything again, as a publisher that saw errors would. No event may be
// lost or stored twice, and the decisions must be exactly those of a run
// that was never interrupted: none missing, none duplicated.
func TestKillDuringReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	const n = 50_000
	recs, err := traffic.Synthetic(n, 7)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The reference: the same events through an uninterrupted service.
	ref, err := service.Start(ctx, service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Stop()
	_, refJS := connect(t, ref.NATSURL, ref.NATSAs(natsbus.RoleService))
	if _, err := replay.Publish(ctx, refJS, recs, nil); err != nil {
		t.Fatal(err)
	}
	poll(t, "reference run caught up", 2*time.Minute, func() bool { return caughtUp(ctx, refJS, n) })
	want := decisions(t, refJS)
	if len(want) < 10 {
		t.Fatalf("reference run made %d decisions; the test needs a workload that makes some", len(want))
	}

	for _, kill := range []struct {
		name string
		when func(stored, acked uint64) bool
		// whether decisions must exist at the kill; the publisher outruns
		// the pipeline, so a kill while publishing comes before any.
		decided bool
	}{
		{"while publishing", func(stored, _ uint64) bool { return stored >= n/3 }, false},
		{"while processing", func(_, acked uint64) bool { return acked >= 2*n/3 }, true},
	} {
		t.Run(kill.name, func(t *testing.T) {
			crashRun(t, ctx, recs, want, kill.when, kill.decided)
		})
	}
}

func crashRun(t *testing.T, ctx context.Context, recs []replay.Record, want []moderation.Decision, when func(stored, acked uint64) bool, decided bool) {
	n := uint64(len(recs))
	dir := t.TempDir()
	p := start(t, dir, "--dedup-window", "10m")
	// As the service: the test reads the streams' and consumer's state.
	_, js := connect(t, p.natsURL, p.as(natsbus.RoleService))
	go func() { _, _ = replay.Publish(ctx, js, recs, nil) }() // fails when the server dies; republished below
	var stored, acked uint64
	poll(t, "the kill point", time.Minute, func() bool {
		s, err := js.Stream(ctx, natsbus.EventsStream)
		if err != nil {
			return false
		}
		si, err := s.Info(ctx)
		if err != nil {
			return false
		}
		c, err := s.Consumer(ctx, natsbus.PipelineDurable)
		if err != nil {
			return false
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return false
		}
		stored, acked = si.State.Msgs, ci.AckFloor.Stream
		return when(stored, acked)
	})
	before := len(decisions(t, js))
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	if decided && before == 0 {
		t.Fatalf("no decision was made before the kill; the test would not show that a reprocessed event decides once")
	}
	if acked >= n {
		t.Fatalf("killed at event %d of %d: not in the middle of the replay", acked, n)
	}
	t.Logf("killed with %d of %d events stored, %d acknowledged, %d decisions made", stored, n, acked, before)

	p2 := start(t, dir, "--dedup-window", "10m")
	_, js2 := connect(t, p2.natsURL, p2.as(natsbus.RoleService))
	sum, err := replay.Publish(ctx, js2, recs, nil)
	if err != nil {
		t.Fatalf("replay after restart: %v", err)
	}
	t.Logf("after restart: %d stored, %d already stored before the kill", sum.Stored, sum.Duplicates)
	if sum.Stored+sum.Duplicates != len(recs) {
		t.Errorf("replay after restart acknowledged %d of %d", sum.Stored+sum.Duplicates, len(recs))
	}
	poll(t, "restarted run caught up", 2*time.Minute, func() bool { return caughtUp(ctx, js2, n) })

	s, err := js2.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Msgs != n {
		t.Errorf("events stored: got %d, want %d (lost or duplicated)", si.State.Msgs, n)
	}
	got := decisions(t, js2)
	seen := map[string]bool{}
	for _, d := range got {
		if seen[d.DecisionID] {
			t.Errorf("decision %s (%s %s) recorded twice", d.DecisionID, d.Account, d.Action)
		}
		seen[d.DecisionID] = true
	}
	gotKeys, wantKeys := make([]string, len(got)), make([]string, len(want))
	for i, d := range got {
		gotKeys[i] = keyOf(d)
	}
	for i, d := range want {
		wantKeys[i] = keyOf(d)
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if strings.Join(gotKeys, "\n") != strings.Join(wantKeys, "\n") {
		t.Errorf("decisions after the crash differ from the uninterrupted run:\ngot (%d):\n%s\nwant (%d):\n%s",
			len(gotKeys), strings.Join(gotKeys, "\n"), len(wantKeys), strings.Join(wantKeys, "\n"))
	}
	if !t.Failed() {
		t.Logf("%d decisions, identical to the uninterrupted run", len(got))
	}
}

// TestSIGTERMExitsCleanly: moderationd stops taking work, drains and exits
// 0 well within 10 s of SIGTERM, with events in flight.
func TestSIGTERMExitsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	p := start(t, t.TempDir())
	_, js := connect(t, p.natsURL, p.as(natsbus.RolePublisher))
	recs, err := traffic.Synthetic(5000, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	p.stop(t, 10*time.Second)
	t.Logf("exited 0 in %s", time.Since(began).Round(time.Millisecond))
	if !strings.Contains(p.logText(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log")
	}
}

// token mints a token for id with the key the process created in its
// data dir, as modctl token does.
func (p *process) token(t *testing.T, id auth.Identity) string {
	t.Helper()
	key, err := auth.LoadKey(auth.DefaultKeyFile(p.dataDir))
	if err != nil {
		t.Fatalf("load the service's token key: %v", err)
	}
	token, _, err := auth.NewIssuer(key).Mint(id, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// dial connects to the process's gRPC API as a platform service.
func (p *process) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	token := p.token(t, auth.Identity{Subject: "svc-test", Role: auth.RoleService})
	conn, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.Bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
