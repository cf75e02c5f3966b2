// Package appeals is the appeal state machine: who may file, claim, decide
// and withdraw an appeal, and when; and what an overturned or modified
// decision leaves of the account's enforcement. It is plain logic over the
// domain types; appeals are kept behind Store, and the account state and
// decisions behind Accounts and Decisions, so it knows nothing of NATS or
// gRPC.
package appeals

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"moderation/internal/moderation"
)

// State is where an appeal is in its life:
//
//	filed ──claim──▶ in_review ──decide──▶ upheld | overturned | modified
//	  └─withdraw──▶ withdrawn   (lease runs out ──▶ filed again)
type State string

const (
	Filed      State = "filed"
	InReview   State = "in_review"
	Upheld     State = "upheld"
	Overturned State = "overturned"
	Modified   State = "modified"
	Withdrawn  State = "withdrawn"
)

// Outcome is a reviewer's answer.
type Outcome string

const (
	Uphold   Outcome = "uphold"
	Overturn Outcome = "overturn"
	Modify   Outcome = "modify"
)

// Appeal is an owner's contest of one decision.
type Appeal struct {
	ID            string            `json:"id"`
	Account       string            `json:"account"`
	AccountType   string            `json:"account_type,omitempty"`
	DecisionID    string            `json:"decision_id"`
	Rule          string            `json:"rule"`   // the first reason's code of the decision
	Action        moderation.Action `json:"action"` // the measure appealed
	PolicyVersion string            `json:"policy_version"`
	DecisionActor string            `json:"decision_actor,omitempty"` // who took a manual decision
	State         State             `json:"state"`
	Statement     string            `json:"statement"`
	EvidenceURLs  []string          `json:"evidence_urls,omitempty"`
	FiledAt       time.Time         `json:"filed_at"`
	Reviewer      string            `json:"reviewer,omitempty"`
	LeaseUntil    time.Time         `json:"lease_until,omitzero"`
	ClosedAt      time.Time         `json:"closed_at,omitzero"`
	Reply         string            `json:"reply,omitempty"`
	// For a modified decision: the lighter measure now in force.
	ModifiedAction   moderation.Action `json:"modified_action,omitempty"`
	ModifiedDuration time.Duration     `json:"modified_duration,omitempty"`
	// RestoreID is the decision published when the appeal was granted.
	RestoreID string `json:"restore_id,omitempty"`
	Steps     []Step `json:"steps"`
}

// Step is one change of an appeal, with who made it.
type Step struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	State State     `json:"state"`
}

// StateAt is the appeal's state at now: a claim whose lease has run out is
// back in the queue.
func (a *Appeal) StateAt(now time.Time) State {
	if a.State == InReview && !now.Before(a.LeaseUntil) {
		return Filed
	}
	return a.State
}

// Open reports whether the appeal still waits for a decision.
func (a *Appeal) Open(now time.Time) bool {
	s := a.StateAt(now)
	return s == Filed || s == InReview
}

// Decided reports whether a reviewer answered it.
func (a *Appeal) Decided() bool {
	return a.State == Upheld || a.State == Overturned || a.State == Modified
}

func (a *Appeal) step(now time.Time, actor string, s State) {
	a.State = s
	a.Steps = append(a.Steps, Step{At: now, Actor: actor, State: s})
}

// Rules are the limits of the appeal flow.
type Rules struct {
	Window        time.Duration // how long after the decision it can be appealed (180 days)
	Lease         time.Duration // how long a claim holds an appeal (30 minutes)
	FilingsPerDay int           // appeals one account may file in 24 hours (5)
}

// DefaultRules are the platform's defaults.
var DefaultRules = Rules{Window: 180 * 24 * time.Hour, Lease: 30 * time.Minute, FilingsPerDay: 5}

