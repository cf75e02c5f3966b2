package appeals

import (
	"context"
	"time"

	"moderation/internal/moderation"
)

// PurgeNotice is the message on mod.purge.<account>.
type PurgeNotice struct {
	Account        string    `json:"account"`
	DecisionID     string    `json:"decision_id"` // the closure
	ClosedAt       time.Time `json:"closed_at"`
	AppealDeadline time.Time `json:"appeal_deadline"`
	EligibleAt     time.Time `json:"eligible_at"`
}

// Sweep finds closed accounts whose appeal window has passed with no
// appeal open, marks them eligible for purge and tells the platform. A
// closure only freezes an account; until then nothing may be purged, and
// never while an appeal is open. It returns the accounts it marked.
func (s *Service) Sweep(ctx context.Context, states []*moderation.AccountState) ([]string, error) {
	now := s.now()
	var marked []string
	for _, st := range states {
		if st.Effective(now) != moderation.ActionClose || !st.PurgeEligibleAt.IsZero() {
			continue
		}
		deadline := s.Rules.Deadline(st.Current)
		if !now.After(deadline) {
			continue
		}
		open, err := s.Store.List(ctx, Filter{Account: st.Account, DecisionID: st.Current.DecisionID, Now: now})
		if err != nil {
			return marked, err
		}
		if anyOpen(open, now) {
			continue
		}
		ok, err := s.markPurgeable(ctx, st.Account, st.Current.DecisionID, deadline, now)
		if err != nil {
			return marked, err
		}
		if ok {
			marked = append(marked, st.Account)
		}
	}
	return marked, nil
}

func anyOpen(as []*Appeal, now time.Time) bool {
	for _, a := range as {
		if a.Open(now) {
			return true
		}
	}
	return false
}

func (s *Service) markPurgeable(ctx context.Context, account, decisionID string, deadline, now time.Time) (bool, error) {
	ch, err := s.Accounts.Apply(ctx, moderation.PathPurge, account, func(st *moderation.AccountState) (*moderation.Change, error) {
		if st == nil || st.Current == nil || st.Current.DecisionID != decisionID || !st.PurgeEligibleAt.IsZero() {
			return nil, nil // restored or already marked meanwhile
		}
		next := *st
		next.PurgeEligibleAt = now
		n := PurgeNotice{Account: account, DecisionID: decisionID, ClosedAt: st.Current.At, AppealDeadline: deadline, EligibleAt: now}
		return &moderation.Change{State: &next, Records: []moderation.Record{{Subject: "mod.purge." + account, MsgID: "purge-" + decisionID, Body: n}}}, nil
	})
	return err == nil && ch != nil && ch.State != nil, err
}
