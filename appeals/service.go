package appeals

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"moderation/internal/moderation"
)

// Accounts is the account-state store and the decisions stream: where a
// granted appeal takes effect and every step is recorded.
type Accounts interface {
	// Apply changes an account: the one durable path (see
	// enforcement.Store.Apply).
	Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error)
	Get(ctx context.Context, account string) (*moderation.AccountState, uint64, error)
	Audit(ctx context.Context, subject, msgID string, record any) error
}

// Decisions reads the decisions published on an account.
type Decisions interface {
	Get(ctx context.Context, account, decisionID string) (*moderation.DecisionRecord, error)
	List(ctx context.Context, account string, from uint64, limit int) ([]moderation.DecisionRecord, uint64, error)
}

// Service runs the appeal flow over its stores.
type Service struct {
	Rules     Rules
	Store     Store
	Accounts  Accounts
	Decisions Decisions
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Record is the audit record of one step of an appeal, on
// mod.audit.appeal.<account>: who did what, when.
type Record struct {
	AppealID   string    `json:"appeal_id"`
	Account    string    `json:"account"`
	DecisionID string    `json:"decision_id"`
	Rule       string    `json:"rule"`
	State      State     `json:"state"`
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
	Reply      string    `json:"reply,omitempty"`
	RestoreID  string    `json:"restore_id,omitempty"`
}

func (s *Service) audit(ctx context.Context, a *Appeal) error {
	last := a.Steps[len(a.Steps)-1]
	rec := Record{AppealID: a.ID, Account: a.Account, DecisionID: a.DecisionID, Rule: a.Rule, State: last.State, Actor: last.Actor, At: last.At}
	if a.Decided() {
		rec.Reply = a.Reply
		if a.State != Upheld {
			rec.RestoreID = RestoreID(a)
		}
	}
	return s.Accounts.Audit(ctx, "mod.audit.appeal."+a.Account, fmt.Sprintf("appeal-%s-%d", a.ID, len(a.Steps)), rec)
}

// FileRequest is an owner's appeal.
type FileRequest struct {
	Account, DecisionID, Statement string
	EvidenceURLs                   []string
	Actor                          string
}

// File files an appeal against a decision on the owner's account.
func (s *Service) File(ctx context.Context, r FileRequest) (*Appeal, error) {
	rec, err := s.Decisions.Get(ctx, r.Account, r.DecisionID)
	if errors.Is(err, moderation.ErrNotFound) {
		return nil, fmt.Errorf("there is no decision %s on account %s: %w", r.DecisionID, r.Account, moderation.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	earlier, err := s.Store.List(ctx, Filter{Account: r.Account})
	if err != nil {
		return nil, err
	}
	accountType := ""
	if st, _, err := s.Accounts.Get(ctx, r.Account); err == nil && st != nil && st.Basis != nil {
		accountType = string(st.Basis.Account.Type)
	}
	a, err := s.Rules.File(Filing{Account: r.Account, AccountType: accountType, Decision: rec.Decision, Statement: r.Statement,
		EvidenceURLs: r.EvidenceURLs, Actor: r.Actor}, earlier, s.now())
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.Create(ctx, a); errors.Is(err, moderation.ErrConflict) {
		return nil, fmt.Errorf("an appeal against decision %s was filed at the same moment; it is open: %w", r.DecisionID, moderation.ErrConflict)
	} else if err != nil {
		return nil, err
	}
	return a, s.audit(ctx, a)
}

// Get returns one of an account's appeals. An appeal on another account is
// not found, so ids reveal nothing.
func (s *Service) Get(ctx context.Context, account, id string) (*Appeal, error) {
	a, _, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if account != "" && a.Account != account {
		return nil, fmt.Errorf("appeal %s not found on account %s: %w", id, account, moderation.ErrNotFound)
	}
	return a, nil
}

// ListMine returns an account's appeals, newest first.
func (s *Service) ListMine(ctx context.Context, account string) ([]*Appeal, error) {
	all, err := s.Store.List(ctx, Filter{Account: account})
	if err != nil {
		return nil, err
	}
	slices.Reverse(all)
	return all, nil
}

// Queue lists appeals for reviewers, oldest first.
func (s *Service) Queue(ctx context.Context, f Filter) ([]*Appeal, error) {
	if f.Now.IsZero() {
		f.Now = s.now()
	}
	return s.Store.List(ctx, f)
}

// change applies fn to the stored appeal with compare-and-set, reading
// again after a lost race so fn judges what the winner wrote.
func (s *Service) change(ctx context.Context, id, account string, fn func(a *Appeal, now time.Time) error) (*Appeal, error) {
	for {
		a, rev, err := s.Store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if account != "" && a.Account != account {
			return nil, fmt.Errorf("appeal %s not found on account %s: %w", id, account, moderation.ErrNotFound)
		}
		if err := fn(a, s.now()); err != nil {
			return nil, err
		}
		if _, err := s.Store.Update(ctx, a, rev); errors.Is(err, moderation.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return a, s.audit(ctx, a)
	}
}

// Withdraw withdraws an owner's open appeal.
func (s *Service) Withdraw(ctx context.Context, account, id, actor string) (*Appeal, error) {
	return s.change(ctx, id, account, func(a *Appeal, now time.Time) error { return s.Rules.Withdraw(a, actor, now) })
}

// Claim gives the appeal to a reviewer for the lease.
func (s *Service) Claim(ctx context.Context, id, reviewer string) (*Appeal, error) {
	return s.change(ctx, id, "", func(a *Appeal, now time.Time) error { return s.Rules.Claim(a, reviewer, now) })
}

// Decide records a reviewer's answer and, for an overturn or a
// modification, applies it to the account. The appeal is written first,
// with compare-and-set, so of two reviewers racing only the one whose
// write lands changes the account.
func (s *Service) Decide(ctx context.Context, id string, v Verdict) (*Appeal, error) {
	// The same reviewer deciding again the same way finishes a grant cut
	// short (by a crash or an outage) between the two writes.
	if a, _, err := s.Store.Get(ctx, id); err == nil && a.Decided() && a.Reviewer == v.Reviewer && a.State == decidedState[v.Outcome] {
		if a.State == Upheld {
			return a, nil
		}
		return a, s.apply(ctx, a, v.Reviewer)
	}
	a, err := s.change(ctx, id, "", func(a *Appeal, now time.Time) error { return s.Rules.Decide(a, v, now) })
	if err != nil {
		return nil, err
	}
	if a.State == Upheld {
		return a, nil
	}
	return a, s.apply(ctx, a, v.Reviewer)
}

// apply carries out a granted appeal on the account. It is idempotent, so
// it can be run again after a crash between deciding and applying.
func (s *Service) apply(ctx context.Context, a *Appeal, reviewer string) error {
	appealed, earlier, err := s.history(ctx, a.Account, a.DecisionID)
	if err != nil {
		return fmt.Errorf("apply appeal %s: %w", a.ID, err)
	}
	_, err = s.Accounts.Apply(ctx, moderation.PathAppeal, a.Account, func(st *moderation.AccountState) (*moderation.Change, error) {
		publish, next := Grant(a, st, appealed, earlier, reviewer, s.now())
		return &moderation.Change{State: next, Decisions: publish}, nil
	})
	return err
}

var decidedState = map[Outcome]State{Uphold: Upheld, Overturn: Overturned, Modify: Modified}

// history returns a decision on an account and the decisions before it,
// oldest first.
func (s *Service) history(ctx context.Context, account, decisionID string) (*moderation.Decision, []*moderation.Decision, error) {
	var earlier []*moderation.Decision
	for from := uint64(1); ; {
		page, next, err := s.Decisions.List(ctx, account, from, 500)
		if err != nil {
			return nil, nil, err
		}
		for _, rec := range page {
			if rec.Decision.DecisionID == decisionID {
				return rec.Decision, earlier, nil
			}
			earlier = append(earlier, rec.Decision)
		}
		if next == 0 {
			return nil, nil, fmt.Errorf("decision %s on %s: %w", decisionID, account, moderation.ErrNotFound)
		}
		from = next
	}
}
