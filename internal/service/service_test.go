package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
)

// startService runs the whole service on an embedded server with random
// ports and a fresh data dir, and stops it when the test ends.
func startService(t *testing.T) *service.Service {
	t.Helper()
	return startServiceWith(t, func(*service.Config) {})
}

// startServiceWith is startService with some configuration changed.
func startServiceWith(t *testing.T, configure func(*service.Config)) *service.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	configure(&cfg)
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start service: %v", err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatalf("service not ready: %v", err)
	}
	return svc
}

// publisher is a platform service's own connection to the service's NATS,
// with the publisher credentials the service created: it may publish
// events and follow enforcement, nothing else. Tests read streams as the
// service, through svc.JS.
func publisher(t *testing.T, svc *service.Service) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(svc.NATSURL, svc.NATSAs(natsbus.RolePublisher))
	if err != nil {
		t.Fatalf("connect publisher: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("open JetStream: %v", err)
	}
	return nc, js
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkClient(t *testing.T, svc *service.Service) moderationv1.ModerationServiceClient {
	t.Helper()
	return moderationv1.NewModerationServiceClient(apiConn(t, svc, auth.Identity{Subject: "svc-test", Role: auth.RoleService}))
}

// apiConn is a gRPC connection to the service carrying a token for id.
func apiConn(t *testing.T, svc *service.Service, id auth.Identity) *grpc.ClientConn {
	t.Helper()
	token, err := svc.Token(id, time.Hour)
	if err != nil {
		t.Fatalf("mint token for %+v: %v", id, err)
	}
	conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.Bearer(token)))
	if err != nil {
		t.Fatalf("dial gRPC: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type expectation struct {
	Accounts map[string]struct {
		Action  moderation.Action `json:"action"`
		AtLeast moderation.Action `json:"at_least"`
		AtMost  moderation.Action `json:"at_most"` // a look-alike may be warned, not limited
		Blocked []string          `json:"blocked"`
		// Restricts is the capability the measure takes: a limit must name
		// it (or name nothing, which limits everything); anything stronger
		// takes every capability.
		Restricts moderation.Capability `json:"restricts"`
	} `json:"accounts"`
	ValidEvents int            `json:"valid_events"`
	Rebase      string         `json:"rebase"` // "days" keeps calendar days; otherwise the last event lands just before now
	DeadLetters map[string]int `json:"dead_letters"`
}

// TestScenarios replays every fixture scenario into a fresh service and
// checks the outcome it declares: on mod.enforcement.>, through gRPC Check
// and in the dead-letter stream.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("../../fixtures/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var want expectation
			raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
			if err != nil {
				t.Fatalf("read expectation: %v", err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("parse expectation: %v", err)
			}
			files, err := replay.Files(dir)
			if err != nil {
				t.Fatal(err)
			}
			var recs []replay.Record
			for _, f := range files {
				r, err := replay.ReadFile(f, replay.Options{Now: time.Now(), WholeDays: want.Rebase == "days"})
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r...)
			}

			svc := startService(t)
			nc, js := publisher(t, svc)
			enforced := make(chan *nats.Msg, 100)
			sub, err := nc.ChanSubscribe(natsbus.EnforcementPrefix+">", enforced)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
				t.Fatalf("replay: %v", err)
			}
			waitFor(t, "every event processed", 20*time.Second, func() bool { return svc.Pipeline.Processed() >= uint64(len(recs)) })

			// Strongest action seen per account on the enforcement subject.
			strongest := map[string]moderation.Decision{}
			for drained := false; !drained; {
				select {
				case m := <-enforced:
					var d moderation.Decision
					if err := json.Unmarshal(m.Data, &d); err != nil {
						t.Fatalf("enforcement message is not the contract's JSON: %v\n%s", err, m.Data)
					}
					if m.Subject != natsbus.EnforcementPrefix+d.Account {
						t.Errorf("enforcement for %s published on %s", d.Account, m.Subject)
					}
					checkStatement(t, &d)
					if d.Action.Severity() >= strongest[d.Account].Action.Severity() {
						strongest[d.Account] = d
					}
				case <-time.After(300 * time.Millisecond):
					drained = true
				}
			}

			client := checkClient(t, svc)
			for account, exp := range want.Accounts {
				got := strongest[account].Action
				if got == "" {
					got = moderation.ActionAllow
				}
				if exp.Action != "" && got != exp.Action {
					t.Errorf("%s on mod.enforcement: got %s, want %s", account, got, exp.Action)
				}
				if exp.AtLeast != "" && got.Severity() < exp.AtLeast.Severity() {
					t.Errorf("%s on mod.enforcement: got %s, want %s or stronger", account, got, exp.AtLeast)
				}
				if exp.AtMost != "" && got.Severity() > exp.AtMost.Severity() {
					t.Errorf("%s on mod.enforcement: got %s, want %s or weaker", account, got, exp.AtMost)
				}
				if d := strongest[account]; exp.Restricts != "" && d.Action == moderation.ActionLimit &&
					len(d.Restricts) > 0 && !slices.Contains(d.Restricts, exp.Restricts) {
					t.Errorf("%s: limit restricts %v, want it to take %s", account, d.Restricts, exp.Restricts)
				}
				if exp.Restricts != "" && got.Severity() < moderation.ActionLimit.Severity() {
					t.Errorf("%s: got %s, want a measure that takes %s", account, got, exp.Restricts)
				}
				for name, c := range map[string]moderationv1.Capability{"friend_add": moderationv1.Capability_CAPABILITY_FRIEND_ADD, "broadcast": moderationv1.Capability_CAPABILITY_BROADCAST} {
					blocked := slices.Contains(exp.Blocked, name)
					if !blocked && exp.Action != moderation.ActionAllow {
						continue // only what the scenario names is checked for accounts it expects actioned
					}
					resp, err := client.Check(ctx, &moderationv1.CheckRequest{Account: account, Capability: c})
					if err != nil {
						t.Fatalf("Check %s: %v", account, err)
					}
					if resp.Allowed == blocked {
						t.Errorf("Check %s %s: got allowed=%v, want %v (status %s)", account, name, resp.Allowed, !blocked, resp.Status)
					}
					if blocked && (resp.DecisionId != strongest[account].DecisionID || len(resp.Reasons) == 0) {
						t.Errorf("Check %s: got decision %q with %d reasons; want decision %q with reasons",
							account, resp.DecisionId, len(resp.Reasons), strongest[account].DecisionID)
					}
				}
			}
			if got := svc.Pipeline.Processed(); got != uint64(len(recs)) {
				t.Errorf("processed: got %d, want %d", got, len(recs))
			}
			checkDeadLetters(t, svc.JS, want.DeadLetters)
		})
	}
}

