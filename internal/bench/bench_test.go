package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunMeasuresAllThree checks the bench does what it says: every phase
// moves every event, the pipeline judges a few accounts, and the chart
// names all three rates. It does not judge speed; that is for the bench.
func TestRunMeasuresAllThree(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Events: 20_000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Raw <= 0 || res.PassThrough <= 0 || res.Pipeline <= 0 {
		t.Errorf("rates: got %+v, want all positive", res)
	}
	if res.Evaluations == 0 || res.Decisions == 0 {
		t.Errorf("the mix includes bulk adders: got %v evaluations and %v decisions, want some", res.Evaluations, res.Decisions)
	}
	if per100 := res.EvaluationsPer100(); per100 > 5 {
		t.Errorf("policy evaluations: got %.2f per 100 events, want at most 5 on mostly benign traffic", per100)
	}
	var out bytes.Buffer
	Print(&out, res)
	for _, want := range []string{"raw JetStream async publish", "pass-through", "moderation pipeline", "% of pass-through"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("chart lacks %q:\n%s", want, out.String())
		}
	}
}

// BenchmarkPipeline reports the pipeline's rate beside the pass-through's,
// measured in the same run: go test -run ^$ -bench Pipeline ./internal/bench
func BenchmarkPipeline(b *testing.B) {
	n := max(b.N, 20_000)
	for b.Loop() {
		res, err := Run(context.Background(), Config{Events: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Raw, "raw-events/s")
		b.ReportMetric(res.PassThrough, "passthrough-events/s")
		b.ReportMetric(res.Pipeline, "pipeline-events/s")
		b.ReportMetric(100*res.Pipeline/res.PassThrough, "%-of-passthrough")
		b.ReportMetric(res.EvaluationsPer100(), "evals/100-events")
	}
}
