package grpcapi

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/authz"
	"moderation/internal/judge"
	"moderation/policies"
)

// compiledPolicy reports one real compiled policy as live, after an older
// version.
type compiledPolicy struct{ p *judge.Policy }

func (c compiledPolicy) PolicyInfo(context.Context) (PolicyInfo, error) {
	return PolicyInfo{Live: c.p.Version, Files: c.p.Files, Versions: []PolicyVersion{
		{Version: "old@1", Role: "live", LoadedAt: time.Unix(1, 0)},
		{Version: c.p.Version, Role: "live", LoadedAt: time.Unix(2, 0), Loaded: true},
	}}, nil
}

// startConsoleAPI serves ConsoleService over a registry holding a counter,
// a histogram and the Go runtime's metrics, and the embedded policy.
func startConsoleAPI(t *testing.T, reg *prometheus.Registry) (*server, *judge.Policy) {
	t.Helper()
	pol, err := judge.Compile(context.Background(), policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), issuer: auth.NewIssuer(key)}
	srv, _, err := NewServer(Deps{Enforcement: states{}, Verifier: auth.NewVerifier(key.Public().(ed25519.PublicKey)),
		Authorizer: az, Policies: compiledPolicy{pol}, Metrics: reg},
		Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return s, pol
}

func TestConsoleGetMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moderation_events_total", Help: "h"}, []string{"kind"})
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "moderation_latency_seconds", Help: "h"})
	reg.MustRegister(events, lat, collectors.NewGoCollector())
	events.WithLabelValues("broadcast").Add(3)
	events.WithLabelValues("friend_add").Add(5)
	lat.Observe(0.5)
	lat.Observe(1.5)
	s, _ := startConsoleAPI(t, reg)
	api := moderationv1.NewConsoleServiceClient(s.dial(t, auditReviewer))

	all, err := api.GetMetrics(t.Context(), &moderationv1.GetMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range all.GetSamples() {
		if !strings.HasPrefix(m.GetName(), "moderation_") {
			t.Errorf("served %s: only the service's own metrics are served", m.GetName())
		}
		got[m.GetName()+"/"+m.GetLabels()["kind"]] = m.GetValue()
	}
	for k, want := range map[string]float64{
		"moderation_events_total/broadcast": 3, "moderation_events_total/friend_add": 5,
		"moderation_latency_seconds_count/": 2, "moderation_latency_seconds_sum/": 2,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
	if all.GetAt() == nil {
		t.Error("no time read")
	}

	// Asked by name, only those.
	one, err := api.GetMetrics(t.Context(), &moderationv1.GetMetricsRequest{Names: []string{"moderation_latency_seconds"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(one.GetSamples()); n != 2 || !strings.HasPrefix(one.GetSamples()[0].GetName(), "moderation_latency_seconds") {
		t.Errorf("by name: %v", one.GetSamples())
	}
	// A name outside the service's own is refused, not silently empty.
	if _, err := api.GetMetrics(t.Context(), &moderationv1.GetMetricsRequest{Names: []string{"go_goroutines"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("go_goroutines: %v, want InvalidArgument", err)
	}
	// Owners and services may not read them.
	for _, id := range []auth.Identity{auditOwner, platform} {
		_, err := moderationv1.NewConsoleServiceClient(s.dial(t, id)).GetMetrics(t.Context(), &moderationv1.GetMetricsRequest{})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v, want PermissionDenied", id.Role, err)
		}
	}
}

func TestConsoleGetPolicy(t *testing.T) {
	s, pol := startConsoleAPI(t, prometheus.NewRegistry())
	got, err := moderationv1.NewConsoleServiceClient(s.dial(t, auditReviewer)).GetPolicy(t.Context(), &moderationv1.GetPolicyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLiveVersion() != pol.Version || !strings.HasPrefix(got.GetLiveVersion(), "embedded@") {
		t.Errorf("live %q, want %q", got.GetLiveVersion(), pol.Version)
	}
	// The files are the policy's own: a candidate made of them compiles
	// to the same version, so a backtest of them changes nothing.
	for _, f := range []string{"bulk_add.rego", "bulk_add_test.rego", policies.DataFile} {
		if got.GetFiles()[f] == "" {
			t.Errorf("no %s among %d files", f, len(got.GetFiles()))
		}
	}
	fsys := fstest.MapFS{}
	for name, src := range got.GetFiles() {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	again, err := judge.Candidate(t.Context(), fsys, "embedded")
	if err != nil {
		t.Fatalf("the files served do not compile: %v", err)
	}
	if again.Version != pol.Version {
		t.Errorf("files served compile to %s, want %s", again.Version, pol.Version)
	}
	if vs := got.GetVersions(); len(vs) != 2 || vs[0].GetVersion() != "old@1" || vs[0].GetLoaded() || vs[1].GetLoadedAt().AsTime().Unix() != 2 || !vs[1].GetLoaded() {
		t.Errorf("versions: %v", vs)
	}
	_, err = moderationv1.NewConsoleServiceClient(s.dial(t, auditOwner)).GetPolicy(t.Context(), &moderationv1.GetPolicyRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("owner: %v, want PermissionDenied", err)
	}
}
