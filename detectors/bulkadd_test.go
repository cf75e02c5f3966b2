package detectors

import (
	"fmt"
	"testing"
	"time"

	"moderation/internal/moderation"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func TestRingSlides(t *testing.T) {
	tests := []struct {
		name string
		adds []int64 // seconds after t0
		now  int64
		want uint32
	}{
		{"empty", nil, 0, 0},
		{"all inside", []int64{0, 10, 3000}, 3000, 3},
		{"old ones slide out", []int64{0, 10, 3700}, 3700, 1},
		{"burst across the edge of a clock hour is one burst", []int64{3590, 3595, 3600, 3605}, 3605, 4},
		{"late event older than the window is dropped", []int64{7200, 10}, 7200, 1},
		{"long gap clears the ring", []int64{0, 0, 0, 100000}, 100000, 1},
		{"query after the newest bucket slides the window", []int64{0, 1000}, 3700, 1},
		{"an event 58 minutes old is still in the hour", []int64{0, 1000}, 3500, 2},
		{"query before the newest bucket ignores nothing newer", []int64{0, 600}, 300, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(300, 12)
			base := t0.Unix()
			for _, a := range tt.adds {
				r.add(base+a, 1)
			}
			if got := r.sum(base + tt.now); got != tt.want {
				t.Errorf("sum: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRingSaturatesAndKeepsTotal(t *testing.T) {
	r := newRing(10, 6)
	base := t0.Unix()
	r.add(base, 65530)
	r.add(base, 100) // saturates the bucket
	r.add(base+10, 5)
	if got := r.sum(base + 10); got != 65535+5 {
		t.Errorf("sum: got %d, want %d", got, 65535+5)
	}
	r.add(base+70, 1) // the first two buckets slide out
	if got := r.sum(base + 70); got != 1 {
		t.Errorf("after sliding: got %d, want 1 (running total must follow cleared buckets)", got)
	}
}

func TestBulkAddSignal(t *testing.T) {
	tests := []struct {
		name          string
		n             int
		every         time.Duration
		source        moderation.Source
		distinct      int // targets cycle through this many people
		wantHour      float64
		wantStrangers float64
		wantDay       float64
		wantDistinct  float64
	}{
		{"strangers by search, one per 24s", 300, 24 * time.Second, moderation.SourceSearch, 300, 150, 150, 300, 150},
		{"organiser adding by QR", 120, 10 * time.Second, moderation.SourceQR, 120, 120, 0, 120, 120},
		{"retries to the same few people", 50, time.Second, moderation.SourceGroup, 5, 50, 50, 50, 5},
		{"five contacts in a day", 5, 3 * time.Hour, moderation.SourceContact, 5, 1, 0, 5, 1},
		{"steady all day", 960, 90 * time.Second, moderation.SourceSearch, 960, 40, 40, 960, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBulkAdd()
			var last time.Time
			for i := 0; i < tt.n; i++ {
				last = t0.Add(time.Duration(i) * tt.every)
				b.Observe(last, &moderation.FriendAdd{Target: fmt.Sprintf("u%d", i%tt.distinct), Source: tt.source})
			}
			s := b.Signal(last.Unix())
			for key, want := range map[string]float64{"hour": tt.wantHour, "hour_strangers": tt.wantStrangers, "day": tt.wantDay, "distinct_targets_hour": tt.wantDistinct} {
				// Buckets make the hour 55-60 minutes and the day 22-24 hours long.
				if got := s.Values[key]; got < want*0.9 || got > want {
					t.Errorf("%s: got %v, want %v (within one bucket)", key, got, want)
				}
			}
			if s.Evidence == "" {
				t.Error("evidence is empty")
			}
		})
	}
}

func TestAnswers(t *testing.T) {
	b := NewBulkAdd()
	for i, r := range []string{"accepted", "reported", "ignored", "reported", "accepted"} {
		b.ObserveAnswer(t0.Add(time.Duration(i)*time.Minute), &moderation.FriendResponse{Target: "x", Response: r})
	}
	now := t0.Add(5 * time.Minute).Unix()
	for name, want := range map[string]float64{"responses": 5, "report_ratio": 0.4, "reject_ratio": 0.6} {
		if got, _ := b.Value(name, now); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestRecentTargetsStayBounded(t *testing.T) {
	b := NewBulkAdd()
	for i := 0; i < 10*maxRecentTargets; i++ {
		b.Observe(t0.Add(time.Duration(i)*time.Second), &moderation.FriendAdd{Target: fmt.Sprint(i), Source: moderation.SourceSearch})
	}
	if got := len(b.recent); got > maxRecentTargets {
		t.Errorf("recent targets: got %d, want at most %d", got, maxRecentTargets)
	}
	if got := b.DistinctTargetsHour(t0.Add(time.Duration(10*maxRecentTargets-1) * time.Second).Unix()); got < maxRecentTargets/2 {
		t.Errorf("distinct targets after capping: got %d, want at least %d", got, maxRecentTargets/2)
	}
}

func TestAccountAgeAndMetrics(t *testing.T) {
	env := &Env{Location: time.UTC}
	a := NewAccount()
	if got := a.AgeDays(); got != -1 {
		t.Errorf("age with no account info: got %v, want -1", got)
	}
	for _, m := range Metrics() {
		if _, ok := a.Value(m, env); !ok {
			t.Errorf("metric %s listed but not answered by an empty account", m)
		}
	}
	a.Observe(&moderation.Event{Kind: moderation.KindFriendAdd, At: t0, AccountInfo: &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: t0.Add(-12 * time.Hour)},
		FriendAdd: &moderation.FriendAdd{Target: "x", Source: moderation.SourceSearch}}, env)
	if got := a.AgeDays(); got != 0.5 {
		t.Errorf("age: got %v, want 0.5", got)
	}
	if a.Quota != nil || a.Complaints != nil {
		t.Error("a personal account that only adds friends carries broadcast trackers")
	}
	if _, ok := a.Value("bulk_add.nonsense", env); ok {
		t.Error("unknown metric answered")
	}
}

func BenchmarkAccountObserve(b *testing.B) {
	env := &Env{Location: time.UTC}
	a := NewAccount()
	ev := &moderation.Event{Kind: moderation.KindFriendAdd, FriendAdd: &moderation.FriendAdd{Target: "someone", Source: moderation.SourceSearch}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.At = t0.Add(time.Duration(i) * time.Second)
		a.Observe(ev, env)
		a.Value("bulk_add.hour_strangers", env)
	}
}
