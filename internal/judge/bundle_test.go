package judge

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"moderation/internal/moderation"
	"moderation/policies"
)

// signer is a key pair made for one test: the private key signs bundles
// the way `opa build --signing-key` does, the public one is in pubFile.
type signer struct {
	alg, private, pubFile string
}

func newSigner(t *testing.T, alg string) signer {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256", "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	s := signer{alg: alg, private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), pubFile: filepath.Join(t.TempDir(), "bundle.pub")}
	if err := os.WriteFile(s.pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s signer) key(t *testing.T) *BundleKey {
	t.Helper()
	k, err := LoadBundleKey(s.pubFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.Algorithm() != s.alg && s.alg != "PS256" {
		t.Fatalf("algorithm inferred from the key: got %s, want %s", k.Algorithm(), s.alg)
	}
	return k
}

// policyFiles is the embedded policy's top-level files. A stricter one
// limits new personal accounts at 60 strangers an hour (warning at 30) and
// carries one test of that instead of the embedded tests, which pin the
// embedded levels.
func policyFiles(t *testing.T, stricter bool) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	names, err := fs.Glob(policies.FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if stricter && strings.HasSuffix(name, "_test.rego") {
			continue
		}
		if files[name], err = fs.ReadFile(policies.FS, name); err != nil {
			t.Fatal(err)
		}
	}
	if !stricter {
		return files
	}
	var data map[string]any
	if err := json.Unmarshal(files[policies.DataFile], &data); err != nil {
		t.Fatal(err)
	}
	levels := data["config"].(map[string]any)["bulk_add"].(map[string]any)["levels"].(map[string]any)["personal"].(map[string]any)["new"].(map[string]any)
	levels["warn"], levels["limit"] = 30, 60
	if files[policies.DataFile], err = json.Marshal(data); err != nil {
		t.Fatal(err)
	}
	files["stricter_test.rego"] = []byte(`package stricter_test

import data.moderation

test_new_accounts_limited_at_60 if {
	moderation.decision.action == "limit" with input as {
		"account": {"id": "a", "type": "personal", "verified": false, "age_days": 0.5, "strikes": 0, "status": "allow"},
		"signals": {"bulk_add": {"hour_strangers": 60, "hour": 60, "evidence": "test"}},
		"event": {"id": "e", "kind": "friend_add", "at": "2026-03-02T10:00:00Z"},
	}
}
`)
	return files
}

func with(files map[string][]byte, name, content string) map[string][]byte {
	out := maps.Clone(files)
	out[name] = []byte(content)
	return out
}

