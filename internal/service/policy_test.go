package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/policies"
)

// policyDir writes the embedded policy into a fresh directory. With
// limit > 0 it is a candidate of its own: new accounts warned at warn and
// limited at limit strangers an hour, carrying one test of that instead of
// the embedded tests (which pin the embedded levels).
func policyDir(t *testing.T, warn, limit float64) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (limit > 0 && strings.HasSuffix(p, "_test.rego")) {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	if limit > 0 {
		editData(t, dir, func(l map[string]any) { l["warn"], l["limit"] = warn, limit })
		test := fmt.Sprintf(`package candidate_test

import data.moderation

test_new_accounts_limited_at_%[1]d if {
	moderation.decision.action == "limit" with input as {
		"account": {"id": "a", "type": "personal", "verified": false, "age_days": 0.5, "strikes": 0, "status": "allow"},
		"signals": {"bulk_add": {"hour_strangers": %[1]d, "hour": %[1]d, "evidence": "test"}},
		"event": {"id": "e", "kind": "friend_add", "at": "2026-03-02T10:00:00Z"},
	}
}
`, int(limit))
		if err := os.WriteFile(filepath.Join(dir, "candidate_test.rego"), []byte(test), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func editData(t *testing.T, dir string, edit func(levels map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "data.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	levels := data["config"].(map[string]any)["bulk_add"].(map[string]any)["levels"].(map[string]any)["personal"].(map[string]any)["new"].(map[string]any)
	edit(levels)
	if b, err = json.MarshalIndent(data, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func startWith(t *testing.T, cfg service.Config) *service.Service {
	t.Helper()
	cfg.DataDir, cfg.NATSListen, cfg.GRPCListen, cfg.HTTPListen = t.TempDir(), "127.0.0.1:-1", "127.0.0.1:0", "127.0.0.1:0"
	cfg.MaxStateMB, cfg.PolicyPoll = 64, 50*time.Millisecond
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

// metric sums a counter's series whose labels include want.
func metric(t *testing.T, svc *service.Service, name string, want map[string]string) float64 {
	t.Helper()
	families, err := svc.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, want) {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func matches(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			found++
		}
	}
	return found == len(want)
}

// adder publishes n friend requests to strangers from a 12-hour-old
// personal account, the last one just before now.
func adder(t *testing.T, js jetstream.JetStream, account string, n int, every time.Duration) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	var recs []replay.Record
	for i := 0; i < n; i++ {
		ev := &moderation.Event{ID: fmt.Sprintf("%s-%d", account, i), Kind: moderation.KindFriendAdd, Account: account,
			At: now.Add(-time.Duration(n-i) * every), FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("p%d", i), Source: moderation.SourceSearch}}
		if i == 0 {
			ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: now.Add(-12 * time.Hour)}
		}
		data, err := events.EncodeJSON(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, record(ev.Subject(), ev.ID, data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyReload: candidates dropped into the policy directory replace
// the running policy only if they compile and pass their own tests; a
// refused one is logged and counted and decisions go on under the old
// version; a good one takes effect without a restart.
func TestPolicyReload(t *testing.T) {
	dir := policyDir(t, 0, 0)
	svc := startWith(t, service.Config{PolicyDir: dir})
	_, js := publisher(t, svc)
	first := svc.Pipeline.Policy().Version
	if !strings.HasPrefix(first, "live:") {
		t.Fatalf("policy version %q does not come from the directory", first)
	}
	refusals := func() float64 {
		return metric(t, svc, "moderation_policy_reloads_total", map[string]string{"policy": "live", "result": "refused"})
	}

	for i, bad := range []struct{ file, content string }{
		{"broken.rego", "package moderation\n\nviolations contains v if {\n"},
		{"failing_test.rego", "package failing_test\n\ntest_always_fails if {\n\tfalse\n}\n"},
	} {
		path := filepath.Join(dir, bad.file)
		if err := os.WriteFile(path, []byte(bad.content), 0o600); err != nil {
			t.Fatal(err)
		}
		// A candidate is refused after its own tests run, which under the
		// race detector on a busy machine take well over 20 s.
		waitFor(t, "the candidate refused", time.Minute, func() bool { return refusals() >= float64(i+1) })
		if got := svc.Pipeline.Policy().Version; got != first {
			t.Fatalf("%s: running version changed to %s", bad.file, got)
		}
		// Decisions keep flowing under the old version.
		account := fmt.Sprintf("acct_during_bad_%d", i)
		adder(t, js, account, 120, 20*time.Second)
		waitFor(t, "a decision under the old policy", 10*time.Second, func() bool { return svc.View.Get(account) != nil })
		if got := svc.View.Get(account).Current.PolicyVersion; got != first {
			t.Errorf("decision while %s was refused carries %s, want %s", bad.file, got, first)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}

	// A good, stricter candidate: new accounts limited at 60 strangers an
	// hour, with its tests. It replaces the directory in one rename, as a
	// deployment would, so no half-written state is ever looked at.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(policyDir(t, 30, 60), dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good candidate loaded", time.Minute, func() bool {
		v := svc.Pipeline.Policy().Version
		return v != first
	})
	second := svc.Pipeline.Policy().Version
	adder(t, js, "acct_after_good", 70, 30*time.Second) // 70 in 35 minutes: limit under the new levels only
	waitFor(t, "a decision under the new policy", 10*time.Second, func() bool {
		st := svc.View.Get("acct_after_good")
		return st != nil && st.Current.Action == moderation.ActionLimit
	})
	if got := svc.View.Get("acct_after_good").Current.PolicyVersion; got != second {
		t.Errorf("decision after the reload carries %s, want %s", got, second)
	}
}

// TestShadowPolicy: a stricter shadow policy shows its disagreements in
// metrics and in the decisions stream, and enforces nothing.
func TestShadowPolicy(t *testing.T) {
	shadow := policyDir(t, 10, 20)
	svc := startWith(t, service.Config{ShadowPolicyDir: shadow})
	nc, js := publisher(t, svc)
	enforced, err := nc.SubscribeSync(natsbus.EnforcementPrefix + "acct_moderate")
	if err != nil {
		t.Fatal(err)
	}
	adder(t, js, "acct_moderate", 30, 60*time.Second) // 30 strangers in 30 minutes: under live levels, over the shadow's
	waitFor(t, "a stricter shadow answer counted", 10*time.Second, func() bool {
		return metric(t, svc, "moderation_shadow_decisions_total", map[string]string{"agreement": "stricter", "rule": "bulk_add"}) >= 1
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := svc.JS.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, natsbus.AuditPrefix+"shadow.acct_moderate")
	if err != nil {
		t.Fatalf("no shadow record in the decisions stream: %v", err)
	}
	var rec pipeline.ShadowRecord
	if err := json.Unmarshal(msg.Data, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Agreement != "stricter" || rec.Live.Action != moderation.ActionAllow || rec.Shadow.Action.Severity() < moderation.ActionWarn.Severity() || !strings.HasPrefix(rec.Shadow.PolicyVersion, "shadow:") {
		t.Errorf("shadow record: %+v", rec)
	}
	if st := svc.View.Get("acct_moderate"); st != nil {
		t.Errorf("the shadow policy was enforced: %+v", st.Current)
	}
	if m, err := enforced.NextMsg(200 * time.Millisecond); err == nil {
		t.Errorf("enforcement published for a shadow-only decision: %s", m.Data)
	}
}