// appealable are the measures an owner can contest; a warning restricts
// nothing, and a restore is already in the owner's favour.
func appealable(a moderation.Action) bool {
	return a == moderation.ActionLimit || a == moderation.ActionSuspend || a == moderation.ActionClose
}

// Deadline is the last moment decision d can be appealed: the deadline its
// statement of reasons gave the owner, or the window from when it was
// taken.
func (r Rules) Deadline(d *moderation.Decision) time.Time {
	if !d.Statement.AppealDeadline.IsZero() {
		return d.Statement.AppealDeadline
	}
	return d.At.Add(r.Window)
}

// Filing is an owner's appeal as asked for.
type Filing struct {
	Account      string
	AccountType  string
	Decision     *moderation.Decision
	Statement    string
	EvidenceURLs []string
	Actor        string // "owner:bob"
}

// File checks a filing against the account's earlier appeals and returns
// the new appeal. Every refusal says why in words the owner can read.
func (r Rules) File(f Filing, earlier []*Appeal, now time.Time) (*Appeal, error) {
	d := f.Decision
	switch {
	case d.Account != f.Account:
		return nil, fmt.Errorf("decision %s is not on account %s: %w", d.DecisionID, f.Account, moderation.ErrPermission)
	case !appealable(d.Action):
		return nil, fmt.Errorf("decision %s is a %s; only a limit, a suspension or a closure can be appealed: %w", d.DecisionID, d.Action, moderation.ErrConflict)
	case strings.TrimSpace(f.Statement) == "":
		return nil, moderation.Invalid("statement", "is required: say why the decision is wrong")
	}
	if deadline := r.Deadline(d); now.After(deadline) {
		return nil, fmt.Errorf("the appeal window for decision %s closed on %s: %w", d.DecisionID, deadline.Format("2 January 2006"), moderation.ErrConflict)
	}
	recent := 0
	attempts := 0
	for _, a := range earlier {
		if a.DecisionID == d.DecisionID {
			attempts++
			if a.Open(now) {
				return nil, fmt.Errorf("appeal %s against decision %s is already open (filed %s): %w", a.ID, d.DecisionID, a.FiledAt.Format(time.RFC3339), moderation.ErrConflict)
			}
			if a.Decided() {
				return nil, fmt.Errorf("decision %s was already appealed; appeal %s was decided on %s (%s) and its reply stands: %w", d.DecisionID, a.ID, a.ClosedAt.Format("2 January 2006"), a.State, moderation.ErrConflict)
			}
		}
		if now.Sub(a.FiledAt) < 24*time.Hour {
			recent++
		}
	}
	if r.FilingsPerDay > 0 && recent >= r.FilingsPerDay {
		return nil, fmt.Errorf("%d appeals were filed for this account in the last 24 hours, the most allowed; try again later: %w", recent, moderation.ErrTooMany)
	}
	rule := ""
	if len(d.Reasons) > 0 {
		rule = d.Reasons[0].Code
	}
	a := &Appeal{
		ID:            ID(d.DecisionID, attempts),
		Account:       f.Account,
		AccountType:   f.AccountType,
		DecisionID:    d.DecisionID,
		Rule:          rule,
		Action:        d.Action,
		PolicyVersion: d.PolicyVersion,
		DecisionActor: d.Actor,
		Statement:     f.Statement,
		EvidenceURLs:  slices.Clone(f.EvidenceURLs),
		FiledAt:       now,
	}
	a.step(now, f.Actor, Filed)
	return a, nil
}

// ID names the attempt-th appeal against a decision. Deriving it from the
// decision makes two concurrent filings of one decision the same key, so
// the store's create-if-absent lets only one of them in.
func ID(decisionID string, attempt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", decisionID, attempt))
	return "apl_" + hex.EncodeToString(sum[:10])
}

// Withdraw ends an open appeal at the owner's wish.
func (r Rules) Withdraw(a *Appeal, actor string, now time.Time) error {
	if !a.Open(now) {
		return fmt.Errorf("appeal %s is %s and can no longer be withdrawn: %w", a.ID, a.State, moderation.ErrConflict)
	}
	a.ClosedAt = now
	a.step(now, actor, Withdrawn)
	return nil
}

