package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"moderation/internal/auth"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pub(key ed25519.PrivateKey) ed25519.PublicKey {
	return key.Public().(ed25519.PublicKey)
}

func mint(t testing.TB, key ed25519.PrivateKey, id auth.Identity, ttl time.Duration, now time.Time) string {
	t.Helper()
	tok, _, err := auth.NewIssuer(key).Mint(id, ttl, now)
	if err != nil {
		t.Fatalf("mint %+v: %v", id, err)
	}
	return tok
}

// sign crafts a token outside the Issuer, to test what Verify does with
// claims or algorithms the Issuer would never produce.
func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// goodClaims are what the Issuer would write for an admin at t0.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "alice", "role": "admin", "iss": "moderation", "aud": "moderation.v1",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "x",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestMintVerifyRoundTrip(t *testing.T) {
	key := newKey(t)
	v := auth.NewVerifier(pub(key))
	for _, id := range []auth.Identity{
		{Subject: "svc-broadcast", Role: auth.RoleService},
		{Subject: "alice@example.com", Role: auth.RoleReviewer},
		{Subject: "ops:bob", Role: auth.RoleAdmin},
		{Subject: "carol", Role: auth.RoleOwner, Account: "acct_123"},
	} {
		t.Run(string(id.Role), func(t *testing.T) {
			tok, expires, err := auth.NewIssuer(key).Mint(id, 2*time.Hour, t0)
			if err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(2 * time.Hour); !expires.Equal(want) {
				t.Errorf("got expires %v, want %v", expires, want)
			}
			got, err := v.Verify(tok, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if got != id {
				t.Errorf("got %+v, want %+v", got, id)
			}
		})
	}
}

func TestMintClaims(t *testing.T) {
	key := newKey(t)
	now := t0.Add(500 * time.Millisecond) // JWT times are whole seconds
	tok, expires, err := auth.NewIssuer(key).Mint(auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(auth.DefaultTTL); !expires.Equal(want) {
		t.Errorf("ttl 0: got expires %v, want %v", expires, want)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("got %d token parts, want 3", len(parts))
	}
	var header, payload map[string]any
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	if header["alg"] != "EdDSA" {
		t.Errorf("got alg %v, want EdDSA", header["alg"])
	}
	for k, want := range map[string]any{
		"sub": "carol", "role": "owner", "acct": "acct_1", "iss": "moderation",
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(24 * time.Hour).Unix()),
	} {
		if got := payload[k]; got != want {
			t.Errorf("claim %s: got %v, want %v", k, got, want)
		}
	}
	if aud, _ := json.Marshal(payload["aud"]); string(aud) != `["moderation.v1"]` {
		t.Errorf("claim aud: got %s, want [\"moderation.v1\"]", aud)
	}
	if jti, _ := payload["jti"].(string); len(jti) < 16 {
		t.Errorf("claim jti: got %q, want a random id", jti)
	}
	// Two tokens for the same identity at the same instant still differ.
	other := mint(t, key, auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"}, 0, now)
	if other == tok {
		t.Error("two mints gave the same token, want distinct jti")
	}
}

func TestMintRejectsInvalidIdentity(t *testing.T) {
	iss := auth.NewIssuer(newKey(t))
	for _, tc := range []struct {
		name    string
		id      auth.Identity
		wantErr string
	}{
		{"owner without account", auth.Identity{Subject: "carol", Role: auth.RoleOwner}, "account required"},
		{"unknown role", auth.Identity{Subject: "carol", Role: "root"}, "role"},
		{"empty subject", auth.Identity{Role: auth.RoleAdmin}, "subject"},
		{"account on service", auth.Identity{Subject: "svc", Role: auth.RoleService, Account: "acct_1"}, "only allowed for role owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := iss.Mint(tc.id, time.Hour, t0)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got token %q, error %v, want an error containing %q", tok, err, tc.wantErr)
			}
		})
	}
	if _, _, err := auth.NewIssuer(nil).Mint(auth.Identity{Subject: "a", Role: auth.RoleAdmin}, time.Hour, t0); err == nil {
		t.Error("issuer without key: got no error, want one")
	}
}

