package enforcement

import (
	"context"
	"time"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// ManualRecord is the audit record of a person's action, on
// mod.audit.manual.<account>: who, when, what and why.
type ManualRecord struct {
	Account    string            `json:"account"`
	Actor      string            `json:"actor"`
	Action     moderation.Action `json:"action"`
	DecisionID string            `json:"decision_id"`
	Lifted     string            `json:"lifted,omitempty"` // for restore: the decision lifted
	Note       string            `json:"note"`
	At         time.Time         `json:"at"`
}

// TakeAction applies a manual action through Apply: the state, the
// decision on mod.enforcement.<account> and the actor's audit record are
// one change. An action retried with the same request id returns the
// decision the first attempt made, as long as that decision is still the
// one in force.
func (s *Store) TakeAction(ctx context.Context, a moderation.ManualAction, now time.Time) (*moderation.Decision, error) {
	ch, err := s.Apply(ctx, moderation.PathManual, a.Account, func(st *moderation.AccountState) (*moderation.Change, error) {
		if a.RequestID != "" && st != nil && st.Current != nil && st.Current.DecisionID == a.DecisionID(now) {
			return &moderation.Change{Decisions: []*moderation.Decision{st.Current}}, nil
		}
		d, next, err := a.Apply(st, now)
		if err != nil {
			return nil, err
		}
		rec := ManualRecord{Account: a.Account, Actor: a.Actor, Action: a.Action, DecisionID: d.DecisionID, Note: a.Note, At: d.At}
		if a.Action == moderation.ActionRestore {
			rec.Lifted = st.Current.DecisionID
		}
		return &moderation.Change{State: next, Decisions: []*moderation.Decision{d},
			Records: []moderation.Record{{Subject: natsbus.AuditPrefix + "manual." + a.Account, MsgID: "manual-" + d.DecisionID, Body: rec}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return ch.Decisions[0], nil
}
