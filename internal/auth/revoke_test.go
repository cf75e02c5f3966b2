package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"moderation/internal/auth"
)

// TestRevokedTokenRefusedEvenWhenCached: a token verified (and so cached)
// is refused on its next call once its id is revoked, and accepted again
// if the revocation is withdrawn; other tokens are untouched.
func TestRevokedTokenRefusedEvenWhenCached(t *testing.T) {
	key := newKey(t)
	issuer := auth.NewIssuer(key)
	alice, err := issuer.Issue(auth.Identity{Subject: "alice", Role: auth.RoleReviewer}, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := issuer.Issue(auth.Identity{Subject: "bob", Role: auth.RoleReviewer}, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := auth.TokenID(alice.Token); err != nil || id != alice.ID {
		t.Errorf("TokenID: got %q, %v; want %q", id, err, alice.ID)
	}
	v := auth.NewVerifier(pub(key))
	var revoked auth.Revocations
	v.CheckRevocations(&revoked)
	now := t0.Add(time.Minute)
	for _, m := range []auth.Minted{alice, bob} {
		if _, err := v.Verify(m.Token, now); err != nil {
			t.Fatalf("before revoking: got %v, want accepted", err)
		}
	}
	revoked.Revoke(alice.ID)
	if _, err := v.Verify(alice.Token, now); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "token revoked") {
		t.Errorf("revoked token: got %v, want unauthenticated: token revoked", err)
	}
	if _, err := v.Verify(bob.Token, now); err != nil {
		t.Errorf("another token: got %v, want accepted", err)
	}
	// Not cached yet, on a fresh verifier: refused by the full check too.
	fresh := auth.NewVerifier(pub(key))
	fresh.CheckRevocations(&revoked)
	if _, err := fresh.Verify(alice.Token, now); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked token, uncached: got %v, want unauthenticated", err)
	}
	revoked.Restore(alice.ID)
	if _, err := v.Verify(alice.Token, now); err != nil {
		t.Errorf("after the revocation was withdrawn: got %v, want accepted", err)
	}
}

// A token without an id could never be revoked, so it is not accepted.
func TestTokenWithoutIDRefused(t *testing.T) {
	key := newKey(t)
	tok := sign(t, jwt.SigningMethodEdDSA, key, with(goodClaims(), "jti", nil))
	if _, err := auth.NewVerifier(pub(key)).Verify(tok, t0); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "missing token id") {
		t.Errorf("got %v, want unauthenticated: missing token id", err)
	}
	if _, err := auth.TokenID(tok); err == nil {
		t.Error("TokenID of a token without one: got no error")
	}
	if _, err := auth.TokenID("not a token"); err == nil {
		t.Error("TokenID of garbage: got no error")
	}
}
