package appeals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"moderation/internal/moderation"
)

// Judge re-judges the facts a decision rested on under some policy.
type Judge interface {
	Version() string
	Rejudge(ctx context.Context, b *moderation.Basis) (action moderation.Action, reasons []moderation.Reason, err error)
}

// Reevaluation is one account's outcome under the other policy.
type Reevaluation struct {
	Account    string            `json:"account"`
	DecisionID string            `json:"decision_id"`
	Was        moderation.Action `json:"was"`
	Would      moderation.Action `json:"would"`
	Why        string            `json:"why"`
}

// ReevaluateRequest says which accounts to re-judge and whether to act.
type ReevaluateRequest struct {
	ClosedSince time.Time // only measures taken at or after this
	DryRun      bool
	Actor, Note string
	Progress    func(done, total int)
}

// ReevaluateReport is what a re-evaluation found, and did.
type ReevaluateReport struct {
	PolicyVersion string
	Considered    int
	Skipped       int // decided by a person: there is no policy answer to compare
	Restore       []Reevaluation
	BatchID       string // set when applied
}

// BatchRecord is the audit record of an applied re-evaluation, on
// mod.audit.batch.<batch_id>.
type BatchRecord struct {
	BatchID       string         `json:"batch_id"`
	Actor         string         `json:"actor"`
	Note          string         `json:"note"`
	PolicyVersion string         `json:"policy_version"`
	ClosedSince   time.Time      `json:"closed_since,omitzero"`
	At            time.Time      `json:"at"`
	Restored      []Reevaluation `json:"restored"`
}

// Reevaluate re-judges every account that is suspended or closed on the
// facts its decision recorded, under j. An account the policy would no
// longer limit (it would allow or only warn) is listed; unless it is a dry
// run, each is restored (a restore decision on mod.enforcement.<account>,
// its strike taken back) and the whole batch is recorded with the actor.
func (s *Service) Reevaluate(ctx context.Context, j Judge, states []*moderation.AccountState, r ReevaluateRequest) (*ReevaluateReport, error) {
	if !r.DryRun && strings.TrimSpace(r.Note) == "" {
		return nil, moderation.Invalid("note", "is required to restore accounts: say why, for the audit record")
	}
	now := s.now()
	rep := &ReevaluateReport{PolicyVersion: j.Version()}
	var candidates []*moderation.AccountState
	for _, st := range states {
		if a := st.Effective(now); (a == moderation.ActionSuspend || a == moderation.ActionClose) && !st.Current.At.Before(r.ClosedSince) {
			candidates = append(candidates, st)
		}
	}
	slices.SortFunc(candidates, func(a, b *moderation.AccountState) int { return strings.Compare(a.Account, b.Account) })
	total := len(candidates)
	if !r.DryRun {
		total *= 2 // judging, then restoring
	}
	done := 0
	progress := func() {
		done++
		if r.Progress != nil {
			r.Progress(done, total)
		}
	}
	for _, st := range candidates {
		rep.Considered++
		if st.Basis == nil {
			rep.Skipped++
			progress()
			continue
		}
		would, reasons, err := j.Rejudge(ctx, st.Basis)
		if err != nil {
			return nil, fmt.Errorf("re-judge %s: %w", st.Account, err)
		}
		if would.Severity() < moderation.ActionLimit.Severity() {
			rep.Restore = append(rep.Restore, Reevaluation{Account: st.Account, DecisionID: st.Current.DecisionID,
				Was: st.Current.Action, Would: would, Why: why(j.Version(), would, reasons)})
		}
		progress()
	}
	if r.DryRun || len(rep.Restore) == 0 {
		return rep, nil
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	rep.BatchID = "batch_" + hex.EncodeToString(id)
	for _, re := range rep.Restore {
		if err := s.restoreReevaluated(ctx, re, rep, r, now); err != nil {
			return nil, err
		}
		progress()
	}
	batch := BatchRecord{BatchID: rep.BatchID, Actor: r.Actor, Note: r.Note, PolicyVersion: rep.PolicyVersion,
		ClosedSince: r.ClosedSince, At: now, Restored: rep.Restore}
	if err := s.Accounts.Audit(ctx, "mod.audit.batch."+rep.BatchID, rep.BatchID, batch); err != nil {
		return nil, err
	}
	return rep, nil
}

func why(version string, would moderation.Action, reasons []moderation.Reason) string {
	if would == moderation.ActionAllow {
		return "policy " + version + " takes no measure on the recorded signals"
	}
	details := make([]string, len(reasons))
	for i, r := range reasons {
		details[i] = r.Detail
	}
	return "policy " + version + " would only " + string(would) + ": " + strings.Join(details, "; ")
}

// restoreReevaluated lifts one account's measure as part of a batch.
func (s *Service) restoreReevaluated(ctx context.Context, re Reevaluation, rep *ReevaluateReport, r ReevaluateRequest, now time.Time) error {
	_, err := s.Accounts.Apply(ctx, moderation.PathReevaluate, re.Account, func(st *moderation.AccountState) (*moderation.Change, error) {
		if st == nil || st.Current == nil || st.Current.DecisionID != re.DecisionID {
			return nil, nil // changed since it was judged: left for a reviewer
		}
		appealed := st.Current
		next := &moderation.AccountState{Account: st.Account, EventSeq: st.EventSeq, UpdatedAt: now,
			StrikeTimes: moderation.StrikesWithout(st.StrikeTimes, appealed)}
		d := &moderation.Decision{
			Account:       re.Account,
			Action:        moderation.ActionRestore,
			DecisionID:    moderation.DecisionID(re.Account, "reevaluate:"+rep.BatchID),
			PolicyVersion: rep.PolicyVersion,
			Reasons:       []moderation.Reason{{Code: "reevaluated", Detail: re.Why}},
			Statement: moderation.Statement{
				Measure:            fmt.Sprintf("The %s of %s is lifted; every capability is restored.", appealed.Action, appealed.At.Format("2 January 2006")),
				Facts:              "Reviewers re-examined closed and suspended accounts under policy " + rep.PolicyVersion + ": " + re.Why + ".",
				AutomatedDetection: true,
				AutomatedDecision:  "partially",
				Ground:             "Review of earlier enforcement",
				Explanation:        r.Note,
				Redress:            "Nothing is required of you.",
			},
			At:      now,
			Strikes: len(next.StrikeTimes),
			Actor:   r.Actor,
		}
		next.Current = d
		rec := struct {
			Reevaluation
			BatchID string    `json:"batch_id"`
			Actor   string    `json:"actor"`
			Note    string    `json:"note"`
			At      time.Time `json:"at"`
		}{re, rep.BatchID, r.Actor, r.Note, now}
		return &moderation.Change{State: next, Decisions: []*moderation.Decision{d},
			Records: []moderation.Record{{Subject: "mod.audit.reevaluate." + re.Account, MsgID: "reevaluate-" + d.DecisionID, Body: rec}}}, nil
	})
	return err
}
