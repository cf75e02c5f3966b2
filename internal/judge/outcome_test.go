package judge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"moderation/internal/moderation"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// TestOutcomeKeyDecidesTheAction holds the embedded policy to the watch
// contract the outcome memo relies on: over the inputs the pipeline makes
// of both bench mixes and of the labelled mix of evasions and look-alikes
// (woken accounts, rings, brigades), under every measure in force, inputs
// with the same outcome key get the same action from OPA. It also shows
// the memo is worth having: many inputs share a key.
func TestOutcomeKeyDecidesTheAction(t *testing.T) {
	ctx := context.Background()
	pol, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if pol.outcomes == nil {
		t.Fatal("embedded policy: no outcome memo")
	}
	type seen struct {
		action moderation.Action
		input  Input
	}
	byKey := map[uint64]seen{}
	evaluated := 0
	labelled := func(int, uint64) ([]replay.Record, error) {
		all, err := traffic.ParseInstances("all=2")
		if err != nil {
			return nil, err
		}
		return traffic.Labelled(3, all).Records(time.Now())
	}
	for i, in := range append(mixInputs(t), inputsOf(t, 5, eventsOf(labelled))...) {
		if i%3 != 0 {
			continue // a third of them, under every status, keeps the test short
		}
		for _, status := range []moderation.Action{moderation.ActionAllow, moderation.ActionWarn, moderation.ActionLimit, moderation.ActionSuspend} {
			in.Account.Status = status
			v, err := pol.evaluate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			evaluated++
			k := pol.outcomes.key(in)
			if s, ok := byKey[k]; ok && s.action != v.Action {
				t.Fatalf("same outcome key, different actions:\n%s for %+v\n%s for %+v", s.action, s.input, v.Action, in)
			}
			byKey[k] = seen{v.Action, in}
		}
	}
	t.Logf("%d inputs, %d outcome keys", evaluated, len(byKey))
	if len(byKey) > evaluated/2 {
		t.Errorf("%d outcome keys for %d inputs: the memo would rarely answer", len(byKey), evaluated)
	}
}

// TestEvaluateAboveAnswersFromOutcomes: a verdict that changes nothing is
// answered from the outcome memo for another account in the same standing
// with other counts; one stronger than the measure in force is evaluated
// in full, reasons and all.
func TestEvaluateAboveAnswersFromOutcomes(t *testing.T) {
	ctx := context.Background()
	pol, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	in := func(id string, hour float64) Input {
		return Input{
			Account: moderation.Account{ID: id, Type: moderation.AccountPersonal, AgeDays: 2, Status: moderation.ActionLimit},
			Signals: map[string]moderation.Signal{"bulk_add": {Values: map[string]float64{"hour_strangers": hour, "day_strangers": hour}}},
			Event:   &moderation.Event{ID: "e-" + id, Kind: moderation.KindFriendAdd, Account: id, At: time.Now()},
		}
	}
	first, err := pol.EvaluateAbove(ctx, in("a", 120), moderation.ActionLimit)
	if err != nil {
		t.Fatal(err)
	}
	if first.Action != moderation.ActionLimit || len(first.Reasons) == 0 {
		t.Fatalf("first: got %s with %d reasons, want limit in full", first.Action, len(first.Reasons))
	}
	hits := OutcomeHits()
	second, err := pol.EvaluateAbove(ctx, in("b", 130), moderation.ActionLimit) // same levels reached, other counts
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeHits() != hits+1 || second.Action != moderation.ActionLimit {
		t.Errorf("same standing: hits %d, action %s; want answered from the memo with limit", OutcomeHits()-hits, second.Action)
	}
	// Under a warning, the same standing is a change: evaluated in full.
	third, err := pol.EvaluateAbove(ctx, in("c", 130), moderation.ActionWarn)
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeHits() != hits+1 || len(third.Reasons) == 0 || third.Reasons[0].Detail == first.Reasons[0].Detail {
		t.Errorf("a stronger verdict: hits %d, reasons %+v; want evaluated in full, quoting its own counts", OutcomeHits()-hits, third.Reasons)
	}
}

// TestOutcomeMemoSwitchesOffWhenTheContractBreaks: a rule that compares a
// signal against a level it does not watch makes the memo's answer wrong;
// the sampled full evaluation finds it, switches the memo off and counts
// it, and from then on every answer is OPA's.
func TestOutcomeMemoSwitchesOffWhenTheContractBreaks(t *testing.T) {
	ctx := context.Background()
	pol := loadModule(t, "sneaky.rego", `package moderation

violations contains {"rule": "sneaky", "action": "suspend", "reason": {"code": "sneaky", "detail": "seven"},
	"restricts": [], "title": "Sneaky", "ground": "g", "explanation": "e"} if {
	signal_value("bulk_add", "hour_strangers") >= 7
}
`)
	in := func(i int, hour float64) Input {
		id := fmt.Sprint("acct_", i)
		return Input{
			Account: moderation.Account{ID: id, Type: moderation.AccountPersonal, AgeDays: 2},
			Signals: map[string]moderation.Signal{"bulk_add": {Values: map[string]float64{"hour_strangers": hour}}},
			Event:   &moderation.Event{ID: "e-" + id, Kind: moderation.KindFriendAdd, Account: id, At: time.Now()},
		}
	}
	if v, err := pol.EvaluateAbove(ctx, in(0, 5), moderation.ActionAllow); err != nil || v.Action != moderation.ActionAllow {
		t.Fatalf("5 requests: %s, %v; want allow", v.Action, err)
	}
	mismatches := OutcomeMismatches()
	found := -1
	for i := 1; i <= 2*outcomeCheckEvery; i++ {
		v, err := pol.EvaluateAbove(ctx, in(i, 8), moderation.ActionAllow)
		if err != nil {
			t.Fatal(err)
		}
		if v.Action == moderation.ActionSuspend {
			found = i
			break
		}
	}
	if found < 0 || OutcomeMismatches() != mismatches+1 || !pol.outcomes.off.Load() {
		t.Fatalf("broken contract: suspend first at call %d, mismatches %d, memo off %v; want found within %d calls, counted, memo off",
			found, OutcomeMismatches()-mismatches, pol.outcomes.off.Load(), outcomeCheckEvery)
	}
	if v, err := pol.EvaluateAbove(ctx, in(1000, 8), moderation.ActionAllow); err != nil || v.Action != moderation.ActionSuspend {
		t.Errorf("after the memo is off: %s, %v; want OPA's suspend", v.Action, err)
	}
}
