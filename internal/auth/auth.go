// Package auth issues and verifies the bearer tokens callers of the gRPC API
// present, and builds the TLS configurations that carry them. It knows
// nothing of gRPC or NATS: the gRPC layer asks it who a token speaks for and
// decides itself what that caller may do.
package auth

import (
	"context"
	"errors"
	"fmt"
)

// Role is what a caller is to the service; the gRPC layer maps each role to
// the methods it may call.
type Role string

const (
	RoleService  Role = "service"  // another backend asking Check
	RoleReviewer Role = "reviewer" // a human working the review queue
	RoleAdmin    Role = "admin"    // an operator: policy, overrides, everything
	RoleOwner    Role = "owner"    // an account owner, limited to one account
)

// Valid reports whether r is one of the roles above.
func (r Role) Valid() bool {
	switch r {
	case RoleService, RoleReviewer, RoleAdmin, RoleOwner:
		return true
	}
	return false
}

// Identity is who a verified token speaks for.
type Identity struct {
	Subject string // e.g. svc-broadcast, alice
	Role    Role
	Account string // for owners: the one account the token reaches; empty otherwise
}

// Actor names the identity in appeals and audit records, the one way
// every entry point does: "reviewer:alice".
func (id Identity) Actor() string { return string(id.Role) + ":" + id.Subject }

// Validate checks an identity before it is signed into a token and again
// after one is verified, so a token that was minted by hand with the right
// key still cannot name an owner without an account.
func (id Identity) Validate() error {
	if !validName(id.Subject, 128, "_.@:-") {
		return fmt.Errorf("subject %q: want 1 to 128 of A-Z a-z 0-9 _ . @ : -", id.Subject)
	}
	if !id.Role.Valid() {
		return fmt.Errorf("role %q: want service, reviewer, admin or owner", id.Role)
	}
	if id.Role == RoleOwner {
		if id.Account == "" {
			return errors.New("role owner: account required")
		}
		if !validName(id.Account, 64, "_-") {
			return fmt.Errorf("account %q: want 1 to 64 of A-Z a-z 0-9 _ -", id.Account)
		}
	} else if id.Account != "" {
		return fmt.Errorf("role %s: account only allowed for role owner", id.Role)
	}
	return nil
}

// validName reports whether s is 1 to max ASCII letters, digits or bytes of
// extra. A loop rather than a regexp: it runs on every uncached Verify.
func validName(s string, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			ok := false
			for j := 0; j < len(extra); j++ {
				if c == extra[j] {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

type identityKey struct{}

// NewContext returns a copy of ctx carrying id, for handlers downstream of
// the authenticating interceptor.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity NewContext stored in ctx, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Bearer sends a token with every gRPC call: it is the per-RPC
// credentials grpc.WithPerRPCCredentials takes (those two methods), written
// without this package importing gRPC. It does not require transport
// security, since plaintext on loopback is the service's default.
type Bearer string

// GetRequestMetadata returns the authorization header.
func (b Bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity reports false: the token may cross loopback in
// plaintext.
func (Bearer) RequireTransportSecurity() bool { return false }
