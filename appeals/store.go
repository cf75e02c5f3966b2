package appeals

import (
	"context"
	"time"
)

// Store keeps appeals. Writes are compare-and-set on a revision, so two
// reviewers (or two instances of the service) can never both move one
// appeal from the same state.
type Store interface {
	// Get returns an appeal and its revision; moderation.ErrNotFound when
	// there is none.
	Get(ctx context.Context, id string) (*Appeal, uint64, error)
	// Create stores a new appeal; moderation.ErrConflict if its id exists.
	Create(ctx context.Context, a *Appeal) (uint64, error)
	// Update stores a if it is still at revision rev;
	// moderation.ErrConflict when someone changed it first.
	Update(ctx context.Context, a *Appeal, rev uint64) (uint64, error)
	// List returns the appeals matching f, oldest filed first.
	List(ctx context.Context, f Filter) ([]*Appeal, error)
}

// Filter selects appeals; zero fields match everything.
type Filter struct {
	Account     string
	DecisionID  string
	State       State  // compared with StateAt(Now): an expired claim is filed
	Rule        string // the appealed decision's rule
	AccountType string // personal, subscription, service, enterprise
	// PolicyVersion: the version of the policy that made the appealed
	// decision.
	PolicyVersion string
	FiledBefore   time.Time // only appeals filed before this (for a minimum age)
	Now           time.Time // for State; zero: time.Now()
}

// Match reports whether a passes f.
func (f Filter) Match(a *Appeal) bool {
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	return (f.Account == "" || a.Account == f.Account) &&
		(f.DecisionID == "" || a.DecisionID == f.DecisionID) &&
		(f.State == "" || a.StateAt(now) == f.State) &&
		(f.Rule == "" || a.Rule == f.Rule) &&
		(f.AccountType == "" || a.AccountType == f.AccountType) &&
		(f.PolicyVersion == "" || a.PolicyVersion == f.PolicyVersion) &&
		(f.FiledBefore.IsZero() || a.FiledAt.Before(f.FiledBefore))
}
