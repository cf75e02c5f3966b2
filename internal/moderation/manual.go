package moderation

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ManualPolicyVersion is the policy version recorded on a person's decision.
const ManualPolicyVersion = "manual"

// ManualAction is a reviewer's action on an account, taken outside the
// policy: a measure, or restore to lift the one in force.
type ManualAction struct {
	Account      string
	Actor        string // "reviewer:alice"
	Action       Action
	Duration     time.Duration // 0: no end
	Restricts    []Capability  // for limit; empty limits everything
	ReasonCode   string        // the rule broken; "manual" when empty
	Detail       string        // the facts, as the owner reads them
	Note         string        // why, for the audit record only
	AppealWindow time.Duration
	// RequestID is the caller's idempotency key: the decision's id derives
	// from it, so a retried request finds its first decision instead of
	// making a second. Empty: the decision's id derives from the time.
	RequestID string
}

// DecisionID is the id of the decision the action makes at now.
func (a *ManualAction) DecisionID(now time.Time) string {
	if a.RequestID != "" {
		return DecisionID(a.Account, "manual:"+a.Actor+":request:"+a.RequestID)
	}
	return DecisionID(a.Account, fmt.Sprintf("manual:%s:%d", a.Actor, now.UnixNano()))
}

// Validate names the first field that is wrong.
func (a *ManualAction) Validate() error {
	switch {
	case !ValidAccountID(a.Account):
		return Invalid("account", "must match [A-Za-z0-9_-]{1,64}")
	case a.Action == ActionAllow || (!a.Action.Known() && a.Action != ActionRestore):
		return Invalid("action", "must be warn, limit, suspend, close or restore")
	case a.Duration < 0:
		return Invalid("duration", "must not be negative")
	case a.Action == ActionClose && a.Duration != 0:
		return Invalid("duration", "a closure has no end")
	case len(a.Restricts) > 0 && a.Action != ActionLimit:
		return Invalid("restricts", "applies to limit only")
	case strings.TrimSpace(a.Detail) == "":
		return Invalid("detail", "is required: the owner is owed the facts")
	case strings.TrimSpace(a.Note) == "":
		return Invalid("note", "is required for the audit record")
	case a.Actor == "":
		return Invalid("actor", "is required")
	}
	return nil
}

// Apply returns the decision a manual action makes and the account state
// after it. st is the state before (nil: none); now is when the reviewer
// acted. A measure of limit or stronger adds a strike unless it replaces
// one still in force (one strike per episode, as the policy counts them);
// restore lifts the measure in force and takes back the strike it brought.
func (a *ManualAction) Apply(st *AccountState, now time.Time) (*Decision, *AccountState, error) {
	if err := a.Validate(); err != nil {
		return nil, nil, err
	}
	now = now.UTC()
	current := st.Effective(now)
	next := &AccountState{Account: a.Account, UpdatedAt: now}
	if st != nil {
		next.StrikeTimes = slices.Clone(st.StrikeTimes)
		next.EventSeq = st.EventSeq
	}
	code := a.ReasonCode
	if code == "" {
		code = "manual"
	}
	d := &Decision{
		Account:       a.Account,
		Action:        a.Action,
		DecisionID:    a.DecisionID(now),
		PolicyVersion: ManualPolicyVersion,
		Reasons:       []Reason{{Code: code, Detail: a.Detail}},
		At:            now,
		Actor:         a.Actor,
	}
	if a.Action == ActionRestore {
		if current == ActionAllow {
			return nil, nil, fmt.Errorf("restore %s: no measure is in force: %w", a.Account, ErrConflict)
		}
		next.StrikeTimes = StrikesWithout(next.StrikeTimes, st.Current)
		d.Statement = Statement{
			Measure:           fmt.Sprintf("The %s of %s is lifted; every capability is restored.", current, st.Current.At.Format("2 January 2006")),
			Facts:             a.Detail,
			AutomatedDecision: "not",
			Ground:            "Review of an earlier decision",
			Explanation:       a.Detail,
			Redress:           "Nothing is required of you.",
		}
	} else {
		if a.Action.Severity() >= ActionLimit.Severity() && current.Severity() < ActionLimit.Severity() {
			next.StrikeTimes = append(next.StrikeTimes, now)
		}
		if a.Duration > 0 {
			until := now.Add(a.Duration)
			d.Until = &until
		}
		d.Restricts = a.Restricts
		deadline := now.Add(a.AppealWindow)
		d.Statement = Statement{
			Measure:           manualMeasure(a.Action, d.Until, a.Restricts),
			Facts:             a.Detail,
			AutomatedDecision: "not",
			Ground:            "Platform rules on " + strings.ReplaceAll(code, "_", " "),
			Explanation:       a.Detail,
			Redress: fmt.Sprintf("You can appeal this decision, free of charge, until %s: open Account status in the app and choose Appeal. A person, not a machine, reviews every appeal and answers with reasons.",
				deadline.Format("2 January 2006")),
			AppealDeadline: deadline,
		}
	}
	d.Strikes = len(next.StrikeTimes)
	next.Current = d
	return d, next, nil
}

func manualMeasure(a Action, until *time.Time, restricts []Capability) string {
	what := map[Action]string{ActionWarn: "A warning", ActionLimit: "A limit", ActionSuspend: "A suspension", ActionClose: "Closure of the account"}[a]
	if a == ActionLimit && len(restricts) > 0 {
		names := make([]string, len(restricts))
		for i, c := range restricts {
			names[i] = strings.ReplaceAll(string(c), "_", " ")
		}
		what += " on " + strings.Join(names, " and ")
	}
	if until != nil {
		return fmt.Sprintf("%s, until %s, decided by a reviewer.", what, until.Format(time.RFC3339))
	}
	return what + ", decided by a reviewer."
}
