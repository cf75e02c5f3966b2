package judge

import (
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync/atomic"

	"moderation/internal/moderation"
)

// Outcomes: most evaluations at a level crossing change nothing (under a
// spam wave, half of them: the account is already limited, or the level it
// crossed is another account type's), yet each costs a whole evaluation,
// reasons and all, about 0.3 ms of CPU. The watch contract
// (policies/moderation.rego) says the policy's answer does not change
// while every watched metric stays between the same two neighbouring
// levels, so the action is a function of the levels reached, not of the
// exact counts that the reasons quote. outcomes remembers actions by that
// coarser key, and EvaluateAbove answers from it when the action would
// change nothing, which accounts in the same standing share; an action
// that would change something is always evaluated in full, since its
// decision quotes the counts.
//
// The contract is the policy author's promise, and a policy that broke it
// would have its evaluations skipped wrongly. So one answer in
// outcomeCheckEvery from the memo is evaluated in full as well; if the
// two disagree, the policy's outcome memo is switched off for good and the
// disagreement counted (OutcomeMismatches).
const outcomeCheckEvery = 64

// outcomes remembers the action and rule of verdicts by outcomeKey.
type outcomes struct {
	memo
	watched []watchedField // the policy's watched metrics, split for lookup
	age     *Watched       // the age levels the policy compares; nil: the age in days is the key
	asked   atomic.Uint64  // answers given, for sampling the checks
	off     atomic.Bool    // set once a check found the contract broken
}

// watchedField is a watched metric as input.signals[signal][field].
type watchedField struct {
	signal, field string
	levels        Watched
}

func newOutcomes(watched []Watched, age *Watched) *outcomes {
	o := &outcomes{memo: memo{seed: maphash.MakeSeed(), entries: map[uint64]Verdict{}}, age: age}
	for _, w := range watched {
		signal, field, _ := strings.Cut(w.Name, ".")
		o.watched = append(o.watched, watchedField{signal: signal, field: field, levels: w})
	}
	return o
}

// key hashes what the action depends on under the watch contract: the
// account without its id (its age as the age levels it has reached, when
// the policy names them), the event's kind, the signals present, and, per
// watched metric, how many of its levels it has reached (or that it is
// missing, which a policy may judge otherwise than zero).
func (o *outcomes) key(in Input) uint64 {
	var h keyHash
	h.SetSeed(o.seed)
	str, num := h.str, h.num
	age := in.Account.AgeDays
	if o.age != nil {
		age = float64(o.age.Reached(age))
	}
	h.account(in, age)
	names := make([]string, 0, len(in.Signals))
	for name := range in.Signals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		str(name)
	}
	for _, w := range o.watched {
		v, ok := in.Signals[w.signal].Values[w.field]
		if !ok {
			num(-1)
			continue
		}
		num(float64(w.levels.Reached(v)))
	}
	return h.Sum64()
}

// outcomeMismatches counts checks that found a policy's action differ
// from its outcome memo's, across policies.
var outcomeMismatches atomic.Uint64

// OutcomeMismatches is how many times since start a full evaluation
// disagreed with the outcome memo (each switched that policy's memo off):
// a policy whose answer changes away from its watched levels.
func OutcomeMismatches() uint64 { return outcomeMismatches.Load() }

// outcomeHits counts evaluations answered from an outcome memo.
var outcomeHits atomic.Uint64

// OutcomeHits is how many evaluations since start were answered by the
// action alone, from the outcome memo, because it changed nothing.
func OutcomeHits() uint64 { return outcomeHits.Load() }

// EvaluateAbove is Evaluate for a caller that acts only on a verdict
// stronger than floor (the measure in force). A verdict no stronger may
// come from the outcome memo with its Action and Rule alone, no reasons.
func (p *Policy) EvaluateAbove(ctx context.Context, in Input, floor moderation.Action) (Verdict, error) {
	o := p.outcomes
	if o == nil || o.off.Load() {
		return p.Evaluate(ctx, in)
	}
	k := o.key(in)
	known, ok := o.get(k)
	if ok && known.Action.Severity() <= floor.Severity() {
		if o.asked.Add(1)%outcomeCheckEvery != 0 {
			outcomeHits.Add(1)
			return known, nil
		}
		v, err := p.Evaluate(ctx, in)
		if err == nil && v.Action != known.Action {
			outcomeMismatches.Add(1)
			o.off.Store(true)
		}
		return v, err
	}
	v, err := p.Evaluate(ctx, in)
	if err == nil {
		o.put(k, Verdict{Action: v.Action, Rule: v.Rule})
	}
	return v, err
}
