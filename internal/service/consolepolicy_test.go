package service_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/service"
)

// TestConsolePolicyAndMetrics: ConsoleService reports the live and the
// shadow policy, the versions run in the order loaded, the live policy's
// files, and the shadow's disagreements from the service's own metrics.
func TestConsolePolicyAndMetrics(t *testing.T) {
	svc := startWith(t, service.Config{ShadowPolicyDir: policyDir(t, 10, 20)})
	console := moderationv1.NewConsoleServiceClient(apiConn(t, svc, reviewer))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := console.GetPolicy(ctx, &moderationv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if p.LiveVersion != svc.Pipeline.Policy().Version || !strings.HasPrefix(p.ShadowVersion, "shadow:") {
		t.Errorf("live %q shadow %q, want %q and the shadow directory's", p.LiveVersion, p.ShadowVersion, svc.Pipeline.Policy().Version)
	}
	if len(p.Versions) != 2 || p.Versions[0].Version != p.LiveVersion || p.Versions[0].Role != "live" ||
		p.Versions[1].Version != p.ShadowVersion || p.Versions[1].Role != "shadow" || p.Versions[1].LoadedAt.AsTime().Before(p.Versions[0].LoadedAt.AsTime()) {
		t.Errorf("versions: %v, want the embedded live policy, then the shadow", p.Versions)
	}
	if !strings.Contains(p.Files["data.json"], `"bulk_add"`) || p.Files["bulk_add.rego"] == "" {
		t.Errorf("live files: %d, without data.json or bulk_add.rego", len(p.Files))
	}

	_, js := publisher(t, svc)
	adder(t, js, "acct_console_shadow", 30, 60*time.Second) // over the shadow's levels, under the live ones
	waitFor(t, "the shadow's stricter answer in GetMetrics", 10*time.Second, func() bool {
		m, err := console.GetMetrics(ctx, &moderationv1.GetMetricsRequest{Names: []string{"moderation_shadow_decisions_total"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Samples {
			if s.Labels["agreement"] == "stricter" && s.Labels["rule"] == "bulk_add" && s.Value >= 1 {
				return true
			}
		}
		return false
	})
}

// TestPolicyHistorySurvivesRestart: each policy first loaded is kept in the
// POLICY_HISTORY bucket, so after a restart without the shadow directory
// GetPolicy still lists the shadow version run before, as first loaded
// (role and time), marked as not held by this instance, and the live one
// with the time of its first load, not of the restart.
func TestPolicyHistorySurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, PolicyPoll: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ShadowPolicyDir: policyDir(t, 10, 20)}
	getPolicy := func(svc *service.Service) *moderationv1.PolicyView {
		t.Helper()
		p, err := moderationv1.NewConsoleServiceClient(apiConn(t, svc, reviewer)).GetPolicy(ctx, &moderationv1.GetPolicyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitReady(ctx); err != nil {
		svc.Stop()
		t.Fatal(err)
	}
	before := getPolicy(svc)
	svc.Stop()
	if len(before.Versions) != 2 || before.ShadowVersion == "" {
		t.Fatalf("before the restart: %v, want the live and the shadow version", before.Versions)
	}

	cfg.ShadowPolicyDir = ""
	svc2, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Stop()
	if err := svc2.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	after := getPolicy(svc2)
	if after.ShadowVersion != "" {
		t.Errorf("shadow %q after a restart without one", after.ShadowVersion)
	}
	if len(after.Versions) != 2 {
		t.Fatalf("after the restart: %v, want the two versions run before", after.Versions)
	}
	for i, v := range after.Versions {
		was := before.Versions[i]
		if v.Version != was.Version || v.Role != was.Role || !v.LoadedAt.AsTime().Equal(was.LoadedAt.AsTime()) {
			t.Errorf("version %d after the restart: %v, want it as first loaded: %v", i, v, was)
		}
		if want := v.Version == after.LiveVersion; v.Loaded != want {
			t.Errorf("%s loaded here: %v, want %v", v.Version, v.Loaded, want)
		}
	}
}