// buildBundle writes files as an OPA bundle with the given manifest
// revision, signed by s unless s is nil, with OPA's own writer and signer.
func buildBundle(t *testing.T, files map[string][]byte, revision string, s *signer) []byte {
	t.Helper()
	var data map[string]any
	dec := json.NewDecoder(bytes.NewReader(files[policies.DataFile]))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		t.Fatal(err)
	}
	b := bundle.Bundle{Manifest: bundle.Manifest{Revision: revision}, Data: data}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, ".rego") {
			b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + name, Path: "/" + name, Raw: files[name]})
		}
	}
	if s != nil {
		if err := b.GenerateSignature(bundle.NewSigningConfig(s.private, s.alg, ""), "", false); err != nil {
			t.Fatalf("sign bundle: %v", err)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tamper rewrites one file of a built bundle (adding it if absent) and
// leaves everything else, the signature included, as it was.
func tamper(t *testing.T, raw []byte, name, content string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	put := func(path string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: path, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	replaced := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == name {
			body, replaced = []byte(content), true
		}
		put(h.Name, body)
	}
	if !replaced {
		put("/"+name, []byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// attempts records what a reloader hands on and reports.
type attempts struct {
	mu      sync.Mutex
	applied []*Policy
	reports []error
}

func (a *attempts) apply(p *Policy) { a.mu.Lock(); a.applied = append(a.applied, p); a.mu.Unlock() }
func (a *attempts) report(_ *Policy, err error) {
	a.mu.Lock()
	a.reports = append(a.reports, err)
	a.mu.Unlock()
}

func (a *attempts) counts() (applied, reported int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.applied), len(a.reports)
}

func (a *attempts) last() *Policy {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.applied) == 0 {
		return nil
	}
	return a.applied[len(a.applied)-1]
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logBuffer collects a logger's lines for a test to count.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

func writeFile(t *testing.T, path string, raw []byte) {
	t.Helper()
	// Beside, then renamed: the reloader never reads half a bundle.
	if err := os.WriteFile(path+".tmp", raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func bulkAdder(strangers float64) Input {
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	return Input{
		Account: moderation.Account{ID: "acct_1", Type: moderation.AccountPersonal, AgeDays: 0.5},
		Signals: map[string]moderation.Signal{"bulk_add": {Name: "bulk_add", Evidence: "friend requests",
			Values: map[string]float64{"hour": strangers, "hour_strangers": strangers, "distinct_targets_hour": strangers, "stranger_share": 1}}},
		Event: &moderation.Event{ID: "e1", Kind: moderation.KindFriendAdd, Account: "acct_1", At: at},
	}
}

// TestBundleReplacesPolicy: a signed bundle that compiles and passes its
// tests replaces the policy, its version names the bundle and revision,
// and its decisions are the new policy's.
func TestBundleReplacesPolicy(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t, "RS256")
	path := filepath.Join(t.TempDir(), "policy.tar.gz")
	// Laid out as `opa build -b policies/` does: modules under policies/,
	// data.json at the root.
	files := map[string][]byte{}
	for name, b := range policyFiles(t, true) {
		if name != policies.DataFile {
			name = "policies/" + name
		}
		files[name] = b
	}
	writeFile(t, path, buildBundle(t, files, "r42", &s))

	var got attempts
	r, err := NewBundleReloader(path, s.key(t), "live", got.apply, got.report, time.Hour, quiet())
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Load(ctx)
	if err != nil {
		t.Fatalf("signed, good bundle refused: %v", err)
	}
	if want := "bundle:" + path + "#r42@"; !strings.HasPrefix(p.Version, want) {
		t.Errorf("version: got %q, want %s<hash>", p.Version, want)
	}
	if applied, _ := got.counts(); applied != 1 {
		t.Errorf("applied %d policies, want 1", applied)
	}
	// The same files as a directory carry the same content hash: one
	// policy, however it arrives.
	dir := t.TempDir()
	for name, b := range policyFiles(t, true) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	asDir, err := Candidate(ctx, os.DirFS(dir), "dir")
	if err != nil {
		t.Fatal(err)
	}
	if hash := p.Version[strings.LastIndex(p.Version, "@"):]; !strings.HasSuffix(asDir.Version, hash) {
		t.Errorf("bundle version %s and directory version %s differ in content hash", p.Version, asDir.Version)
	}

	embedded, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	before, err := embedded.Evaluate(ctx, bulkAdder(70))
	if err != nil {
		t.Fatal(err)
	}
	after, err := p.Evaluate(ctx, bulkAdder(70))
	if err != nil {
		t.Fatal(err)
	}
	if before.Action != moderation.ActionWarn || after.Action != moderation.ActionLimit {
		t.Errorf("70 strangers an hour: got %s before and %s after the bundle, want warn then limit", before.Action, after.Action)
	}
}

// TestBundleRefusals: a bundle replaces nothing unless it is signed with
// the configured key, unchanged since, compiles strictly and passes its
// own tests; each refusal is reported with its reason.
func TestBundleRefusals(t *testing.T) {
	s, other := newSigner(t, "RS256"), newSigner(t, "RS256")
	good := policyFiles(t, false)
	signed := buildBundle(t, good, "r1", &s)
	noTests := policyFiles(t, true)
	delete(noTests, "stricter_test.rego")
	tests := []struct {
		name    string
		raw     []byte
		wantErr string
	}{
		{"unsigned", buildBundle(t, good, "r1", nil), "missing .signatures.json"},
		{"signed with another key", buildBundle(t, good, "r1", &other), "verify JWT signature"},
		{"data changed after signing", tamper(t, signed, policies.DataFile, `{"config": {}}`), "digest mismatch"},
		{"module changed after signing", tamper(t, signed, "quota.rego", "package moderation\n"), "digest mismatch"},
		{"module added after signing", tamper(t, signed, "allow_all.rego", "package moderation\n\nnote := 1\n"), "not included in bundle signature"},
		{"not a bundle", []byte("hello"), "archive read failed"},
		{"fails strict compile", buildBundle(t, with(good, "unused.rego", "package moderation\n\nunused_rule if {\n\tx := 1\n\tinput.y == 1\n}\n"), "r2", &s), "compile policy"},
		{"its tests fail", buildBundle(t, with(good, "failing_test.rego", "package failing_test\n\ntest_always_fails if {\n\tfalse\n}\n"), "r3", &s), "tests fail: data.failing_test.test_always_fails"},
		{"no tests", buildBundle(t, noTests, "r4", &s), "carries no tests"},
		{"two modules of the same name", buildBundle(t, with(good, "more/quota.rego", "package moderation\n\nnote := 1\n"), "r5", &s), "two modules named quota.rego"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.tar.gz")
			writeFile(t, path, tt.raw)
			var got attempts
			r, err := NewBundleReloader(path, s.key(t), "live", got.apply, got.report, time.Hour, quiet())
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Load(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v (policy %v), want an error containing %q", err, p, tt.wantErr)
			}
			applied, reported := got.counts()
			if applied != 0 || reported != 1 || got.reports[0] == nil {
				t.Errorf("applied %d policies and reported %v; want nothing applied and the refusal reported", applied, got.reports)
			}
		})
	}
}

// TestBundleKeys: the algorithm is inferred from the public key or given,
// and must go with it; OPA verifies every one it signs.
func TestBundleKeys(t *testing.T) {
	files := policyFiles(t, false)
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s := newSigner(t, alg)
			key, err := LoadBundleKey(s.pubFile, alg)
			if err != nil {
				t.Fatal(err)
			}
			fsys, rev, err := openBundle(buildBundle(t, files, "r1", &s), key)
			if err != nil {
				t.Fatalf("signed with %s: %v", alg, err)
			}
			if _, err := fs.Stat(fsys, "moderation.rego"); err != nil || rev != "r1" {
				t.Errorf("opened bundle: revision %q, moderation.rego: %v", rev, err)
			}
		})
	}
	ec := newSigner(t, "ES256")
	if _, err := LoadBundleKey(ec.pubFile, "RS256"); err == nil || !strings.Contains(err.Error(), "does not go with this key") {
		t.Errorf("RS256 with an ECDSA key: got %v, want refused", err)
	}
	priv := filepath.Join(t.TempDir(), "private.pem")
	if err := os.WriteFile(priv, []byte(ec.private), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBundleKey(priv, ""); err == nil || !strings.Contains(err.Error(), "PUBLIC KEY") {
		t.Errorf("a private key: got %v, want refused", err)
	}
}

// bundleServer serves a bundle over HTTP on loopback with an ETag, as a
// bundle server (or OPA's own) does, answering If-None-Match with 304.
type bundleServer struct {
	mu          sync.Mutex
	raw         []byte
	gets        atomic.Int64 // answered 200
	notModified atomic.Int64 // answered 304
	down        atomic.Bool  // answer 503
	unavailable atomic.Int64 // answered 503
}

func (b *bundleServer) set(raw []byte) { b.mu.Lock(); b.raw = raw; b.mu.Unlock() }

func (b *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.down.Load() {
		b.unavailable.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	b.mu.Lock()
	raw := b.raw
	b.mu.Unlock()
	sum := sha256.Sum256(raw)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		b.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	b.gets.Add(1)
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(raw)
}

// TestBundleURL: a URL is polled with the last ETag; a 304 reloads nothing
// and a changed bundle is picked up.
func TestBundleURL(t *testing.T) {
	s := newSigner(t, "ES256")
	srv := &bundleServer{raw: buildBundle(t, policyFiles(t, false), "r1", &s)}
	ts := httptest.NewServer(srv) // 127.0.0.1
	t.Cleanup(ts.Close)

	var got attempts
	var logs logBuffer
	r, err := NewBundleReloader(ts.URL+"/bundles/moderation.tar.gz?token=secret", s.key(t), "live", got.apply, got.report, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "bundle:" + ts.URL + "/bundles/moderation.tar.gz#r1@"; !strings.HasPrefix(first.Version, want) {
		t.Errorf("version: got %q, want %s<hash> (no query: it may hold a token)", first.Version, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	waitUntil(t, "two polls answered 304", func() bool { return srv.notModified.Load() >= 2 })
	if applied, reported := got.counts(); applied != 1 || reported != 1 || srv.gets.Load() != 1 {
		t.Fatalf("after 304s: %d applied, %d reported, %d bundles served; want 1, 1, 1", applied, reported, srv.gets.Load())
	}

	// A server that is down is no candidate: nothing is refused or loaded.
	srv.down.Store(true)
	waitUntil(t, "polls answered 503", func() bool { return srv.unavailable.Load() >= 3 })
	srv.down.Store(false)
	n := srv.notModified.Load()
	waitUntil(t, "a 304 once the server is back", func() bool { return srv.notModified.Load() > n })
	if applied, reported := got.counts(); applied != 1 || reported != 1 {
		t.Fatalf("after 503s: %d applied, %d reported; want 1 and 1", applied, reported)
	}
	if n := logs.count("policy source unreadable"); n != 1 {
		t.Errorf("the server being down was logged %d times, want once", n)
	}

	srv.set(buildBundle(t, policyFiles(t, true), "r2", &s))
	waitUntil(t, "the changed bundle loaded", func() bool {
		p := got.last()
		return p != nil && strings.Contains(p.Version, "#r2@")
	})
	// And then the server answers 304 again: nothing more is loaded.
	n = srv.notModified.Load()
	waitUntil(t, "another 304", func() bool { return srv.notModified.Load() >= n+2 })
	if applied, _ := got.counts(); applied != 2 {
		t.Errorf("applied %d policies, want 2", applied)
	}

	// A refused bundle is fetched once, refused once, and the policy stays.
	other := newSigner(t, "ES256")
	srv.set(buildBundle(t, policyFiles(t, false), "r3", &other))
	waitUntil(t, "the bundle signed by another key refused", func() bool {
		_, reported := got.counts()
		return reported == 3
	})
	n = srv.notModified.Load()
	waitUntil(t, "304s after the refusal", func() bool { return srv.notModified.Load() >= n+2 })
	if applied, reported := got.counts(); applied != 2 || reported != 3 || !strings.Contains(got.last().Version, "#r2@") {
		t.Errorf("after the refusal: %d applied, %d reported, running %s; want 2, 3 and r2", applied, reported, got.last().Version)
	}
	if n := logs.count("policy candidate refused; the running policy stays"); n != 1 {
		t.Errorf("the refusal was logged %d times, want once", n)
	}
	if n := logs.count("token=secret"); n != 0 {
		t.Errorf("the URL's query (a token) was logged %d times", n)
	}
}

// TestBundleFilePolled: a bundle file is read again when it changes, and
// an unchanged one is not compiled again.
func TestBundleFilePolled(t *testing.T) {
	s := newSigner(t, "EdDSA")
	path := filepath.Join(t.TempDir(), "policy.tar.gz")
	writeFile(t, path, buildBundle(t, policyFiles(t, false), "r1", &s))
	var got attempts
	r, err := NewBundleReloader(path, s.key(t), "live", got.apply, got.report, 20*time.Millisecond, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	writeFile(t, path, buildBundle(t, policyFiles(t, true), "r2", &s))
	waitUntil(t, "the changed file loaded", func() bool {
		p := got.last()
		return p != nil && strings.Contains(p.Version, "#r2@")
	})
	if applied, reported := got.counts(); applied != 2 || reported != 2 {
		t.Errorf("%d applied, %d reported; want 2 and 2", applied, reported)
	}
	r.Trigger() // SIGHUP: loaded again even though unchanged
	waitUntil(t, "the triggered load", func() bool { applied, _ := got.counts(); return applied == 3 })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
