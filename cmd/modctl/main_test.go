package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/console"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/policies"
)

// TestReplayThenCheck runs the README's quick start through modctl's own
// code against a real service: replay the fixtures, then check the bulk
// adder and the normal user, as text and as JSON.
func TestReplayThenCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := startService(t)

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"replay", "-nats-url", svc.NATSURL, "../../fixtures/scenarios"}, &out, &errOut); err != nil {
		t.Fatalf("replay: %v\n%s", err, errOut.String())
	}
	files, err := replay.Files("../../fixtures/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		recs, err := replay.ReadFile(f, replay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		total += len(recs)
	}
	if want := console.FormatInt(int64(total)); !strings.Contains(out.String(), want) || !strings.Contains(errOut.String(), "100%") {
		t.Errorf("replay summary lacks the %s events or the finished progress bar:\n%s\n%s", want, out.String(), errOut.String())
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		out.Reset()
		if err := run(ctx, []string{"check", "-addr", svc.GRPCAddr, "-capability", "friend_add", "acct_bulk_new"}, &out, &errOut); err != nil {
			t.Fatalf("check: %v", err)
		}
		if strings.Contains(out.String(), "allowed   NO") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bulk adder never blocked; last answer:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"status    limited", "reason    bulk_add:", "until"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := run(ctx, []string{"check", "-addr", svc.GRPCAddr, "-json", "acct_normal_old"}, &out, &errOut); err != nil {
		t.Fatalf("check -json: %v", err)
	}
	var resp struct {
		Status  string `json:"status"`
		Allowed bool   `json:"allowed"`
	}
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		t.Fatalf("check -json output is not JSON: %v\n%s", err, out.String())
	}
	if resp.Status != "STATUS_ACTIVE" || !resp.Allowed {
		t.Errorf("normal user: got %+v, want active and allowed", resp)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		nil,
		{"frobnicate"},
		{"replay"},
		{"check"},
		{"check", "-capability", "teleport", "acct_1"},
		{"bench", "-events", "0"},
	}
	for _, args := range tests {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("modctl %v: got no error", args)
		}
	}
}

func TestTrain(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ad.model")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"train", "-data", "../../fixtures/ads", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"precision", "recall", "F1", "--ad-model " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout.String())
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := adtext.Load(f)
	if err != nil {
		t.Fatalf("the written model does not load: %v", err)
	}
	if ad, news := m.Score("限时特价！加V：wx8888 领取优惠券 https://t.cn/abc"), m.Score("The city museum opens a new wing on Saturday."); ad < 0.5 || news >= 0.5 {
		t.Errorf("trained model scores an ad %.2f and news %.2f", ad, news)
	}
}

// TestBacktestListsTheAccountsThatChange replays the fixtures into a
// service, then backtests a candidate that no longer needs ten complaints
// before judging a complaint rate: exactly the tiny account, one complaint
// from 20 followers, would be actioned.
func TestBacktestListsTheAccountsThatChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc := startService(t)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"replay", "-nats-url", svc.NATSURL, "../../fixtures/scenarios"}, &out, &errOut); err != nil {
		t.Fatalf("replay: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for svc.Pipeline.Processed() < uint64(strings.Count(fixtureLines(t), "\n")) {
		if time.Now().After(deadline) {
			t.Fatal("fixtures not processed in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	candidate := t.TempDir()
	copyPolicies(t, candidate, func(cfg map[string]any) {
		cfg["complaint_rate"].(map[string]any)["min_complaints"] = 1.0
	})
	for _, tc := range []struct {
		name, dir    string
		wantActioned []string
	}{
		{"the running policy changes nothing", "", nil},
		{"a stricter candidate", candidate, []string{"acct_tiny"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
				copyPolicies(t, dir, nil)
			}
			out.Reset()
			errOut.Reset()
			if err := run(ctx, []string{"backtest", "-nats-url", svc.NATSURL, "-timezone", "UTC", "-policy", dir, "-json"}, &out, &errOut); err != nil {
				t.Fatalf("backtest: %v\n%s", err, errOut.String())
			}
			var report struct {
				Events   int
				Actioned []struct{ Account, Was, Would string }
				Released []struct{ Account string }
			}
			if err := json.Unmarshal(out.Bytes(), &report); err != nil {
				t.Fatalf("backtest -json: %v\n%s", err, out.String())
			}
			var actioned []string
			for _, c := range report.Actioned {
				actioned = append(actioned, c.Account)
			}
			if strings.Join(actioned, ",") != strings.Join(tc.wantActioned, ",") || len(report.Released) != 0 {
				t.Errorf("got actioned %v and released %v; want actioned %v and none released", actioned, report.Released, tc.wantActioned)
			}
			if report.Events == 0 || !strings.Contains(errOut.String(), "100%") {
				t.Errorf("replayed %d events; progress: %s", report.Events, errOut.String())
			}
		})
	}
}

func fixtureLines(t *testing.T) string {
	t.Helper()
	files, err := replay.Files("../../fixtures/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		recs, err := replay.ReadFile(f, replay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Repeat("\n", len(recs)))
	}
	return b.String()
}

// copyPolicies writes the embedded policy to dir, with its data.json
// config changed by edit (nil: unchanged).
func copyPolicies(t *testing.T, dir string, edit func(cfg map[string]any)) {
	t.Helper()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if p == "data.json" && edit != nil {
			var data map[string]any
			if err := json.Unmarshal(b, &data); err != nil {
				return err
			}
			edit(data["config"].(map[string]any))
			if b, err = json.Marshal(data); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startService runs the service on an embedded server with random ports,
// in UTC, until the test ends. It exports the service's data directory as
// MODERATION_DATA_DIR, so modctl's API commands find its token key there
// as they do on an operator's host, and clears the variables that would
// point them elsewhere.
func startService(t *testing.T) *service.Service {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("MODERATION_DATA_DIR", dir)
	for _, v := range []string{"MODERATION_TOKEN", "MODERATION_TLS_CA", "MODERATION_TLS_CERT", "MODERATION_TLS_KEY", "MODERATION_NATS_URL", "MODERATION_NATS_LISTEN", "MODERATION_NATS_CA"} {
		t.Setenv(v, "")
	}
	svc := startServiceIn(t, dir, "127.0.0.1:0")
	t.Cleanup(svc.Stop)
	return svc
}

// startServiceIn starts the service on data directory dir with its gRPC
// server on grpcListen, and waits until it is ready; the caller stops it.
func startServiceIn(t *testing.T, dir, grpcListen string) *service.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: grpcListen,
		HTTPListen: "127.0.0.1:0", MaxStateMB: 64, Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitReady(ctx); err != nil {
		svc.Stop()
		t.Fatal(err)
	}
	return svc
}
