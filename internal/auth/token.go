package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	issuer   = "moderation"
	audience = "moderation.v1"

	// DefaultTTL is how long a token lives when Mint is given no ttl.
	DefaultTTL = 24 * time.Hour

	// leeway absorbs clock skew between the host that minted a token and
	// the one verifying it.
	leeway = 30 * time.Second

	// maxTokenLen bounds the work an unauthenticated caller can ask of
	// Verify; our tokens are about 300 bytes.
	maxTokenLen = 8 << 10
)

// ErrUnauthenticated is wrapped by every error Verify returns for a token it
// does not accept. The text after it is short and safe to send back to the
// caller; it never contains the token.
var ErrUnauthenticated = errors.New("unauthenticated")

// claims is the JWT payload. acct is only set for owners.
type claims struct {
	Role    Role   `json:"role"`
	Account string `json:"acct,omitempty"`
	jwt.RegisteredClaims
}

// Issuer signs tokens with the service's Ed25519 key.
type Issuer struct {
	key ed25519.PrivateKey
}

// NewIssuer returns an Issuer signing with key.
func NewIssuer(key ed25519.PrivateKey) *Issuer {
	return &Issuer{key: key}
}

// Minted is a token just signed, with what an audit record says of it.
type Minted struct {
	Token   string // the bearer token itself: never logged or recorded
	ID      string // its jti claim, random: what revocation names
	Expires time.Time
}

// Mint signs a token for id valid from now for ttl (DefaultTTL if ttl <= 0).
// expires is the token's exp claim, which JWT keeps to the second.
func (i *Issuer) Mint(id Identity, ttl time.Duration, now time.Time) (token string, expires time.Time, err error) {
	m, err := i.Issue(id, ttl, now)
	return m.Token, m.Expires, err
}

