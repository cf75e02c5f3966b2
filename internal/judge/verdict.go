package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"moderation/internal/moderation"
)

// Input is what the policy sees about an account.
type Input struct {
	Account moderation.Account
	Signals map[string]moderation.Signal
	Event   *moderation.Event
}

// inputValue is the document the policy reads as input, built as OPA's
// own value: the same value OPA would make of its JSON form (numbers as
// JSON writes a float64, TestInputValueIsTheDocumented), without the
// reflection over Go maps (with the goroutine OPA starts unless given a
// cancel, a sixth of an evaluation's CPU on the attack mix's inputs).
//
//	{"account": {"id", "type", "verified", "age_days", "strikes", "status"},
//	 "signals": {<name>: {<value name>: number, ..., "evidence": string}},
//	 "event":   {"id", "kind", "at" (RFC 3339, UTC)}}
func inputValue(in Input) ast.Value {
	str, num := ast.InternedTerm[string], ast.FloatNumberTerm
	signals := make([][2]*ast.Term, 0, len(in.Signals))
	for name, s := range in.Signals {
		fields := make([][2]*ast.Term, 0, len(s.Values)+1)
		for k, v := range s.Values {
			if k != "evidence" { // the evidence is, even if a value were named so
				fields = append(fields, ast.Item(str(k), num(v)))
			}
		}
		fields = append(fields, ast.Item(str("evidence"), str(s.Evidence)))
		signals = append(signals, ast.Item(str(name), ast.ObjectTerm(fields...)))
	}
	a := in.Account
	return ast.NewObject(
		ast.Item(str("account"), ast.ObjectTerm(
			ast.Item(str("id"), str(a.ID)),
			ast.Item(str("type"), str(string(a.Type))),
			ast.Item(str("verified"), ast.InternedTerm(a.Verified)),
			ast.Item(str("age_days"), num(a.AgeDays)),
			ast.Item(str("strikes"), ast.InternedTerm(a.Strikes)),
			ast.Item(str("status"), str(string(a.Status))),
		)),
		ast.Item(str("signals"), ast.ObjectTerm(signals...)),
		ast.Item(str("event"), ast.ObjectTerm(
			ast.Item(str("id"), str(in.Event.ID)),
			ast.Item(str("kind"), str(string(in.Event.Kind))),
			ast.Item(str("at"), str(in.Event.At.UTC().Format(time.RFC3339))),
		)),
	)
}

// Verdict is the policy's answer, before it becomes a decision.
type Verdict struct {
	Action            moderation.Action       `json:"action"`
	Reasons           []moderation.Reason     `json:"reasons"`
	Duration          string                  `json:"duration"`
	Restricts         []moderation.Capability `json:"restricts"`
	Rule              string                  `json:"rule"`
	Title             string                  `json:"title"`
	Ground            string                  `json:"ground"`
	Explanation       string                  `json:"explanation"`
	AutomatedDecision string                  `json:"automated_decision"`
	Appealable        bool                    `json:"appealable"`
}

// Evaluate runs the prepared decision query for one account, or answers
// from the policy's memo when the same input, less the account's id, was
// asked before (see memo).
func (p *Policy) Evaluate(ctx context.Context, in Input) (Verdict, error) {
	if p.memo == nil {
		return p.evaluate(ctx, in)
	}
	k := p.memo.key(in)
	if v, ok := p.memo.get(k); ok {
		memoHits.Add(1)
		return v, nil
	}
	v, err := p.evaluate(ctx, in)
	if err == nil {
		p.memo.put(k, v)
	}
	return v, err
}

// evaluate asks OPA.
func (p *Policy) evaluate(ctx context.Context, in Input) (Verdict, error) {
	// Without a cancel of its own, OPA starts a goroutine per evaluation to
	// watch ctx; a callback on ctx does the same without one.
	cancel := topdown.NewCancel()
	defer context.AfterFunc(ctx, cancel.Cancel)()
	rs, err := p.decide.Eval(ctx, rego.EvalParsedInput(inputValue(in)), rego.EvalExternalCancel(cancel))
	if err != nil {
		return Verdict{}, fmt.Errorf("evaluate policy %s: %w", p.Version, err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return Verdict{}, fmt.Errorf("evaluate policy %s: %s is undefined", p.Version, decisionQuery)
	}
	raw, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		return Verdict{}, fmt.Errorf("encode verdict of policy %s: %w", p.Version, err)
	}
	var v Verdict
	if err := json.Unmarshal(raw, &v); err != nil {
		return Verdict{}, fmt.Errorf("policy %s returned a malformed decision: %w", p.Version, err)
	}
	if !v.Action.Known() {
		return Verdict{}, fmt.Errorf("policy %s returned unknown action %q", p.Version, v.Action)
	}
	return v, nil
}

