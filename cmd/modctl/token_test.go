package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"moderation/internal/auth"
)

// tokenEnv clears the variables modctl token reads, so the tests see only
// the flags they pass, and returns a fresh data directory holding a key.
func tokenEnv(t *testing.T) (dataDir string, pub ed25519.PublicKey) {
	t.Helper()
	t.Setenv("MODERATION_TOKEN_KEY_FILE", "")
	t.Setenv("MODERATION_DATA_DIR", "")
	t.Setenv("MODERATION_TOKEN", "")
	// No service answers here: the token is signed locally with the key.
	t.Setenv("MODERATION_GRPC_LISTEN", "127.0.0.1:1")
	dataDir = t.TempDir()
	key, _, err := auth.LoadOrCreateKey(auth.DefaultKeyFile(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	return dataDir, key.Public().(ed25519.PublicKey)
}

// runToken runs modctl token with no service to ask and returns its
// stdout; it fails the test if the command fails or writes to stderr
// anything but the one line reporting the local mint.
func runToken(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"token"}, args...), &out, &errOut); err != nil {
		t.Fatalf("modctl token %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	notice, ok := strings.CutPrefix(errOut.String(), "modctl token: minted locally: ")
	var rec auth.TokenRecord
	if !ok || strings.Count(notice, "\n") != 1 || json.Unmarshal([]byte(notice), &rec) != nil || rec.Op != "mint" || rec.TokenID == "" {
		t.Errorf("got stderr %q, want one line reporting the local mint", errOut.String())
	}
	if strings.Contains(notice, "eyJ") { // how every JWT begins
		t.Errorf("the local mint's report holds the token: %s", notice)
	}
	return out.String()
}

func TestTokenPrintsVerifiableToken(t *testing.T) {
	dataDir, pub := tokenEnv(t)
	keyFile := auth.DefaultKeyFile(dataDir)
	for _, tc := range []struct {
		name string
		args []string
		want auth.Identity
		ttl  time.Duration
	}{
		{"service", []string{"-role", "service", "-subject", "svc-broadcast", "-key", keyFile}, auth.Identity{Subject: "svc-broadcast", Role: auth.RoleService}, 24 * time.Hour},
		{"reviewer via data dir", []string{"-role", "reviewer", "-subject", "alice", "-data-dir", dataDir, "-ttl", "8h"}, auth.Identity{Subject: "alice", Role: auth.RoleReviewer}, 8 * time.Hour},
		{"admin", []string{"-role", "admin", "-subject", "ops:bob", "-key", keyFile, "-ttl", "15m"}, auth.Identity{Subject: "ops:bob", Role: auth.RoleAdmin}, 15 * time.Minute},
		{"owner", []string{"-role", "owner", "-subject", "carol", "-account", "acct_123", "-key", keyFile}, auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_123"}, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			out := runToken(t, tc.args...)
			token, ok := strings.CutSuffix(out, "\n")
			if !ok || strings.ContainsAny(token, " \n") {
				t.Fatalf("got stdout %q, want the token alone on one line", out)
			}
			v := auth.NewVerifier(pub)
			got, err := v.Verify(token, before)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			// Valid for ttl, not longer (the leeway is 30s).
			if _, err := v.Verify(token, time.Now().Add(tc.ttl+time.Minute)); err == nil {
				t.Errorf("token still valid a minute after its %v ttl", tc.ttl)
			}
		})
	}
}

