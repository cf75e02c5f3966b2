package pipeline

import (
	"context"
	"maps"
	"slices"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// A suppressed rule is one put in shadow while the policy keeps it: its
// verdicts are evaluated and recorded but not enforced. The service
// suppresses a rule whose decisions are overturned on appeal too often, so
// that it stops harming accounts until someone fixes it.

// ruleSet is a set of rule names. It is never changed once published,
// only replaced, so the hot path reads it without a lock.
type ruleSet map[string]struct{}

// SetSuppressedRules replaces the rules whose verdicts are recorded and
// not enforced; none restores enforcement of every rule.
func (p *Pipeline) SetSuppressedRules(rules []string) {
	if len(rules) == 0 {
		if p.suppressedRules.Swap(nil) != nil {
			p.log.Warn("no rule suppressed any more: every rule's verdicts are enforced")
		}
		return
	}
	set := make(ruleSet, len(rules))
	for _, r := range rules {
		set[r] = struct{}{}
	}
	p.suppressedRules.Store(&set)
	p.log.Warn("rules suppressed: their verdicts are recorded, not enforced", "rules", slices.Sorted(maps.Keys(set)))
}

// suppressed reports whether verdicts of rule are not to be enforced: an
// atomic load, and a lookup only while some rule is suppressed.
func (p *Pipeline) suppressed(rule string) bool {
	set := p.suppressedRules.Load()
	if set == nil {
		return false
	}
	_, hit := (*set)[rule]
	return hit
}

// SuppressedRecord is what the decisions stream keeps of a verdict not
// enforced because its rule is suppressed: subject
// mod.audit.suppressed.<account>. It is the evidence for deciding whether
// the rule may be enforced again. Since nothing comes into force, every
// later level crossing whose verdict would enforce is recorded too: an
// episode leaves a record per crossing where enforcing would have left
// one decision per step up.
type SuppressedRecord struct {
	Account       string              `json:"account"`
	EventID       string              `json:"event_id"`
	At            time.Time           `json:"at"`
	DecisionID    string              `json:"decision_id"` // the decision it would have been
	Action        moderation.Action   `json:"action"`      // the measure it would have taken
	Rule          string              `json:"rule"`
	PolicyVersion string              `json:"policy_version"`
	Reasons       []moderation.Reason `json:"reasons,omitempty"`
}

// suppress records a verdict of a suppressed rule instead of enforcing it.
// The record's message id comes from the decision id, so a redelivered
// event is recorded once; it is counted only once recorded, so a retry
// after a failed write does not count it twice.
func (p *Pipeline) suppress(ctx context.Context, ev *moderation.Event, v judge.Verdict, version string) error {
	id := moderation.DecisionID(ev.Account, ev.ID)
	rec := SuppressedRecord{Account: ev.Account, EventID: ev.ID, At: ev.At.UTC(), DecisionID: id,
		Action: v.Action, Rule: v.Rule, PolicyVersion: version, Reasons: v.Reasons}
	if err := p.store.Audit(ctx, natsbus.AuditPrefix+"suppressed."+ev.Account, "suppressed-"+id, rec); err != nil {
		return err
	}
	p.metrics.suppressed(v.Rule)
	p.log.Info("decision suppressed", "account", ev.Account, "action", v.Action, "rule", v.Rule, "decision_id", id, "policy_version", version)
	return nil
}
