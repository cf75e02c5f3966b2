package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRunMeasuresBothMixes checks the bench does what it says: both mixes
// measured in one run, every phase moving every event; on the benign mix
// the pipeline judges a few accounts, on the attack mix about one event in
// five crosses a level and one in ten changes an account's enforcement
// (the ratios are properties of the mix and the policy, not of speed);
// and the printout shows both charts. It does not judge speed; that is
// for the bench.
func TestRunMeasuresBothMixes(t *testing.T) {
	// A guard against a hang, not a judgement of speed: under -race on a
	// busy 2-core machine the two mixes took up to three and a half minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const events = 20_000
	res, err := Run(ctx, Config{Events: events, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []Mix
	for _, mr := range res.Mixes {
		got = append(got, mr.Mix)
		if mr.Events != events || mr.Raw <= 0 || mr.PassThrough <= 0 || mr.Pipeline <= 0 {
			t.Errorf("%s mix: got %+v, want %d events and every rate positive", mr.Mix, mr, events)
		}
	}
	if !slices.Equal(got, Mixes) {
		t.Fatalf("mixes measured: got %v, want %v", got, Mixes)
	}

	benign, _ := res.Mix(MixBenign)
	if benign.Evaluations == 0 || benign.Decisions == 0 {
		t.Errorf("the benign mix includes bulk adders: got %v evaluations and %v decisions, want some", benign.Evaluations, benign.Decisions)
	}
	if per100 := benign.EvaluationsPer100(); per100 > 5 {
		t.Errorf("benign mix: got %.2f policy evaluations per 100 events, want at most 5 on mostly benign traffic", per100)
	}

	attack, _ := res.Mix(MixAttack)
	if per := attack.Evaluations / events; per < 0.12 || per > 0.3 {
		t.Errorf("attack mix: got %.3f policy evaluations per event (%v), want about one in five (0.12 to 0.3)", per, attack.Evaluations)
	}
	if per := attack.Decisions / events; per < 0.06 || per > 0.15 {
		t.Errorf("attack mix: got %.3f decisions per event (%v), want about one in ten (0.06 to 0.15)", per, attack.Decisions)
	}
	// Half a spam wave's crossings change nothing (the account is already
	// limited): the outcome memo answers them without OPA.
	if attack.ByOPA <= 0 || attack.ByOPA > 0.8*attack.Evaluations {
		t.Errorf("attack mix: OPA made %v of %v evaluations, want some and at most 80%%", attack.ByOPA, attack.Evaluations)
	}
	t.Logf("attack mix: %.2f evaluations (%.2f by OPA) and %.2f decisions per 100 events", attack.EvaluationsPer100(), 100*attack.ByOPA/events, attack.DecisionsPer100())

	var out bytes.Buffer
	Print(&out, res)
	for _, want := range []string{"benign mix: 20,000 events", "attack mix: 20,000 events", "raw JetStream async publish", "pass-through (publish + ack)", "moderation pipeline"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printout lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"% of pass-through)", "by OPA, the rest remembered); decisions:", "goal: at least"} {
		if n := strings.Count(out.String(), want); n != 2 {
			t.Errorf("printout has %q %d times, want once per mix:\n%s", want, n, out.String())
		}
	}
}

// TestRunMeasuresOnlyTheMixAsked: -mix attack measures the attack alone.
func TestRunMeasuresOnlyTheMixAsked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Events: 2_000, Seed: 3, Mixes: []Mix{MixAttack}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mixes) != 1 || res.Mixes[0].Mix != MixAttack {
		t.Fatalf("got %+v, want the attack mix alone", res.Mixes)
	}
	if _, ok := res.Mix(MixBenign); ok {
		t.Error("the benign mix was measured too")
	}
	if res.Mixes[0].Decisions == 0 {
		t.Error("the attack mix changed no account")
	}
}

func TestParseMixes(t *testing.T) {
	for in, want := range map[string][]Mix{"both": {MixBenign, MixAttack}, "benign": {MixBenign}, "attack": {MixAttack}} {
		got, err := ParseMixes(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseMixes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "all", "Attack", "benign,attack"} {
		if _, err := ParseMixes(in); err == nil {
			t.Errorf("ParseMixes(%q): got no error", in)
		}
	}
}

// TestPrintJudgesEachMixByItsGoal: the benign mix is held to 60% of
// pass-through and the attack to 50%, so the same 55% passes one and
// misses the other.
func TestPrintJudgesEachMixByItsGoal(t *testing.T) {
	res := Result{Mixes: []MixResult{
		{Mix: MixBenign, Events: 1000, Raw: 150, PassThrough: 100, Pipeline: 55, Evaluations: 10, Decisions: 1},
		{Mix: MixAttack, Events: 1000, Raw: 150, PassThrough: 100, Pipeline: 55, Evaluations: 200, ByOPA: 120, Decisions: 100,
			PassThroughCPU: 40 * time.Microsecond, PipelineCPU: 215 * time.Microsecond},
	}}
	var out bytes.Buffer
	Print(&out, res)
	benign, attack, ok := strings.Cut(out.String(), "attack mix")
	if !ok {
		t.Fatalf("no attack chart:\n%s", out.String())
	}
	for _, c := range []struct{ name, text, want string }{
		{"benign", benign, "MISS  pipeline at 55% of pass-through (goal: at least 60%)"},
		{"attack", attack, "PASS  pipeline at 55% of pass-through (goal: at least 50%)"},
		{"attack", attack, "policy evaluations: 200 (20.00 per 100 events; 120 by OPA, the rest remembered); decisions: 100 (10.00 per 100 events)"},
		{"attack", attack, "CPU per event (server, publisher and service): pass-through 40 µs, pipeline 215 µs"},
	} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%s chart lacks %q:\n%s", c.name, c.want, out.String())
		}
	}
}

// BenchmarkPipeline reports each mix's pipeline rate beside its
// pass-through, measured in the same run, one mix per sub-benchmark so a
// CPU profile can be taken of one:
// go test -run ^$ -bench Pipeline/attack -cpuprofile cpu.out ./internal/bench
func BenchmarkPipeline(b *testing.B) {
	for _, m := range Mixes {
		b.Run(string(m), func(b *testing.B) {
			n := max(b.N, 20_000)
			for b.Loop() {
				res, err := Run(context.Background(), Config{Events: n, Seed: 1, Mixes: []Mix{m}})
				if err != nil {
					b.Fatal(err)
				}
				mr := res.Mixes[0]
				b.ReportMetric(mr.Raw, "raw-events/s")
				b.ReportMetric(mr.PassThrough, "passthrough-events/s")
				b.ReportMetric(mr.Pipeline, "pipeline-events/s")
				b.ReportMetric(100*mr.OfPassThrough(), "%-of-passthrough")
				b.ReportMetric(mr.EvaluationsPer100(), "evals/100-events")
				b.ReportMetric(mr.DecisionsPer100(), "decisions/100-events")
				b.ReportMetric(float64(mr.PassThroughCPU.Nanoseconds())/1e3, "passthrough-cpu-µs/event")
				b.ReportMetric(float64(mr.PipelineCPU.Nanoseconds())/1e3, "pipeline-cpu-µs/event")
			}
		})
	}
}
