package service_test

import (
	"context"
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
