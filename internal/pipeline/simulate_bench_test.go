package pipeline_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// processCPU is the CPU time the process has used, GC included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkJudgingCPU is what each mix costs the process's CPU with no
// NATS in the way: detectors, level crossings, the policy (a fresh memo
// each round, as after a start) and the decisions, kept in memory. The
// live pipeline adds decoding and the round trips. cpu-µs/evaluation is
// all of it over the policy's evaluations, detectors included. A CPU
// profile of this says where the judging's own time goes:
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
			var cpu time.Duration
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
				began := processCPU()
				for i, ev := range evs {
					if err := sim.Feed(ctx, ev, uint64(i+1)); err != nil {
						b.Fatal(err)
					}
				}
				cpu += processCPU() - began
				evaluations += sim.Evaluations()
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
			// CPU time, which other work on the machine changes less than
			// the rate, is the figure to compare.
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*len(evs)), "cpu-µs/event")
			b.ReportMetric(float64(cpu.Microseconds())/evaluations, "cpu-µs/evaluation")
		})
	}
}
