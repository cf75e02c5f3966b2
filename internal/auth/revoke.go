package auth

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Revocations is the set of revoked token ids the Verifier consults on
// every call. Reads are lock-free, against an immutable map replaced
// whole on each change: revocations are rare and calls are many, so a
// change copies the set rather than every call taking a lock. Whoever
// follows the store of revocations (the service, from a JetStream bucket)
// keeps it current.
type Revocations struct {
	mu  sync.Mutex // orders writers
	ids atomic.Pointer[map[string]struct{}]
}

// Has reports whether the token id is revoked. A nil set has nothing.
func (r *Revocations) Has(id string) bool {
	if r == nil {
		return false
	}
	m := r.ids.Load()
	if m == nil || len(*m) == 0 {
		return false
	}
	_, ok := (*m)[id]
	return ok
}

// Revoke adds a token id.
func (r *Revocations) Revoke(id string) {
	r.change(func(m map[string]struct{}) { m[id] = struct{}{} })
}

// Restore removes a token id: its record was deleted from the store.
func (r *Revocations) Restore(id string) {
	r.change(func(m map[string]struct{}) { delete(m, id) })
}

// Len is how many token ids are revoked.
func (r *Revocations) Len() int {
	if m := r.ids.Load(); m != nil {
		return len(*m)
	}
	return 0
}

func (r *Revocations) change(edit func(map[string]struct{})) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := map[string]struct{}{}
	if cur := r.ids.Load(); cur != nil {
		next = maps.Clone(*cur)
	}
	edit(next)
	r.ids.Store(&next)
}

// TokenRecord is the audit record of a token minted or revoked, on
// mod.audit.token.<token id>, so one token's whole story is one subject.
// It never holds the token itself.
type TokenRecord struct {
	Op        string    `json:"op"` // "mint" or "revoke"
	TokenID   string    `json:"token_id"`
	Subject   string    `json:"subject,omitempty"` // whom the token speaks for; on a revocation, when known
	Role      Role      `json:"role,omitempty"`
	Account   string    `json:"account,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Actor     string    `json:"actor"` // who minted or revoked it, "role:subject"
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
}

// Token record operations.
const (
	OpMint   = "mint"
	OpRevoke = "revoke"
)
