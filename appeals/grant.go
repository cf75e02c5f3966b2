package appeals

import (
	"fmt"
	"slices"
	"time"

	"moderation/internal/moderation"
)

// RestoreID is the id of the decision that carries out a granted appeal,
// derived from the appeal so that applying it twice writes it once.
func RestoreID(a *Appeal) string { return moderation.DecisionID(a.Account, "appeal:"+a.ID) }

func reinstateID(a *Appeal) string { return moderation.DecisionID(a.Account, "reinstate:"+a.ID) }

// Grant computes what an overturned or modified appeal does to the
// account: the decisions to publish, in order, and the state after them.
// The state is what the account would have without the appealed decision:
// its strike is taken back, and a measure it replaced that would still be
// in force is reinstated. When the appealed decision is no longer the one
// in force (a later decision replaced it), only its strike is taken back.
// It returns no decisions and a nil state when the grant was already
// applied.
//
// earlier are the account's decisions before the appealed one, oldest
// first.
func Grant(a *Appeal, st *moderation.AccountState, appealed *moderation.Decision, earlier []*moderation.Decision, reviewer string, now time.Time) ([]*moderation.Decision, *moderation.AccountState) {
	if st != nil && st.Current != nil && (st.Current.DecisionID == RestoreID(a) || st.Current.DecisionID == reinstateID(a)) {
		return nil, nil
	}
	next := &moderation.AccountState{Account: a.Account, UpdatedAt: now}
	if st != nil {
		next.Current, next.EventSeq, next.Basis = st.Current, st.EventSeq, st.Basis
		next.StrikeTimes = slices.Clone(st.StrikeTimes)
	}
	lighter := a.State == Overturned || a.ModifiedAction.Severity() < moderation.ActionLimit.Severity()
	if lighter {
		next.StrikeTimes = moderation.StrikesWithout(next.StrikeTimes, appealed)
	}
	if next.Current == nil || next.Current.DecisionID != appealed.DecisionID {
		return nil, next
	}
	next.Basis = nil
	var out []*moderation.Decision
	if a.State == Modified {
		m := modified(a, appealed, reviewer, now)
		m.Strikes = len(next.StrikeTimes)
		out = append(out, m)
	} else {
		out = append(out, restore(a, appealed, reviewer, now, len(next.StrikeTimes)))
		if e := inForceBefore(earlier, appealed, now); e != nil {
			out = append(out, reinstate(a, e, reviewer, now, len(next.StrikeTimes)))
		}
	}
	next.Current = out[len(out)-1]
	return out, next
}

// inForceBefore is the measure the appealed decision replaced, if it would
// still be in force now and rests on other grounds. The earlier steps of
// the same episode (a warning, then a limit, for the same rule, on the same
// facts) fall with the measure they led to.
func inForceBefore(earlier []*moderation.Decision, appealed *moderation.Decision, now time.Time) *moderation.Decision {
	for _, d := range slices.Backward(earlier) {
		if d.Action == moderation.ActionRestore || !d.Action.Known() || d.Action == moderation.ActionAllow {
			return nil // lifted, or nothing was in force
		}
		if d.Until != nil && !now.Before(*d.Until) {
			return nil
		}
		if sharesRule(d, appealed) {
			continue
		}
		return d
	}
	return nil
}

// sharesRule reports whether two decisions rest on a common rule.
func sharesRule(a, b *moderation.Decision) bool {
	for _, ra := range a.Reasons {
		for _, rb := range b.Reasons {
			if ra.Code == rb.Code {
				return true
			}
		}
	}
	return false
}

func restore(a *Appeal, appealed *moderation.Decision, reviewer string, now time.Time, strikes int) *moderation.Decision {
	return &moderation.Decision{
		Account:       a.Account,
		Action:        moderation.ActionRestore,
		DecisionID:    RestoreID(a),
		PolicyVersion: appealed.PolicyVersion,
		Reasons:       []moderation.Reason{{Code: "appeal_granted", Detail: fmt.Sprintf("appeal %s against decision %s was granted", a.ID, appealed.DecisionID)}},
		Statement: moderation.Statement{
			Measure:           fmt.Sprintf("The %s of %s is lifted on appeal; every capability is restored.", appealed.Action, appealed.At.Format("2 January 2006")),
			Facts:             fmt.Sprintf("A reviewer examined your appeal %s against decision %s and overturned it.", a.ID, appealed.DecisionID),
			AutomatedDecision: "not",
			Ground:            "Appeal granted",
			Explanation:       a.Reply,
			Redress:           "Nothing is required of you.",
		},
		At:      now,
		Strikes: strikes,
		Actor:   reviewer,
	}
}

// reinstate re-issues a measure the overturned decision had replaced, so
// the enforcement subject ends with what Check answers.
func reinstate(a *Appeal, e *moderation.Decision, reviewer string, now time.Time, strikes int) *moderation.Decision {
	d := *e
	d.DecisionID = reinstateID(a)
	d.At = now
	d.Strikes = strikes
	d.Actor = reviewer
	d.Statement.Measure = "Reinstated after a later decision was overturned on appeal: " + e.Statement.Measure
	return &d
}

func modified(a *Appeal, appealed *moderation.Decision, reviewer string, now time.Time) *moderation.Decision {
	d := &moderation.Decision{
		Account:       a.Account,
		Action:        a.ModifiedAction,
		DecisionID:    RestoreID(a),
		PolicyVersion: appealed.PolicyVersion,
		Reasons:       appealed.Reasons,
		At:            now,
		Actor:         reviewer,
	}
	what := fmt.Sprintf("On appeal, the %s of %s is replaced by a %s", appealed.Action, appealed.At.Format("2 January 2006"), a.ModifiedAction)
	if a.ModifiedAction == moderation.ActionLimit {
		d.Restricts = appealed.Restricts
	}
	if a.ModifiedDuration > 0 {
		until := appealed.At.Add(a.ModifiedDuration)
		d.Until = &until
		what += " until " + until.Format(time.RFC3339)
	}
	d.Statement = moderation.Statement{
		Measure:            what + ".",
		Facts:              appealed.Statement.Facts,
		AutomatedDetection: appealed.Statement.AutomatedDetection,
		AutomatedDecision:  "not",
		Ground:             appealed.Statement.Ground,
		Explanation:        a.Reply,
		Redress:            "This is the outcome of your appeal. If you disagree, you may refer it to a certified out-of-court dispute settlement body.",
	}
	return d
}