func TestTokenJSON(t *testing.T) {
	dataDir, pub := tokenEnv(t)
	before := time.Now().Truncate(time.Second)
	out := runToken(t, "-role", "owner", "-subject", "carol", "-account", "acct_1", "-data-dir", dataDir, "-ttl", "2h", "-json")
	after := time.Now()
	var got struct {
		Token     string    `json:"token"`
		Subject   string    `json:"subject"`
		Role      string    `json:"role"`
		Account   string    `json:"account"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Subject != "carol" || got.Role != "owner" || got.Account != "acct_1" {
		t.Errorf("got subject %q role %q account %q, want carol owner acct_1", got.Subject, got.Role, got.Account)
	}
	if got.ExpiresAt.Before(before.Add(2*time.Hour)) || got.ExpiresAt.After(after.Add(2*time.Hour)) {
		t.Errorf("got expires_at %v, want 2h after %v", got.ExpiresAt, before)
	}
	id, err := auth.NewVerifier(pub).Verify(got.Token, after)
	if err != nil {
		t.Fatal(err)
	}
	if want := (auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"}); id != want {
		t.Errorf("got %+v, want %+v", id, want)
	}
}

// TestTokenKeyFromEnvironment checks modctl finds the key as the service
// does: MODERATION_TOKEN_KEY_FILE, else MODERATION_DATA_DIR.
func TestTokenKeyFromEnvironment(t *testing.T) {
	dataDir, pub := tokenEnv(t)
	for _, env := range []string{"MODERATION_DATA_DIR", "MODERATION_TOKEN_KEY_FILE"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("MODERATION_DATA_DIR", "")
			t.Setenv("MODERATION_TOKEN_KEY_FILE", "")
			val := dataDir
			if env == "MODERATION_TOKEN_KEY_FILE" {
				val = auth.DefaultKeyFile(dataDir)
			}
			t.Setenv(env, val)
			out := runToken(t, "-role", "service", "-subject", "svc-a")
			if _, err := auth.NewVerifier(pub).Verify(strings.TrimSpace(out), time.Now()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	dataDir, _ := tokenEnv(t)
	keyFile := auth.DefaultKeyFile(dataDir)
	empty := t.TempDir()

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecFile := filepath.Join(t.TempDir(), "ec.key")
	if err := os.WriteFile(ecFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		wantErr []string // all must appear
	}{
		{"no role", []string{"-subject", "alice", "-key", keyFile}, []string{"flag -role: required"}},
		{"unknown role", []string{"-role", "root", "-subject", "alice", "-key", keyFile}, []string{`flag -role: "root" is not service, reviewer, admin or owner`}},
		{"no subject", []string{"-role", "admin", "-key", keyFile}, []string{"flag -subject: required"}},
		{"subject with a space", []string{"-role", "admin", "-subject", "alice smith", "-key", keyFile}, []string{"flag -subject:", "alice smith"}},
		{"owner without account", []string{"-role", "owner", "-subject", "carol", "-key", keyFile}, []string{"flag -account: required for role owner"}},
		{"account on reviewer", []string{"-role", "reviewer", "-subject", "alice", "-account", "acct_1", "-key", keyFile}, []string{"flag -account: only for role owner, not reviewer"}},
		{"account with a dot", []string{"-role", "owner", "-subject", "carol", "-account", "acct.1", "-key", keyFile}, []string{"flag -account:", "acct.1"}},
		{"zero ttl", []string{"-role", "admin", "-subject", "alice", "-ttl", "0s", "-key", keyFile}, []string{"flag -ttl: 0s is not positive"}},
		{"negative ttl", []string{"-role", "admin", "-subject", "alice", "-ttl", "-1h", "-key", keyFile}, []string{"flag -ttl: -1h0m0s is not positive"}},
		{"bad ttl", []string{"-role", "admin", "-subject", "alice", "-ttl", "tomorrow"}, []string{`invalid value "tomorrow" for flag -ttl`}},
		{"argument", []string{"-role", "admin", "-subject", "alice", "-key", keyFile, "extra"}, []string{"token takes no arguments"}},
		{"no key in data dir", []string{"-role", "admin", "-subject", "alice", "-data-dir", empty}, []string{"no token key at " + auth.DefaultKeyFile(empty), "start moderationd once", "-key"}},
		{"no key file", []string{"-role", "admin", "-subject", "alice", "-key", filepath.Join(empty, "nope.key")}, []string{"no token key at " + filepath.Join(empty, "nope.key")}},
		{"ECDSA key", []string{"-role", "admin", "-subject", "alice", "-key", ecFile}, []string{"load token key " + ecFile, "key is ECDSA, want Ed25519"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"token"}, tc.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("got no error and stdout %q, want an error", out.String())
			}
			msg := err.Error() + "\n" + errOut.String() // flag's own parse errors go to stderr
			for _, want := range tc.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("got error %q, want one containing %q", msg, want)
				}
			}
			if out.Len() != 0 {
				t.Errorf("got stdout %q, want nothing on failure", out.String())
			}
		})
	}
}

// TestTokenThroughTheService: with the service up, modctl token has it
// mint the token, so the mint is audited with modctl's caller as actor and
// nothing is reported locally; modctl token revoke then has every call
// with that token refused.
func TestTokenThroughTheService(t *testing.T) {
	svc := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := []string{"-addr", svc.GRPCAddr, "-data-dir", os.Getenv("MODERATION_DATA_DIR")}
	var out, errOut bytes.Buffer
	if err := run(ctx, append([]string{"token", "-role", "reviewer", "-subject", "erin", "-json"}, api...), &out, &errOut); err != nil {
		t.Fatalf("modctl token: %v\n%s", err, errOut.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("got stderr %q, want none: the service minted it", errOut.String())
	}
	var minted struct {
		Token   string `json:"token"`
		TokenID string `json:"token_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &minted); err != nil || minted.TokenID == "" {
		t.Fatalf("got %q (%v), want the token and its id", out.String(), err)
	}
	msg, err := svc.Streams.Decisions.GetLastMsgForSubject(ctx, "mod.audit.token."+minted.TokenID)
	if err != nil {
		t.Fatalf("audit record of the mint: %v", err)
	}
	var rec auth.TokenRecord
	if err := json.Unmarshal(msg.Data, &rec); err != nil || rec.Op != "mint" || rec.Subject != "erin" || !strings.HasPrefix(rec.Actor, "admin:modctl:") {
		t.Errorf("audit record: got %s, want the mint for erin by admin:modctl:<user>", msg.Data)
	}

	as := func(token string) error {
		var o, e bytes.Buffer
		return run(ctx, []string{"decisions", "-addr", svc.GRPCAddr, "-token", token}, &o, &e)
	}
	if err := as(minted.Token); err != nil {
		t.Fatalf("call with the token: %v", err)
	}
	revoked := modctl(t, ctx, append([]string{"token", "revoke", minted.TokenID, "-note", "left the team"}, api...)...)
	if !strings.Contains(revoked, "revoked token "+minted.TokenID) {
		t.Errorf("got %q, want it to say the token was revoked", revoked)
	}
	eventually(t, "the revoked token refused", func() (string, bool) {
		err := as(minted.Token)
		return fmt.Sprint(err), err != nil && strings.Contains(err.Error(), "token revoked")
	})
}
