package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"moderation/internal/moderation"
	"moderation/internal/service"
)

// bundleSigner makes an ES256 key pair for one test; the public half is
// written to a file for Config.PolicyBundleKey.
func bundleSigner(t *testing.T) (private, pubFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubFile = filepath.Join(t.TempDir(), "bundle.pub")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), pubFile
}

// writeBundle builds the policy in dir into a bundle with OPA's own writer,
// signed with private (ES256) unless it is empty, and puts it at path in
// one rename, as a deployment would.
func writeBundle(t *testing.T, dir, revision, private, path string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.Bundle{Manifest: bundle.Manifest{Revision: revision}}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Name() == "data.json":
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&b.Data); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(e.Name(), ".rego"):
			b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + e.Name(), Path: "/" + e.Name(), Raw: raw})
		}
	}
	if private != "" {
		if err := b.GenerateSignature(bundle.NewSigningConfig(private, "ES256", ""), "", false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func versionInfo(t *testing.T, svc *service.Service) []string {
	t.Helper()
	families, err := svc.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, f := range families {
		if f.GetName() != "moderation_policy_version_info" {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, map[string]string{"policy": "live"}) && m.GetGauge().GetValue() == 1 {
				for _, l := range m.GetLabel() {
					if l.GetName() == "version" {
						versions = append(versions, l.GetValue())
					}
				}
			}
		}
	}
	return versions
}

// TestPolicyBundle: the live policy comes from a signed bundle file; a
// bundle that is unsigned or signed with another key is refused, counted,
// and decisions go on under the running version; a good one replaces it
// without a restart and its decisions carry the bundle's version.
func TestPolicyBundle(t *testing.T) {
	private, pubFile := bundleSigner(t)
	path := filepath.Join(t.TempDir(), "policy.tar.gz")
	writeBundle(t, policyDir(t, 0, 0), "r1", private, path)
	svc := startWith(t, service.Config{PolicyBundle: path, PolicyBundleKey: pubFile})
	first := svc.Pipeline.Policy().Version
	if want := "bundle:" + path + "#r1@"; !strings.HasPrefix(first, want) {
		t.Fatalf("policy version %q, want %s<hash>", first, want)
	}
	if got := versionInfo(t, svc); len(got) != 1 || got[0] != first {
		t.Errorf("moderation_policy_version_info names %v, want [%s]", got, first)
	}
	refusals := func() float64 {
		return metric(t, svc, "moderation_policy_reloads_total", map[string]string{"policy": "live", "result": "refused"})
	}

	otherKey, _ := bundleSigner(t)
	for i, bad := range []struct{ name, private string }{
		{"unsigned", ""},
		{"signed with another key", otherKey},
	} {
		writeBundle(t, policyDir(t, 30, 60), "bad", bad.private, path)
		waitFor(t, "the "+bad.name+" bundle refused", time.Minute, func() bool { return refusals() >= float64(i+1) })
		if got := svc.Pipeline.Policy().Version; got != first {
			t.Fatalf("%s bundle: running version changed to %s", bad.name, got)
		}
	}
	// Decisions keep flowing under the running version.
	adder(t, svc.JS, "acct_during_bad_bundle", 120, 20*time.Second)
	waitFor(t, "a decision under the running policy", 10*time.Second, func() bool { return svc.View.Get("acct_during_bad_bundle") != nil })
	if got := svc.View.Get("acct_during_bad_bundle").Current.PolicyVersion; got != first {
		t.Errorf("decision while bad bundles were refused carries %s, want %s", got, first)
	}

	// A good, stricter bundle: new accounts limited at 60 strangers an hour.
	writeBundle(t, policyDir(t, 30, 60), "r2", private, path)
	waitFor(t, "the good bundle loaded", time.Minute, func() bool { return svc.Pipeline.Policy().Version != first })
	second := svc.Pipeline.Policy().Version
	if want := "bundle:" + path + "#r2@"; !strings.HasPrefix(second, want) {
		t.Errorf("policy version %q, want %s<hash>", second, want)
	}
	if got := versionInfo(t, svc); len(got) != 1 || got[0] != second {
		t.Errorf("moderation_policy_version_info names %v, want [%s]", got, second)
	}
	adder(t, svc.JS, "acct_after_good_bundle", 70, 30*time.Second) // 70 in 35 minutes: limit under the new levels only
	waitFor(t, "a decision under the bundle's policy", 10*time.Second, func() bool {
		st := svc.View.Get("acct_after_good_bundle")
		return st != nil && st.Current.Action == moderation.ActionLimit
	})
	if got := svc.View.Get("acct_after_good_bundle").Current.PolicyVersion; got != second {
		t.Errorf("decision after the reload carries %s, want %s", got, second)
	}
	if got := refusals(); got != 2 {
		t.Errorf("refusals: got %v, want 2", got)
	}
}

// TestPolicyBundleConfig: a bundle without a key to verify it, or beside a
// policy directory, does not start.
func TestPolicyBundleConfig(t *testing.T) {
	_, pubFile := bundleSigner(t)
	for _, tt := range []struct {
		name    string
		cfg     service.Config
		wantErr string
	}{
		{"no key", service.Config{PolicyBundle: "/nonexistent.tar.gz"}, "no key"},
		{"and a directory", service.Config{PolicyBundle: "/nonexistent.tar.gz", PolicyBundleKey: pubFile, PolicyDir: t.TempDir()}, "configure one"},
		{"a key that does not go with the algorithm", service.Config{PolicyBundle: "/nonexistent.tar.gz", PolicyBundleKey: pubFile, PolicyBundleAlg: "RS256"}, "does not go with this key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.DataDir, cfg.NATSListen, cfg.GRPCListen, cfg.HTTPListen = t.TempDir(), "127.0.0.1:-1", "127.0.0.1:0", "127.0.0.1:0"
			cfg.MaxStateMB = 64
			cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			svc, err := service.Start(ctx, cfg)
			if err == nil {
				svc.Stop()
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