func TestVerifyRejects(t *testing.T) {
	key, other := newKey(t), newKey(t)
	admin := auth.Identity{Subject: "alice", Role: auth.RoleAdmin}
	good := mint(t, key, admin, time.Hour, t0)

	// tampered keeps the signature but makes the payload claim admin for
	// a reviewer token.
	tampered := func() string {
		parts := strings.Split(mint(t, key, auth.Identity{Subject: "bob", Role: auth.RoleReviewer}, time.Hour, t0), ".")
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.Replace(string(b), `"role":"reviewer"`, `"role":"admin"`, 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}()
	// swapped puts another valid token's signature on this payload.
	swapped := func() string {
		a, b := strings.Split(good, "."), strings.Split(mint(t, key, admin, time.Hour, t0), ".")
		return a[0] + "." + a[1] + "." + b[2]
	}()

	for _, tc := range []struct {
		name  string
		token string
		now   time.Time
		want  string
	}{
		{"empty", "", t0, "missing token"},
		{"not a JWT", "hello", t0, "malformed token"},
		{"three junk parts", "a.b.c", t0, "malformed token"},
		{"huge", strings.Repeat("a", 9<<10), t0, "malformed token"},
		{"expired", good, t0.Add(time.Hour + 31*time.Second), "token expired"},
		{"issued in the future", good, t0.Add(-time.Minute), "token issued in the future"},
		{"not valid yet", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "nbf", t0.Add(time.Hour).Unix())), t0, "token not valid yet"},
		{"wrong key", mint(t, other, admin, time.Hour, t0), t0, "bad signature"},
		{"tampered payload", tampered, t0, "bad signature"},
		{"swapped signature", swapped, t0, "bad signature"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims()), t0, "unsupported signing algorithm"},
		{"HS256 keyed with the public key", sign(t, jwt.SigningMethodHS256, []byte(pub(key)), goodClaims()), t0, "unsupported signing algorithm"},
		{"HS256 keyed with the private key", sign(t, jwt.SigningMethodHS256, []byte(key), goodClaims()), t0, "unsupported signing algorithm"},
		{"unknown alg", "eyJhbGciOiJYWVoiLCJ0eXAiOiJKV1QifQ.e30.c2ln", t0, "unsupported signing algorithm"},
		{"wrong issuer", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "iss", "someone")), t0, "wrong issuer"},
		{"no issuer", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "iss", nil)), t0, "missing required claim"},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "aud", "moderation.v2")), t0, "wrong audience"},
		{"no audience", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "aud", nil)), t0, "missing required claim"},
		{"no expiry", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "exp", nil)), t0, "missing required claim"},
		{"no subject", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "sub", nil)), t0, "missing subject"},
		{"bad subject", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "sub", "a b")), t0, "invalid identity"},
		{"unknown role", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "role", "root")), t0, "unknown role"},
		{"no role", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "role", nil)), t0, "unknown role"},
		{"owner without account", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "role", "owner")), t0, "owner token without account"},
		{"account on admin", sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "acct", "acct_1")), t0, "account on a non-owner token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := auth.NewVerifier(pub(key))
			id, err := v.Verify(tc.token, tc.now)
			if err == nil {
				t.Fatalf("got identity %+v, want an error containing %q", id, tc.want)
			}
			if !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("got error %v, want one wrapping ErrUnauthenticated", err)
			}
			if got, want := err.Error(), "unauthenticated: "+tc.want; got != want {
				t.Errorf("got error %q, want %q", got, want)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Error("error contains the token")
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	key := newKey(t)
	id := auth.Identity{Subject: "alice", Role: auth.RoleAdmin}
	tok := mint(t, key, id, time.Hour, t0)
	for _, tc := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"issued 29s ahead of our clock", t0.Add(-29 * time.Second), true},
		{"issued 31s ahead of our clock", t0.Add(-31 * time.Second), false},
		{"29s after expiry", t0.Add(time.Hour + 29*time.Second), true},
		{"30s after expiry", t0.Add(time.Hour + 30*time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.NewVerifier(pub(key)).Verify(tok, tc.now)
			if got := err == nil; got != tc.ok {
				t.Fatalf("got accepted %v (err %v), want %v", got, err, tc.ok)
			}
		})
	}
}

// TestVerifyCached checks what the cache may and may not answer: the same
// identity for a token seen before, and nothing once the token has expired.
func TestVerifyCached(t *testing.T) {
	key := newKey(t)
	v := auth.NewVerifier(pub(key))
	id := auth.Identity{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"}
	tok := mint(t, key, id, time.Hour, t0)

	for i, now := range []time.Time{t0, t0.Add(time.Minute), t0.Add(59 * time.Minute)} {
		got, err := v.Verify(tok, now)
		if err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
		if got != id {
			t.Fatalf("verify %d: got %+v, want %+v", i, got, id)
		}
	}
	// Within the leeway the cache does not answer, but a full check does.
	if _, err := v.Verify(tok, t0.Add(time.Hour+10*time.Second)); err != nil {
		t.Fatalf("in leeway: %v", err)
	}
	if _, err := v.Verify(tok, t0.Add(2*time.Hour)); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "token expired") {
		t.Fatalf("cached token after expiry: got %v, want token expired", err)
	}
	// A clock set back before the token was issued is not answered from
	// the cache either.
	if _, err := v.Verify(tok, t0.Add(-time.Hour)); err == nil {
		t.Fatal("cached token before issue: got no error, want one")
	}
	// A cached token's identity is not handed to a different token.
	if _, err := v.Verify(tok+"x", t0); err == nil {
		t.Fatal("token with a byte appended: got no error, want one")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	key := newKey(t)
	v := auth.NewVerifier(pub(key))
	ids := []auth.Identity{
		{Subject: "svc-a", Role: auth.RoleService},
		{Subject: "svc-b", Role: auth.RoleService},
		{Subject: "carol", Role: auth.RoleOwner, Account: "acct_1"},
	}
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = mint(t, key, id, time.Hour, t0)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(ids))
	for g := range 8 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(ids)
				got, err := v.Verify(toks[i], t0.Add(time.Duration(n)*time.Second))
				if err == nil && got != ids[i] {
					err = errors.New("got identity " + got.Subject + ", want " + ids[i].Subject)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVerifierWithoutKey(t *testing.T) {
	_, err := auth.NewVerifier(nil).Verify("a.b.c", t0)
	if err == nil || errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("got %v, want a configuration error that is not ErrUnauthenticated", err)
	}
}