// Claim gives a reviewer the appeal for the lease. A reviewer holding it
// may claim again to extend the lease; nobody may review an appeal against
// their own decision.
func (r Rules) Claim(a *Appeal, reviewer string, now time.Time) error {
	if a.DecisionActor != "" && a.DecisionActor == reviewer {
		return fmt.Errorf("you took decision %s yourself; another reviewer must review its appeal: %w", a.DecisionID, moderation.ErrPermission)
	}
	switch s := a.StateAt(now); {
	case s == InReview && a.Reviewer != reviewer:
		return fmt.Errorf("appeal %s is claimed by %s until %s: %w", a.ID, a.Reviewer, a.LeaseUntil.Format(time.RFC3339), moderation.ErrConflict)
	case s != Filed && s != InReview:
		return fmt.Errorf("appeal %s is %s: %w", a.ID, s, moderation.ErrConflict)
	}
	a.Reviewer = reviewer
	a.LeaseUntil = now.Add(r.Lease)
	a.step(now, reviewer, InReview)
	return nil
}

// Verdict is a reviewer's decision on an appeal.
type Verdict struct {
	Reviewer         string
	Outcome          Outcome
	ModifiedAction   moderation.Action // for Modify: lighter than the appealed measure
	ModifiedDuration time.Duration     // for Modify: from the original decision; 0 for no end
	Reply            string            // what the owner reads; required
}

// Decide records a reviewer's answer. Only the reviewer holding a live
// claim may decide, so two reviewers can never both decide one appeal.
func (r Rules) Decide(a *Appeal, v Verdict, now time.Time) error {
	if a.DecisionActor != "" && a.DecisionActor == v.Reviewer {
		return fmt.Errorf("you took decision %s yourself; another reviewer must decide its appeal: %w", a.DecisionID, moderation.ErrPermission)
	}
	switch s := a.StateAt(now); {
	case s == Filed && a.State == InReview && a.Reviewer == v.Reviewer:
		return fmt.Errorf("your claim on appeal %s ran out at %s; claim it again: %w", a.ID, a.LeaseUntil.Format(time.RFC3339), moderation.ErrConflict)
	case s == Filed:
		return fmt.Errorf("appeal %s is not claimed; claim it before deciding: %w", a.ID, moderation.ErrConflict)
	case s == InReview && a.Reviewer != v.Reviewer:
		return fmt.Errorf("appeal %s is claimed by %s: %w", a.ID, a.Reviewer, moderation.ErrConflict)
	case s != InReview:
		return fmt.Errorf("appeal %s is already %s: %w", a.ID, s, moderation.ErrConflict)
	}
	if strings.TrimSpace(v.Reply) == "" {
		return moderation.Invalid("reply", "is required: the owner is owed reasons")
	}
	var next State
	switch v.Outcome {
	case Uphold:
		next = Upheld
	case Overturn:
		next = Overturned
	case Modify:
		if !v.ModifiedAction.Known() || v.ModifiedAction == moderation.ActionAllow || v.ModifiedAction.Severity() >= a.Action.Severity() {
			return moderation.Invalid("modified_action", fmt.Sprintf("must be a lighter measure than the %s appealed", a.Action))
		}
		if v.ModifiedDuration < 0 {
			return moderation.Invalid("modified_duration", "must not be negative")
		}
		next = Modified
		a.ModifiedAction, a.ModifiedDuration = v.ModifiedAction, v.ModifiedDuration
	default:
		return moderation.Invalid("outcome", "must be uphold, overturn or modify")
	}
	a.Reply = v.Reply
	a.ClosedAt = now
	a.LeaseUntil = time.Time{}
	a.step(now, v.Reviewer, next)
	return nil
}
