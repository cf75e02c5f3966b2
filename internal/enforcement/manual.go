package enforcement

import (
	"context"
	"errors"
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

// TakeAction applies a manual action: the account state is changed with
// compare-and-set (retried if the pipeline wrote meanwhile), the decision
// is published on mod.enforcement.<account>, and the actor and note are
// recorded in the audit stream.
func (s *Store) TakeAction(ctx context.Context, a moderation.ManualAction, now time.Time) (*moderation.Decision, error) {
	for {
		st, rev, err := s.Get(ctx, a.Account)
		if err != nil {
			return nil, err
		}
		d, next, err := a.Apply(st, now)
		if err != nil {
			return nil, err
		}
		if _, err := s.Put(ctx, next, rev); errors.Is(err, moderation.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		rec := ManualRecord{Account: a.Account, Actor: a.Actor, Action: a.Action, DecisionID: d.DecisionID, Note: a.Note, At: d.At}
		if a.Action == moderation.ActionRestore {
			rec.Lifted = st.Current.DecisionID
		}
		// The state is written; the publish and the record are retried by
		// the caller on error and are stored once per decision id.
		if err := s.Publish(ctx, d); err != nil {
			return nil, err
		}
		if err := s.Audit(ctx, natsbus.AuditPrefix+"manual."+a.Account, "manual-"+d.DecisionID, rec); err != nil {
			return nil, err
		}
		return d, nil
	}
}