// Issue is Mint, also returning the token's id.
func (i *Issuer) Issue(id Identity, ttl time.Duration, now time.Time) (Minted, error) {
	if len(i.key) != ed25519.PrivateKeySize {
		return Minted{}, errors.New("mint token: issuer has no Ed25519 key")
	}
	if err := id.Validate(); err != nil {
		return Minted{}, fmt.Errorf("mint token: %w", err)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return Minted{}, fmt.Errorf("mint token: token id: %w", err)
	}
	exp := jwt.NewNumericDate(now.Add(ttl))
	c := claims{
		Role:    id.Role,
		Account: id.Account,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   id.Subject,
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: exp,
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(i.key)
	if err != nil {
		return Minted{}, fmt.Errorf("mint token: sign: %w", err)
	}
	return Minted{Token: token, ID: c.ID, Expires: exp.Time}, nil
}

// TokenID returns a token's id (jti) without checking its signature: to
// revoke a token given whole. Revoking an id that no token of ours carries
// refuses nothing, so a forged token gains nothing here.
func TokenID(token string) (string, error) {
	c, ok := unverifiedClaims(token)
	if !ok {
		return "", errors.New("token id: malformed token")
	}
	if !validName(c.ID, 64, "_-") {
		return "", errors.New("token id: the token carries no id (jti)")
	}
	return c.ID, nil
}

// Claims returns whom a token says it speaks for and when it says it
// expires, without checking its signature: for the record of a
// revocation, never to trust.
func Claims(token string) (id Identity, expires time.Time, ok bool) {
	c, ok := unverifiedClaims(token)
	if !ok {
		return Identity{}, time.Time{}, false
	}
	if c.ExpiresAt != nil {
		expires = c.ExpiresAt.Time
	}
	return Identity{Subject: c.Subject, Role: c.Role, Account: c.Account}, expires, true
}

// unverifiedClaims decodes a token's claims without checking its
// signature, for TokenID and Claims alone.
func unverifiedClaims(token string) (claims, bool) {
	var c claims
	if len(token) > maxTokenLen {
		return c, false
	}
	_, _, err := jwt.NewParser().ParseUnverified(token, &c)
	return c, err == nil
}

// Verifier checks tokens against the service's public key.
//
// It remembers tokens it has accepted, because a signature check costs
// 50 to 100 µs and the same few service tokens arrive on every Check call;
// the cache turns that into a map lookup. See tokenCache.
type Verifier struct {
	pub     ed25519.PublicKey
	cache   *tokenCache
	revoked *Revocations // nil: nothing is revoked
}

// CheckRevocations makes v refuse tokens whose id is in r, whether or not
// they were accepted (and cached) before; r may change at any time.
func (v *Verifier) CheckRevocations(r *Revocations) { v.revoked = r }

// NewVerifier returns a Verifier accepting tokens signed by pub's private key.
func NewVerifier(pub ed25519.PublicKey) *Verifier {
	return newVerifier(pub, defaultCacheSize)
}

func newVerifier(pub ed25519.PublicKey, cacheSize int) *Verifier {
	return &Verifier{pub: pub, cache: newTokenCache(cacheSize)}
}

// errAlg is what the key function returns for any algorithm but EdDSA, so
// that a token cannot pick HMAC with our public key as the secret, or none.
var errAlg = errors.New("unsupported signing algorithm")

// Verify returns the identity token speaks for, if token was signed by the
// Verifier's key for this service and is valid at now. Rejections wrap
// ErrUnauthenticated.
func (v *Verifier) Verify(token string, now time.Time) (Identity, error) {
	if len(v.pub) != ed25519.PublicKeySize {
		// A configuration fault, not the caller's: deliberately not
		// ErrUnauthenticated, so it surfaces as an internal error.
		return Identity{}, errors.New("verify token: verifier has no Ed25519 public key")
	}
	if token == "" {
		return Identity{}, unauthenticated("missing token")
	}
	if len(token) > maxTokenLen {
		return Identity{}, unauthenticated("malformed token")
	}
	if e, ok := v.cache.get(token, now.UnixNano()); ok {
		// Revocation is checked on every call, cached or not: a map
		// lookup, and nothing at all while no token is revoked.
		if v.revoked.Has(e.jti) {
			return Identity{}, unauthenticated("token revoked")
		}
		return e.id, nil
	}
	id, jti, from, until, err := v.verify(token, now)
	if err != nil {
		return Identity{}, err
	}
	if v.revoked.Has(jti) {
		return Identity{}, unauthenticated("token revoked")
	}
	if now.Before(until) { // else accepted only by the leeway: nothing to cache
		v.cache.put(token, cacheEntry{id: id, jti: jti, from: from.UnixNano(), until: until.UnixNano()}, now.UnixNano())
	}
	return id, nil
}

// verify does the full check. from and until bound when a cached copy of
// the result may be returned without checking again.
func (v *Verifier) verify(token string, now time.Time) (id Identity, jti string, from, until time.Time, err error) {
	p := jwt.NewParser(
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var c claims
	_, err = p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodEdDSA {
			return nil, errAlg
		}
		return v.pub, nil
	})
	if err != nil {
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated(reason(err))
	}
	id = Identity{Subject: c.Subject, Role: c.Role, Account: c.Account}
	switch {
	case id.Subject == "":
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("missing subject")
	case !id.Role.Valid():
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("unknown role")
	case id.Role == RoleOwner && id.Account == "":
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("owner token without account")
	case id.Role != RoleOwner && id.Account != "":
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("account on a non-owner token")
	case !validName(c.ID, 64, "_-"):
		// Every token Issue signs has one; one without could not be revoked.
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("missing token id")
	}
	if err := id.Validate(); err != nil {
		return Identity{}, "", time.Time{}, time.Time{}, unauthenticated("invalid identity")
	}
	// The cache answers only inside the window a full check would accept,
	// except that it stops at exp itself rather than exp+leeway: a token in
	// its leeway is checked in full each time, for at most 30 seconds.
	from = time.Unix(0, 0)
	for _, t := range []*jwt.NumericDate{c.IssuedAt, c.NotBefore} {
		if t != nil && t.Add(-leeway).After(from) {
			from = t.Add(-leeway)
		}
	}
	return id, c.ID, from, c.ExpiresAt.Time, nil
}

func unauthenticated(reason string) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
}

// reason turns a jwt error into the short text a caller may see. jwt joins
// every failed claim; the first match below wins.
func reason(err error) string {
	switch {
	case errors.Is(err, errAlg), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unsupported signing algorithm"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "missing required claim" // exp, iss or aud; jwt has no sentinel for which
	}
	return "invalid token"
}
