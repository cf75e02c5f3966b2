package pipeline

import (
	"context"
	"testing"

	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/traffic"
	"moderation/policies"
)

// BenchmarkDetectorStage measures what every event costs after decoding:
// the window lookup, the detectors, and the before/after comparison of the
// metrics the embedded policy watches, over the bench's realistic mix:
// go test -run ^$ -bench DetectorStage ./internal/pipeline
func BenchmarkDetectorStage(b *testing.B) {
	recs, err := traffic.Synthetic(200_000, 5)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]*moderation.Event, len(recs))
	for i, r := range recs {
		if evs[i], err = events.Decode(r.Subject, "", r.Data); err != nil {
			b.Fatal(err)
		}
	}
	pol, err := judge.Compile(context.Background(), policies.FS, "embedded")
	if err != nil {
		b.Fatal(err)
	}
	cache := newWindowStore(300 << 20)
	// The service's own Env: the ad model and every cross-account index.
	p := &Pipeline{windows: cache, env: newEnv(Config{}.withDefaults())}
	p.policy.Store(pol)
	for i, ev := range evs { // warm: every account has a window
		p.observe(ev, uint64(i+1))
	}
	seq := uint64(len(evs))
	crossings := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq++
		if _, crossed := p.observe(evs[i%len(evs)], seq); crossed {
			crossings++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(100*float64(crossings)/float64(b.N), "crossings/100-events")
}
