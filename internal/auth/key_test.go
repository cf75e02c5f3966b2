package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"moderation/internal/auth"
)

func TestDefaultKeyFile(t *testing.T) {
	if got, want := auth.DefaultKeyFile("/var/lib/mod"), filepath.FromSlash("/var/lib/mod/auth/token.key"); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := auth.DefaultKeyFile(dir)

	key, created, err := auth.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first call: got created false, want true")
	}
	if len(key) != ed25519.PrivateKeySize {
		t.Fatalf("got key of %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	for _, c := range []struct {
		path string
		want fs.FileMode
	}{{path, 0o600}, {filepath.Dir(path), 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: got mode %v, want %v", c.path, got, c.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("got %d files in the key directory, want 1 (no temporary file left)", len(entries))
	}

	again, created, err := auth.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second call: got created true, want false")
	}
	if !key.Equal(again) {
		t.Error("second call returned a different key")
	}
	loaded, err := auth.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(loaded) {
		t.Error("LoadKey returned a different key")
	}
}

// TestLoadOrCreateKeyConcurrent starts several creators on one path, as two
// processes starting together would: all must end up with the one key.
func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth", "token.key")
	const n = 8
	keys := make([]ed25519.PrivateKey, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], created[i], errs[i] = auth.LoadOrCreateKey(path) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if created[i] {
			creators++
		}
		if !keys[i].Equal(keys[0]) {
			t.Errorf("creator %d got a different key from creator 0", i)
		}
	}
	if creators != 1 {
		t.Errorf("got %d callers reporting created, want 1", creators)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs8 := func(k any) []byte {
		t.Helper()
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		path    string
		wantErr string
	}{
		{"missing", filepath.Join(dir, "nope.key"), "no such file"},
		{"ECDSA PKCS#8", write("ec.key", pkcs8(ec)), "key is ECDSA, want Ed25519"},
		{"RSA PKCS#8", write("rsa.key", pkcs8(rsaKey)), "key is RSA, want Ed25519"},
		{"SEC 1 EC key", write("sec1.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})), `PEM block is "EC PRIVATE KEY"`},
		{"not PEM", write("junk.key", []byte("hello")), "no PEM block"},
		{"bad DER", write("der.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})), "parse PKCS#8 key"},
		{"directory", dir, "load token key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.LoadKey(tc.path)
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("got error %q, want one naming %s and containing %q", err, tc.path, tc.wantErr)
			}
		})
	}

	if _, err := auth.LoadKey(filepath.Join(dir, "nope.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key: got %v, want an error matching fs.ErrNotExist", err)
	}
	// LoadOrCreateKey must not replace a key file it cannot read as Ed25519.
	if _, _, err := auth.LoadOrCreateKey(filepath.Join(dir, "ec.key")); err == nil {
		t.Error("LoadOrCreateKey over an ECDSA key: got no error, want one")
	}
}

func TestParseKey(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := auth.ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(key) {
		t.Fatal("got a different key, want the one encoded")
	}
	if _, err := auth.ParseKey([]byte("MC4CAQAwBQYDK2VwBCIEI")); err == nil || !strings.Contains(err.Error(), "parse token key: no PEM block") {
		t.Fatalf("base64 without PEM armour: got %v, want an error saying parse token key: no PEM block", err)
	}
}