// ErrNoStatement is returned for an action the owner could not be told the
// reasons for. Such a decision is refused, not enforced.
var ErrNoStatement = errors.New("statement of reasons cannot be filled")

// Decide turns a verdict above allow into a decision on account, triggered
// by ev. Times are event time, so a replay yields the same decision.
func (p *Policy) Decide(v Verdict, account string, ev *moderation.Event, strikes int) (*moderation.Decision, error) {
	var missing []string
	for field, value := range map[string]string{"ground": v.Ground, "explanation": v.Explanation, "rule": v.Rule, "automated_decision": v.AutomatedDecision} {
		if strings.TrimSpace(value) == "" {
			missing = append(missing, field)
		}
	}
	if len(v.Reasons) == 0 {
		missing = append(missing, "reasons")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: policy %s left %s empty for %s", ErrNoStatement, p.Version, strings.Join(missing, ", "), v.Action)
	}
	var until *time.Time
	if v.Duration != "" {
		d, err := time.ParseDuration(v.Duration)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%w: policy %s returned duration %q", ErrNoStatement, p.Version, v.Duration)
		}
		u := measureStart(ev.At, judgingClock()).Add(d).UTC()
		until = &u
	}
	facts := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		facts[i] = r.Detail
	}
	d := &moderation.Decision{
		Account:       account,
		Action:        v.Action,
		DecisionID:    moderation.DecisionID(account, ev.ID),
		PolicyVersion: p.Version,
		Until:         until,
		Reasons:       v.Reasons,
		Restricts:     v.Restricts,
		EventID:       ev.ID,
		At:            ev.At.UTC(),
		Strikes:       strikes,
		Statement: moderation.Statement{
			Measure:            Measure(v.Action, v.Restricts, v.Duration),
			Facts:              strings.Join(facts, "; "),
			AutomatedDetection: true,
			AutomatedDecision:  v.AutomatedDecision,
			Ground:             v.Title + " (" + v.Ground + ")",
			Explanation:        v.Explanation,
		},
	}
	if v.Appealable {
		deadline := ev.At.Add(p.AppealWindow).UTC()
		d.Statement.AppealDeadline = deadline
		d.Statement.Redress = fmt.Sprintf("You can appeal this decision, free of charge, until %s: open Account status in the app and choose Appeal. A person, not a machine, reviews every appeal and answers with reasons.", deadline.Format("2 January 2006"))
	} else {
		d.Statement.Redress = "This measure cannot be appealed in the app; you may contact support."
	}
	return d, nil
}

// judgingClock is the wall clock Decide bounds a measure's end by; tests
// replace it.
var judgingClock = time.Now

// measureStart is when a measure's duration counts from: the event's time,
// so a replay of history yields the same until, but never later than the
// moment the service judged it. Validation already refuses events dated
// far ahead of the clock; this keeps any that got through (a skew allowed
// by configuration, an event stored before the check existed) from
// stretching a 24-hour limit into one that ends years from now.
func measureStart(eventAt, judgedAt time.Time) time.Time {
	if eventAt.After(judgedAt) {
		return judgedAt
	}
	return eventAt
}

// Measure describes an action in words an owner reads.
func Measure(a moderation.Action, restricts []moderation.Capability, duration string) string {
	var what string
	switch a {
	case moderation.ActionWarn:
		return "Warning: no restriction yet; repeated behaviour leads to restrictions"
	case moderation.ActionLimit:
		names := make([]string, len(restricts))
		for i, c := range restricts {
			names[i] = capabilityNames[c]
			if names[i] == "" {
				names[i] = string(c)
			}
		}
		what = "Limited: you cannot send " + strings.Join(names, " or ")
		if len(names) == 0 {
			what = "Limited: you cannot broadcast or send friend requests"
		}
	case moderation.ActionSuspend:
		what = "Suspended: the account cannot broadcast, add friends or post"
	case moderation.ActionClose:
		return "Closed: the account is frozen; it is deleted only after the appeal window has passed with no appeal open"
	default:
		return string(a)
	}
	if d, err := time.ParseDuration(duration); err == nil && d > 0 {
		what += " for " + humanDuration(d)
	}
	return what
}

var capabilityNames = map[moderation.Capability]string{
	moderation.CapFriendAdd: "friend requests",
	moderation.CapBroadcast: "broadcasts",
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		days := int(d / (24 * time.Hour))
		if days == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", days)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return d.String()
}
