package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/policies"
)

// childEnv carries a child's configuration: the test binary, run again
// with it set, is a service process that a test can lose to SIGKILL.
const childEnv = "MODERATION_TEST_CHILD"

type childConfig struct {
	DataDir      string        `json:"data_dir"`
	Crash        string        `json:"crash"` // moderation.Path*: kill the process after that path's state write
	PolicyDir    string        `json:"policy_dir,omitempty"`
	AppealWindow time.Duration `json:"appeal_window,omitempty"`
	PurgeSweep   time.Duration `json:"purge_sweep,omitempty"`
}

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		os.Exit(runChild(c))
	}
	os.Exit(m.Run())
}

// runChild runs the service until it is killed (the point) or told to
// stop, and announces its addresses on stdout.
func runChild(raw string) int {
	var c childConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	svc, err := service.Start(ctx, service.Config{DataDir: c.DataDir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, PolicyDir: c.PolicyDir, AppealWindow: c.AppealWindow, PurgeSweep: c.PurgeSweep, CrashAfterStateWrite: c.Crash,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	defer svc.Stop()
	if err := svc.WaitReady(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ready:", err)
		return 1
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"grpc": svc.GRPCAddr, "nats": svc.NATSURL})
	<-ctx.Done()
	return 0
}

// child is a service process that is expected to kill itself.
type child struct {
	dataDir string
	grpc    string
	nats    string
	exited  chan error
	stderr  *strings.Builder
}

func startChild(t *testing.T, c childConfig) *child {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := &child{dataDir: c.DataDir, exited: make(chan error, 1), stderr: &stderr}
	addrs := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]string
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["grpc"] != "" {
				addrs <- m
			}
		}
		ch.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case m := <-addrs:
		ch.grpc, ch.nats = m["grpc"], m["nats"]
	case err := <-ch.exited:
		// A sweep can reach its crash point before the service reports
		// its addresses (the purge sweep runs as soon as its lease is
		// held): that is the crash asked for, for killed to check.
		if c.Crash == "" || !strings.Contains(stderr.String(), "crashing after the state write") {
			t.Fatalf("child exited before it was ready: %v\n%s", err, stderr.String())
		}
		ch.exited <- err
	case <-time.After(60 * time.Second):
		t.Fatalf("child not ready in 60 s\n%s", stderr.String())
	}
	return ch
}

// killed waits for the child to die by the SIGKILL it sends itself.
func (c *child) killed(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child ended with %v, want killed by SIGKILL\n%s", err, c.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("child still running 60 s later; the crash point was not reached\n%s", c.stderr.String())
	}
}

