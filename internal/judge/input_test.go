package judge

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"moderation/detectors"
	"moderation/detectors/adtext"
	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// documented is the input as the policy's contract describes it, in Go
// values for OPA to convert: what evaluate gave OPA before it built the
// value itself (inputValue).
func documented(in Input) map[string]any {
	signals := make(map[string]any, len(in.Signals))
	for name, s := range in.Signals {
		m := make(map[string]any, len(s.Values)+1)
		for k, v := range s.Values {
			m[k] = v
		}
		m["evidence"] = s.Evidence
		signals[name] = m
	}
	return map[string]any{
		"account": map[string]any{
			"id": in.Account.ID, "type": string(in.Account.Type), "verified": in.Account.Verified,
			"age_days": in.Account.AgeDays, "strikes": in.Account.Strikes, "status": string(in.Account.Status),
		},
		"signals": signals,
		"event":   map[string]any{"id": in.Event.ID, "kind": string(in.Event.Kind), "at": in.Event.At.UTC().Format(time.RFC3339)},
	}
}

// mixInputs are inputs as the pipeline makes them, from both bench mixes:
// every account's signals after each of its events, every seventh event.
func mixInputs(t testing.TB) []Input {
	t.Helper()
	return inputsOf(t, 7, eventsOf(traffic.Synthetic), eventsOf(traffic.Attack))
}

// inputsOf are the inputs the pipeline makes of mixes' events, 6,000 of
// each: every account's signals after each of its events, every every-th
// event, under varied strikes and measures in force.
func inputsOf(t testing.TB, every int, mixes ...func(int, uint64) ([]moderation.Event, error)) []Input {
	t.Helper()
	env := &detectors.Env{Location: time.UTC, Ads: adtext.Default(),
		Campaigns:    detectors.NewCampaigns(24*time.Hour, 100_000),
		Reporters:    detectors.NewReporters(detectors.DefaultReporterParams),
		Destinations: detectors.NewDestinations(72*time.Hour, 100_000),
		Targets:      detectors.NewTargets(7*24*time.Hour, 100_000)}
	var out []Input
	for _, mix := range mixes {
		evs, err := mix(6_000, 11)
		if err != nil {
			t.Fatal(err)
		}
		accounts := map[string]*detectors.Account{}
		for i := range evs {
			ev := &evs[i]
			a := accounts[ev.Account]
			if a == nil {
				a = &detectors.Account{}
				accounts[ev.Account] = a
			}
			a.Observe(ev, env)
			if i%every != 0 {
				continue
			}
			out = append(out, Input{
				Account: moderation.Account{ID: ev.Account, Type: a.Type(), Verified: a.Verified(), AgeDays: math.Floor(a.AgeDays()), Strikes: i % 4, Status: []moderation.Action{"", moderation.ActionWarn, moderation.ActionLimit}[i%3]},
				Signals: a.Signals(env),
				Event:   ev,
			})
		}
	}
	return out
}

func eventsOf(gen func(int, uint64) ([]replay.Record, error)) func(int, uint64) ([]moderation.Event, error) {
	return func(n int, seed uint64) ([]moderation.Event, error) {
		recs, err := gen(n, seed)
		if err != nil {
			return nil, err
		}
		evs := make([]moderation.Event, len(recs))
		for i, r := range recs {
			ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
			if err != nil {
				return nil, err
			}
			evs[i] = *ev
		}
		return evs, nil
	}
}

// TestInputValueIsTheDocumented: the input evaluate builds as OPA's value
// is the value OPA makes of the documented input, for the inputs the
// pipeline makes of both bench mixes and for odd ones (a signal value
// named evidence, numbers JSON writes with exponents, no signals), and the
// policy's verdicts on the two are identical.
func TestInputValueIsTheDocumented(t *testing.T) {
	ctx := context.Background()
	pol, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	ev := &moderation.Event{ID: "e1", Kind: moderation.KindFriendAdd, Account: "a", At: time.Date(2026, 3, 2, 8, 0, 0, 5, time.FixedZone("x", 3600))}
	odd := []Input{
		{Account: moderation.Account{ID: "a", AgeDays: -1}, Event: ev},
		{Account: moderation.Account{ID: "a", Type: moderation.AccountPersonal, AgeDays: 1e21, Strikes: 1 << 40}, Event: ev,
			Signals: map[string]moderation.Signal{"bulk_add": {Values: map[string]float64{"evidence": 3, "hour_strangers": 1e-7, "day_strangers": 123456789.125, "report_ratio": math.Copysign(0, -1)}, Evidence: "said"}}},
	}
	inputs := append(odd, mixInputs(t)...)
	evaluated, actions := 0, map[moderation.Action]int{}
	for i, in := range inputs {
		want, err := ast.InterfaceToValue(documented(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := inputValue(in); ast.Compare(got, want) != 0 {
			t.Fatalf("input %d: built\n%v\nwant\n%v", i, got, want)
		}
		if i >= len(odd) && i%5 != 0 {
			continue // the values are equal; the verdicts on a share of them show it matters
		}
		evaluated++
		got, err := pol.evaluate(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := pol.decide.Eval(ctx, rego.EvalInput(documented(in)))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(rs[0].Expressions[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		var want2 Verdict
		if err := json.Unmarshal(raw, &want2); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want2) {
			t.Fatalf("input %d: verdict\n%+v\nwant\n%+v", i, got, want2)
		}
		actions[got.Action]++
	}
	t.Logf("%d inputs built alike, %d verdicts alike: %v", len(inputs), evaluated, actions)
	if actions[moderation.ActionAllow] == evaluated {
		t.Error("every verdict was allow: the comparison showed nothing of the rules")
	}
}

// BenchmarkEvaluateMix is an evaluation by OPA, never the memo, over
// inputs of both bench mixes: "built" as evaluate asks, "documented" with
// the input given as Go maps for OPA to convert and its goroutine per
// evaluation, as before inputValue.
// go test -run ^$ -bench EvaluateMix ./internal/judge
func BenchmarkEvaluateMix(b *testing.B) {
	ctx := context.Background()
	pol, err := Compile(ctx, policies.FS, "embedded")
	if err != nil {
		b.Fatal(err)
	}
	inputs := mixInputs(b)
	b.Run("built", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := pol.evaluate(ctx, inputs[i%len(inputs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("documented", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := pol.decide.Eval(ctx, rego.EvalInput(documented(inputs[i%len(inputs)]))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
