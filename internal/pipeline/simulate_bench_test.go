package pipeline_test

import (
	"context"
	"testing"

	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// BenchmarkJudgingCPU is what each mix costs the process's CPU with no
// NATS in the way: detectors, level crossings, the policy (a fresh memo
// each round, as after a start) and the decisions, kept in memory. The
// live pipeline adds decoding and the round trips; a CPU profile of this
// says where the judging's own time goes:
// go test -run ^$ -bench JudgingCPU/attack -cpuprofile cpu.out ./internal/pipeline
func BenchmarkJudgingCPU(b *testing.B) {
	for _, mix := range []struct {
		name string
		gen  func(int, uint64) ([]replay.Record, error)
	}{{"benign", traffic.Synthetic}, {"attack", traffic.Attack}} {
		b.Run(mix.name, func(b *testing.B) {
			ctx := context.Background()
			recs, err := mix.gen(20_000, 3)
			if err != nil {
				b.Fatal(err)
			}
			evs := make([]*moderation.Event, len(recs))
			for i, r := range recs {
				if evs[i], err = events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data); err != nil {
					b.Fatal(err)
				}
			}
			var evaluations float64
			for b.Loop() {
				b.StopTimer()
				pol, err := judge.Compile(ctx, policies.FS, "embedded")
				if err != nil {
					b.Fatal(err)
				}
				sim, err := pipeline.NewSimulator(pipeline.Config{}, pol)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for i, ev := range evs {
					if err := sim.Feed(ctx, ev, uint64(i+1)); err != nil {
						b.Fatal(err)
					}
				}
				evaluations += sim.Evaluations()
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(b.Elapsed().Seconds()*1e6/evaluations, "µs-all/evaluation")
		})
	}
}
