package pipeline

import (
	"context"
	"maps"
	"slices"
	"sync"
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

// suppressions maps each *Pipeline with suppressed rules to its ruleSet.
// A pipeline with none has no entry, so the check, made only for a verdict
// that would enforce, is a sync.Map load (read without a lock for a set
// that rarely changes) and then at most one lookup in the set.
var suppressions sync.Map

// SetSuppressedRules replaces the rules whose verdicts are recorded and
// not enforced; none restores enforcement of every rule.
func (p *Pipeline) SetSuppressedRules(rules []string) {
	if len(rules) == 0 {
		if _, had := suppressions.LoadAndDelete(p); had {
			p.log.Warn("no rule suppressed any more: every rule's verdicts are enforced")
		}
		return
	}
	set := make(ruleSet, len(rules))
	for _, r := range rules {
		set[r] = struct{}{}
	}
	suppressions.Store(p, set)
	p.log.Warn("rules suppressed: their verdicts are recorded, not enforced", "rules", slices.Sorted(maps.Keys(set)))
}

// suppressed reports whether verdicts of rule are not to be enforced.
func (p *Pipeline) suppressed(rule string) bool {
	set, ok := suppressions.Load(p)
	if !ok {
		return false
	}
	_, hit := set.(ruleSet)[rule]
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