// checkStatement holds every enforcement to the contract: a statement of
// reasons an owner can act on.
func checkStatement(t *testing.T, d *moderation.Decision) {
	t.Helper()
	s := d.Statement
	if d.DecisionID == "" || d.PolicyVersion == "" || len(d.Reasons) == 0 {
		t.Errorf("decision %+v lacks id, policy version or reasons", d)
	}
	if s.Measure == "" || s.Facts == "" || s.Ground == "" || s.Explanation == "" || s.Redress == "" || s.AutomatedDecision == "" || !s.AutomatedDetection {
		t.Errorf("decision %s has an incomplete statement of reasons: %+v", d.DecisionID, s)
	}
	if d.Action.Severity() >= moderation.ActionLimit.Severity() && s.AppealDeadline.Before(d.At.Add(179*24*time.Hour)) {
		t.Errorf("decision %s: appeal deadline %s is not 180 days after %s", d.DecisionID, s.AppealDeadline, d.At)
	}
}

func checkDeadLetters(t *testing.T, js jetstream.JetStream, want map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, natsbus.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("mod.dlq.>"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for subject, n := range info.State.Subjects {
		got[subject[len("mod.dlq."):]] = int(n)
	}
	for reason, n := range want {
		if got[reason] != n {
			t.Errorf("dead letters %s: got %d, want %d (all: %v)", reason, got[reason], n, got)
		}
	}
	for reason, n := range got {
		if _, ok := want[reason]; !ok {
			t.Errorf("unexpected dead letters %s: %d", reason, n)
		}
	}
}

// TestOpsEndpoints: what orchestrators and Prometheus poll.
func TestOpsEndpoints(t *testing.T) {
	svc := startService(t)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "moderation_events_total",
	} {
		resp, err := http.Get("http://" + svc.HTTPAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: got %d %q, want 200 containing %q", path, resp.StatusCode, body, want)
		}
	}
}

// TestProtobufEvents: events in protobuf (Content-Type
// application/protobuf) are judged like JSON ones.
func TestProtobufEvents(t *testing.T) {
	svc := startService(t)
	_, js := publisher(t, svc)
	now := time.Now().UTC().Truncate(time.Second)
	var recs []replay.Record
	for i := 0; i < 120; i++ {
		ev := &moderation.Event{ID: fmt.Sprintf("pb-%d", i), Kind: moderation.KindFriendAdd, Account: "acct_pb", At: now.Add(time.Duration(i-120) * 20 * time.Second),
			FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("u%d", i), Source: moderation.SourceGroup}}
		if i == 0 {
			ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: now.Add(-72 * time.Hour)}
		}
		data, err := events.EncodeProto(ev)
		if err != nil {
			t.Fatal(err)
		}
		r := record(ev.Subject(), ev.ID, data)
		r.Header.Set("Content-Type", "application/protobuf")
		recs = append(recs, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "120 protobuf events processed", 20*time.Second, func() bool { return svc.Pipeline.Processed() >= 120 })
	st := svc.View.Get("acct_pb")
	waitFor(t, "the protobuf bulk adder limited", 5*time.Second, func() bool {
		st = svc.View.Get("acct_pb")
		return !st.Allows(moderation.CapFriendAdd, time.Now())
	})
	if got := st.Effective(time.Now()); got != moderation.ActionLimit {
		t.Errorf("3-day-old account, 120 requests to strangers in 40 min: got %s, want limit", got)
	}
}
