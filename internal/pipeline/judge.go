package pipeline

import (
	"context"
	"fmt"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Store keeps enforcement state: JetStream (the enforcement package) when
// live, memory when a backtest replays history.
type Store interface {
	// Apply changes an account: the one durable path (see
	// enforcement.Store.Apply).
	Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error)
	Audit(ctx context.Context, subject, msgID string, record any) error
}

// judge asks the policy about the account and applies a stronger action.
// It is safe to run again for the same event: the account state records the
// last event applied, and the decision id is derived from the event.
func (p *Pipeline) judge(ctx context.Context, jin *judgeInput, ev *moderation.Event, seq uint64) error {
	var rule string
	ch, err := p.store.Apply(ctx, moderation.PathJudge, ev.Account, p.decide(ctx, jin, ev, seq, &rule))
	if err != nil || ch == nil || ch.State == nil {
		return err
	}
	p.decided(ch, rule)
	return nil
}

// decide is the change judging makes of an account's state, for Apply (or
// a lane's Begin) to ask for: nil when the policy asks for nothing
// stronger than the measure in force, or the event was applied before. It
// sets *rule to the rule that decided.
func (p *Pipeline) decide(ctx context.Context, jin *judgeInput, ev *moderation.Event, seq uint64, rule *string) func(st *moderation.AccountState) (*moderation.Change, error) {
	return func(st *moderation.AccountState) (*moderation.Change, error) {
		if st != nil && seq <= st.EventSeq {
			return nil, nil // applied before a crash or a retry; Apply has published it
		}
		if err := ctx.Err(); err != nil {
			return nil, err // stopping: judged again after the restart
		}
		pol := p.policy.Load()
		current := st.Effective(ev.At)
		strikes := st.ActiveStrikes(ev.At, pol.StrikeExpiry)
		// The measure in force carries a strike of its own; it is the same
		// episode, so it must not escalate itself.
		earlier := len(strikes)
		if current.Severity() >= moderation.ActionLimit.Severity() && earlier > 0 {
			earlier--
		}
		acct := jin.account
		acct.Strikes, acct.Status = earlier, current
		in := judge.Input{Account: acct, Signals: jin.signals, Event: ev}
		if err := p.reviewBrigade(ctx, jin, ev, pol.Version); err != nil { // brigade.go
			return nil, err
		}
		p.metrics.Evaluations.Inc()
		v, err := pol.EvaluateAbove(ctx, in, current) // only a stronger verdict needs its reasons
		if err != nil {
			if ctx.Err() != nil {
				// Stopping cut the evaluation short: not the policy's
				// failure. The event stays unacknowledged and is judged
				// again, rather than refused and acknowledged.
				return nil, fmt.Errorf("evaluate the policy for %s: %w", ev.Account, ctx.Err())
			}
			p.refuse(ev, err)
			return nil, nil
		}
		if shadow := p.shadow.Load(); shadow != nil {
			if err := p.shadowJudge(ctx, shadow, in, v, current, pol.Version); err != nil {
				return nil, err
			}
		}
		if v.Action.Severity() <= current.Severity() {
			return nil, nil
		}
		if p.suppressed(v.Rule) { // recorded instead: no decision and no strike
			return nil, p.suppress(ctx, ev, v, pol.Version)
		}
		// One strike per episode: a stronger measure that replaces one still
		// in force keeps that measure's strike rather than adding another.
		if v.Action.Severity() >= moderation.ActionLimit.Severity() && current.Severity() < moderation.ActionLimit.Severity() {
			strikes = append(strikes, ev.At.UTC())
		}
		d, err := pol.Decide(v, ev.Account, ev, len(strikes))
		if err != nil {
			p.refuse(ev, err)
			return nil, nil
		}
		*rule = v.Rule
		next := &moderation.AccountState{Account: ev.Account, Current: d, StrikeTimes: strikes, EventSeq: seq, UpdatedAt: time.Now().UTC(),
			Basis: &moderation.Basis{Account: in.Account, Signals: in.Signals, EventID: ev.ID, EventKind: ev.Kind, EventAt: ev.At.UTC()}}
		return &moderation.Change{State: next, Decisions: []*moderation.Decision{d}}, nil
	}
}

// decided counts and logs a decision once its change is stored.
func (p *Pipeline) decided(ch *moderation.Change, rule string) {
	d := ch.Decisions[0]
	p.metrics.decision(d.Action, rule)
	p.log.Info("decision", "account", d.Account, "action", d.Action, "rule", rule, "decision_id", d.DecisionID, "policy_version", d.PolicyVersion)
}

// ShadowRecord is what the decisions stream keeps of a shadow policy's
// answer that differs from the live one's: subject mod.audit.shadow.<account>.
type ShadowRecord struct {
	Account   string        `json:"account"`
	EventID   string        `json:"event_id"`
	At        time.Time     `json:"at"`
	Agreement string        `json:"agreement"` // stricter or looser than live
	Live      ShadowOutcome `json:"live"`
	Shadow    ShadowOutcome `json:"shadow"`
}

// ShadowOutcome is one policy's answer: the enforcement change it would
// make (allow when none).
type ShadowOutcome struct {
	Action        moderation.Action   `json:"action"`
	Rule          string              `json:"rule,omitempty"`
	PolicyVersion string              `json:"policy_version"`
	Reasons       []moderation.Reason `json:"reasons,omitempty"`
}

// shadowJudge evaluates the shadow policy on the live input, counts
// whether it agrees, and records a disagreement. It never enforces.
func (p *Pipeline) shadowJudge(ctx context.Context, shadow *judge.Policy, in judge.Input, live judge.Verdict, current moderation.Action, liveVersion string) error {
	sv, err := shadow.EvaluateAbove(ctx, in, current)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("evaluate the shadow policy for %s: %w", in.Event.Account, ctx.Err()) // stopping, as for the live one
		}
		p.metrics.ShadowErrors.Inc()
		p.log.Warn("shadow policy failed", "account", in.Event.Account, "version", shadow.Version, "err", err)
		return nil
	}
	change := func(v judge.Verdict) moderation.Action { // what the answer would change
		if v.Action.Severity() > current.Severity() {
			return v.Action
		}
		return moderation.ActionAllow
	}
	liveChange, shadowChange := change(live), change(sv)
	agreement, rule := "agree", live.Rule
	switch {
	case shadowChange.Severity() > liveChange.Severity():
		agreement, rule = "stricter", sv.Rule
	case shadowChange.Severity() < liveChange.Severity():
		agreement = "looser"
	}
	p.metrics.shadow(agreement, rule)
	if agreement == "agree" {
		return nil
	}
	rec := ShadowRecord{Account: in.Event.Account, EventID: in.Event.ID, At: in.Event.At.UTC(), Agreement: agreement,
		Live:   ShadowOutcome{Action: liveChange, Rule: live.Rule, PolicyVersion: liveVersion},
		Shadow: ShadowOutcome{Action: shadowChange, Rule: sv.Rule, PolicyVersion: shadow.Version, Reasons: sv.Reasons}}
	return p.store.Audit(ctx, natsbus.AuditPrefix+"shadow."+in.Event.Account, "shadow-"+moderation.DecisionID(in.Event.Account, in.Event.ID), rec)
}