// conn is a gRPC connection to the child carrying a token for id, minted
// with the key in its data dir as modctl token does.
func (c *child) conn(t *testing.T, id auth.Identity) *grpc.ClientConn {
	t.Helper()
	key, err := auth.LoadKey(auth.DefaultKeyFile(c.dataDir))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := auth.NewIssuer(key).Mint(id, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.Bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// natsConn connects to the child's NATS as the service itself.
func (c *child) natsConn(t *testing.T) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(c.nats, natsbus.As(c.dataDir, natsbus.RoleService))
	if err != nil {
		t.Fatalf("connect to the child's NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// restarted starts the service again on the child's data dir, in this
// process.
func restarted(t *testing.T, dataDir string, configure func(*service.Config)) *service.Service {
	t.Helper()
	return startServiceWith(t, func(c *service.Config) {
		c.DataDir = dataDir
		if configure != nil {
			configure(c)
		}
	})
}

// agree waits until the last decision on mod.enforcement.<account> is the
// one Check answers from (Check names no decision once a restore has
// lifted the measure), and returns it: what a crash between the state
// write and the publish must never leave otherwise.
func agree(t *testing.T, svc *service.Service, account string) *moderation.Decision {
	t.Helper()
	ctx := context.Background()
	check := checkClient(t, svc)
	var last moderation.Decision
	waitFor(t, "the enforcement subject of "+account+" to end with what Check answers", 20*time.Second, func() bool {
		r, err := check.Check(ctx, &moderationv1.CheckRequest{Account: account})
		if err != nil {
			return false
		}
		msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, natsbus.EnforcementPrefix+account)
		if err != nil || json.Unmarshal(msg.Data, &last) != nil {
			return false
		}
		if r.DecisionId == "" {
			return last.Action == moderation.ActionRestore && r.Status == moderationv1.Status_STATUS_ACTIVE
		}
		return last.DecisionID == r.DecisionId
	})
	return &last
}

// TestCrashAfterStateWrite kills the service between an account change's
// state write and its publish, on each of the five paths that change an
// account, restarts it, and finds the enforcement subject ending with what
// Check answers, each decision published once.
func TestCrashAfterStateWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills service processes")
	}
	ctx := context.Background()
	suspend := func(t *testing.T, conn *grpc.ClientConn, account, requestID string) (*moderationv1.Decision, error) {
		ctx := metadata.AppendToOutgoingContext(ctx, "x-request-id", requestID)
		return moderationv1.NewReviewServiceClient(conn).TakeAction(ctx, &moderationv1.TakeActionRequest{Account: account,
			Action: moderationv1.Action_ACTION_SUSPEND, Duration: durationpb.New(72 * time.Hour), ReasonCode: "bulk_add",
			Detail: "Sent 400 friend requests to strangers in an hour.", Note: "crash test"})
	}

	t.Run(moderation.PathJudge, func(t *testing.T) {
		dir := t.TempDir()
		c := startChild(t, childConfig{DataDir: dir, Crash: moderation.PathJudge})
		recs, err := replay.ReadFile("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl", replay.Options{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		js := c.natsConn(t)
		go func() { _, _ = replay.Publish(ctx, js, recs, nil) }() // cut short by the crash; republished below
		c.killed(t)
		svc := restarted(t, dir, nil)
		if _, err := replay.Publish(ctx, svc.JS, recs, nil); err != nil {
			t.Fatal(err)
		}
		awaitStatus(t, svc, "acct_bulk_new", moderationv1.Status_STATUS_LIMITED)
		agree(t, svc, "acct_bulk_new")
		ids := map[string]int{}
		for _, msg := range storedOn(svc, natsbus.EnforcementPrefix+"acct_bulk_new") {
			var d moderation.Decision
			if err := json.Unmarshal(msg.Data, &d); err != nil {
				t.Fatal(err)
			}
			ids[d.DecisionID]++
		}
		if len(ids) < 2 {
			t.Errorf("decisions on acct_bulk_new: got %v, want the warning cut short by the crash and the limit after it", ids)
		}
		for id, n := range ids {
			if n != 1 {
				t.Errorf("decision %s published %d times, want once", id, n)
			}
		}
	})

	t.Run(moderation.PathManual, func(t *testing.T) {
		dir := t.TempDir()
		c := startChild(t, childConfig{DataDir: dir, Crash: moderation.PathManual})
		if _, err := suspend(t, c.conn(t, admin), "acct_manual", "req-1"); err == nil {
			t.Fatal("the action answered although the service died before publishing it")
		}
		c.killed(t)
		svc := restarted(t, dir, nil)
		d := agree(t, svc, "acct_manual")
		// The reviewer's client retries with the same request id: the
		// first decision comes back, and nothing new is decided.
		again, err := suspend(t, apiConn(t, svc, admin), "acct_manual", "req-1")
		if err != nil {
			t.Fatal(err)
		}
		if again.DecisionId != d.DecisionID || d.Action != moderation.ActionSuspend {
			t.Errorf("retried action: got %s, want the first decision %s (%s)", again.DecisionId, d.DecisionID, d.Action)
		}
		if n := len(storedOn(svc, natsbus.EnforcementPrefix+"acct_manual")); n != 1 {
			t.Errorf("decisions on acct_manual after a retry: got %d, want 1", n)
		}
		if n := len(storedOn(svc, natsbus.AuditPrefix+"manual.acct_manual")); n != 1 {
			t.Errorf("audit records of the action: got %d, want 1", n)
		}
	})

	t.Run(moderation.PathAppeal, func(t *testing.T) {
		dir := t.TempDir()
		svc := restarted(t, dir, nil)
		d, err := suspend(t, apiConn(t, svc, admin), "acct_appeal", "req-2")
		if err != nil {
			t.Fatal(err)
		}
		filed, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_appeal"))).FileAppeal(ctx,
			&moderationv1.FileAppealRequest{Account: "acct_appeal", DecisionId: d.DecisionId, Statement: "I added people from my own school reunion."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer)).ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: filed.AppealId}); err != nil {
			t.Fatal(err)
		}
		svc.Stop()

		c := startChild(t, childConfig{DataDir: dir, Crash: moderation.PathAppeal})
		if _, err := moderationv1.NewReviewServiceClient(c.conn(t, reviewer)).DecideAppeal(ctx, &moderationv1.DecideAppealRequest{AppealId: filed.AppealId,
			Outcome: moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN, Reply: "The reunion explains it; the suspension is lifted."}); err == nil {
			t.Fatal("the decision answered although the service died before publishing the restore")
		}
		c.killed(t)
		svc = restarted(t, dir, nil)
		if got := agree(t, svc, "acct_appeal"); got.Action != moderation.ActionRestore {
			t.Errorf("after the crash: got %s, want restore", got.Action)
		}
	})

	t.Run(moderation.PathReevaluate, func(t *testing.T) {
		const fixture = "../../fixtures/reevaluation"
		var want struct {
			Restored []string `json:"restored_under_embedded"`
		}
		readJSON(t, os.DirFS(fixture), "expect.json", &want)
		strict := strictPolicy(t, fixture)
		dir := t.TempDir()
		svc := restarted(t, dir, func(c *service.Config) { c.PolicyDir = strict })
		recs, err := replay.ReadFile(filepath.Join(fixture, "events.jsonl"), replay.Options{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := replay.Publish(ctx, svc.JS, recs, nil); err != nil {
			t.Fatal(err)
		}
		for _, a := range want.Restored {
			awaitStatus(t, svc, a, moderationv1.Status_STATUS_CLOSED)
		}
		svc.Stop()

		embedded, err := judge.Compile(ctx, policies.FS, "embedded")
		if err != nil {
			t.Fatal(err)
		}
		c := startChild(t, childConfig{DataDir: dir, Crash: moderation.PathReevaluate, PolicyDir: strict})
		stream, err := moderationv1.NewReviewServiceClient(c.conn(t, reviewer)).Reevaluate(ctx, &moderationv1.ReevaluateRequest{
			PolicyVersion: embedded.Version, Note: "Enforcement review: established accounts were held to new accounts' levels."})
		if err == nil {
			for {
				if _, err = stream.Recv(); err != nil {
					break
				}
			}
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("the re-evaluation finished although the service died in it")
		}
		c.killed(t)
		svc = restarted(t, dir, func(c *service.Config) { c.PolicyDir = strict })
		restored := 0
		for _, a := range want.Restored {
			if agree(t, svc, a).Action == moderation.ActionRestore {
				restored++
			}
		}
		if restored != 1 {
			t.Errorf("accounts restored before the crash, and published after it: got %d, want 1", restored)
		}
	})

	t.Run(moderation.PathPurge, func(t *testing.T) {
		dir := t.TempDir()
		svc := restarted(t, dir, func(c *service.Config) { c.AppealWindow = time.Second; c.PurgeSweep = time.Hour })
		d, err := moderationv1.NewReviewServiceClient(apiConn(t, svc, admin)).TakeAction(ctx, &moderationv1.TakeActionRequest{Account: "acct_closed",
			Action: moderationv1.Action_ACTION_CLOSE, ReasonCode: "fraud", Detail: "Sold counterfeit goods to followers.", Note: "crash test"})
		if err != nil {
			t.Fatal(err)
		}
		svc.Stop()
		c := startChild(t, childConfig{DataDir: dir, Crash: moderation.PathPurge, AppealWindow: time.Second, PurgeSweep: 100 * time.Millisecond})
		c.killed(t)
		svc = restarted(t, dir, func(c *service.Config) { c.AppealWindow = time.Second; c.PurgeSweep = time.Hour })
		agree(t, svc, "acct_closed")
		waitFor(t, "the purge notice a crash left unpublished", 20*time.Second, func() bool {
			msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, natsbus.PurgePrefix+"acct_closed")
			return err == nil && strings.Contains(string(msg.Data), d.DecisionId)
		})
		if n := len(storedOn(svc, natsbus.PurgePrefix+"acct_closed")); n != 1 {
			t.Errorf("purge notices: got %d, want 1", n)
		}
	})
}
