package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
			var r ring[[12]uint16]
			base := t0.Unix()
			for _, a := range tt.adds {
				r.add(base+a, 300, 1)
			}
			if got := r.sum(base+tt.now, 300); got != tt.want {
				t.Errorf("sum: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRingSaturatesAndSlides(t *testing.T) {
	var r ring[[6]uint16]
	base := t0.Unix()
	r.add(base, 10, 65530)
	r.add(base, 10, 100) // saturates the bucket
	r.add(base+10, 10, 5)
	if got := r.sum(base+10, 10); got != 65535+5 {
		t.Errorf("sum: got %d, want %d", got, 65535+5)
	}
	r.add(base+70, 10, 1) // the first two buckets slide out
	if got := r.sum(base+70, 10); got != 1 {
		t.Errorf("after sliding: got %d, want 1 (cleared buckets must not count)", got)
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

// TestStrangerAnswers: over 30 days, only the answers of people the
// account asked as strangers count in month_stranger_answers and its
// reject ratio; an answer from a contact, or from someone never asked,
// does not dilute them (a bought account's own contacts accepting).
func TestStrangerAnswers(t *testing.T) {
	b := NewBulkAdd()
	ask := func(target string, src moderation.Source, at time.Time) {
		b.Observe(at, &moderation.FriendAdd{Target: target, Source: src})
	}
	answer := func(target, response string, at time.Time) {
		b.ObserveAnswer(at, &moderation.FriendResponse{Target: target, Response: response})
	}
	ask("s1", moderation.SourceSearch, t0)
	ask("s2", moderation.SourceGroup, t0)
	ask("s3", moderation.SourceSearch, t0)
	ask("c1", moderation.SourceContact, t0)
	ask("c2", moderation.SourceContact, t0)
	ask("c2", moderation.SourceSearch, t0.Add(time.Minute)) // the newest request is the one answered
	ask("s3", moderation.SourceQR, t0.Add(time.Minute))
	answer("s1", "accepted", t0.Add(time.Hour))
	answer("s2", "ignored", t0.Add(2*time.Hour))
	answer("c2", "reported", t0.Add(3*time.Hour))
	answer("c1", "accepted", t0.Add(4*time.Hour))     // a contact
	answer("s3", "accepted", t0.Add(4*time.Hour))     // asked again by QR code
	answer("nobody", "accepted", t0.Add(5*time.Hour)) // never asked
	now := t0.Add(20 * 24 * time.Hour).Unix()
	for name, want := range map[string]float64{"month_stranger_answers": 3, "month_stranger_reject_ratio": 2.0 / 3, "responses": 0} {
		if got, _ := b.Value(name, now); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s 20 days on: got %v, want %v", name, got, want)
		}
	}
	if s := b.Signal(now); !strings.Contains(s.Evidence, "of 3 strangers who answered in the last 30 days, 67% ignored or reported") {
		t.Errorf("evidence %q does not give the strangers' answers", s.Evidence)
	}
	if got, _ := b.Value("month_stranger_answers", t0.Add(31*24*time.Hour).Unix()); got != 0 {
		t.Errorf("month_stranger_answers 31 days on: got %v, want 0", got)
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

// TestSlowDripShowsInWeekAndMonth: a new account that adds 20 to 60
// strangers a day, at random hours, for six weeks stays far under any
// daily level, and its week and month counts follow the true sliding
// counts within a day's bucket.
func TestSlowDripShowsInWeekAndMonth(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			env := &Env{Location: time.UTC}
			a := NewAccount()
			start := t0.Add(-time.Duration(rng.IntN(86400)) * time.Second)
			var sent []time.Time
			for day := range 42 {
				n := 20 + rng.IntN(41)
				times := make([]time.Time, n)
				for i := range times {
					times[i] = start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(86400)) * time.Second)
				}
				slices.SortFunc(times, time.Time.Compare)
				for i, at := range times {
					ev := &moderation.Event{Kind: moderation.KindFriendAdd, At: at, FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("d%d-%d", day, i), Source: moderation.SourceGroup}}
					if day == 0 && i == 0 {
						ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: at.Add(-time.Hour)}
					}
					a.Observe(ev, env)
					sent = append(sent, at)
				}
				now := time.Unix(a.Last, 0)
				within := func(d time.Duration) float64 {
					n := 0
					for _, s := range sent {
						if now.Sub(s) < d {
							n++
						}
					}
					return float64(n)
				}
				for _, tt := range []struct {
					metric   string
					min, max float64 // the window is between one day short and whole
				}{
					{"bulk_add.week_strangers", within(6 * 24 * time.Hour), within(7 * 24 * time.Hour)},
					{"bulk_add.month_strangers", within(29 * 24 * time.Hour), within(30 * 24 * time.Hour)},
					{"bulk_add.day_strangers", 0, 60},
				} {
					if got, _ := a.Value(tt.metric, env); got < tt.min || got > tt.max {
						t.Fatalf("day %d: %s: got %v, want between %v and %v", day, tt.metric, got, tt.min, tt.max)
					}
				}
			}
			s := a.Signals(env)["bulk_add"]
			if got := s.Values["month_strangers"]; got < 29*20 {
				t.Errorf("month_strangers after six weeks of at least 20 a day: got %v, want at least %d", got, 29*20)
			}
			if !strings.Contains(s.Evidence, "in the last 30") {
				t.Errorf("evidence %q: want the week and month counts", s.Evidence)
			}
		})
	}
}

// TestDormancy: an account silent for 60 days or more that wakes is judged
// from its waking (AgeDays), and the silence is reported (dormant_days);
// standing comes back only with activity. Silence counts only while the
// service was watching: since the account's previous event, or since the
// earliest event seen from anyone (watched, in days after t0).
func TestDormancy(t *testing.T) {
	day := func(d float64) time.Time { return t0.Add(time.Duration(d * 24 * float64(time.Hour))) }
	created := day(-3 * 365)
	tests := []struct {
		name           string
		watched        float64   // days after t0 of another account's event, seen first; 0 for none
		events         []float64 // days after t0 of friend requests, in order of arrival
		info           bool      // the first event carries account_info
		wantAge        float64
		wantDormant    float64
		wantUnrecorded float64 // 1: its past has no record
	}{
		// Seen from the service's first day: its past has no record, so
		// its standing is what it earns from then on.
		{"active all along, from the first day watched", 0, []float64{0, 20, 40, 60, 80, 100}, true, 100, 0, 1},
		{"wakes after 90 days of silence", 0, []float64{0, 90}, true, 0, 90, 0},
		{"ten days after waking", 0, []float64{0, 90, 95, 100}, true, 10, 90, 0},
		{"59 days of silence is not dormancy", 0, []float64{0, 59}, true, 59, 0, 1},
		{"exactly 60 days is", 0, []float64{0, 60}, true, 0, 60, 0},
		{"first seen long after creation: its past unrecorded", 0, []float64{0}, true, 0, 0, 1},
		{"a late event inside the silence changes nothing", 0, []float64{0, 90, 45}, true, 0, 90, 0},
		{"a second sleep replaces the first", 0, []float64{0, 90, 100, 300}, true, 0, 200, 0},
		{"no account_info: new, whatever its silence", 0, []float64{0, 90}, false, -1, 90, 0},
		{"first seen after 100 days of watching: a waking", -100, []float64{0}, true, 0, 100, 0},
		{"first seen after 59 days of watching: its past unrecorded", -59, []float64{0}, true, 0, 0, 1},
		{"first seen after 60 days of watching: a waking", -60, []float64{0}, true, 0, 60, 0},
		{"watched since before it was created: silent since created", -4 * 365, []float64{0}, true, 0, 3 * 365, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{Location: time.UTC}
			if tt.watched != 0 {
				NewAccount().Observe(&moderation.Event{Kind: moderation.KindUnfollow, At: day(tt.watched), Unfollow: &moderation.Unfollow{Follower: "f"}}, env)
			}
			a := NewAccount()
			for i, d := range tt.events {
				ev := &moderation.Event{Kind: moderation.KindFriendAdd, At: day(d), FriendAdd: &moderation.FriendAdd{Target: fmt.Sprint(i), Source: moderation.SourceSearch}}
				if i == 0 && tt.info {
					ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: created}
				}
				a.Observe(ev, env)
			}
			// Ages count from the waking hour: within an hour of the exact day.
			if got := a.AgeDays(); math.Abs(got-tt.wantAge) > 1.0/24 {
				t.Errorf("AgeDays: got %v, want %v", got, tt.wantAge)
			}
			got, _ := a.Value("bulk_add.dormant_days", env)
			if math.Abs(got-tt.wantDormant) > 1.0/24 {
				t.Errorf("dormant_days: got %v, want %v", got, tt.wantDormant)
			}
			s := a.Signals(env)["bulk_add"]
			if s.Values["dormant_days"] != got {
				t.Errorf("signal dormant_days: got %v, want %v as Value reports", s.Values["dormant_days"], got)
			}
			if tt.wantDormant > 0 && !strings.Contains(s.Evidence, "silent for") {
				t.Errorf("evidence %q: want the silence named", s.Evidence)
			}
			unrecorded, _ := a.Value("bulk_add.unrecorded", env)
			if unrecorded != tt.wantUnrecorded || s.Values["unrecorded"] != unrecorded {
				t.Errorf("unrecorded: got %v (signal %v), want %v", unrecorded, s.Values["unrecorded"], tt.wantUnrecorded)
			}
			if named := strings.Contains(s.Evidence, "no activity on record"); named != (tt.wantUnrecorded > 0) {
				t.Errorf("evidence %q: names an unrecorded past %v, want %v", s.Evidence, named, tt.wantUnrecorded > 0)
			}
		})
	}
}

// TestUnrecordedAge: on a service that has just started, an account past
// a new account's age at first sight has a past with no record, however
// short; a younger one is new by its creation date and is not flagged.
func TestUnrecordedAge(t *testing.T) {
	for _, tt := range []struct {
		age  time.Duration
		want float64
	}{
		{45 * 24 * time.Hour, 1},
		{RecordedAge, 1},
		{RecordedAge - time.Hour, 0},
		{20 * 24 * time.Hour, 0},
	} {
		env := &Env{Location: time.UTC}
		a := NewAccount()
		a.Observe(&moderation.Event{Kind: moderation.KindFriendAdd, At: t0, AccountInfo: &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: t0.Add(-tt.age)},
			FriendAdd: &moderation.FriendAdd{Target: "x", Source: moderation.SourceSearch}}, env)
		if got, _ := a.Value("bulk_add.unrecorded", env); got != tt.want {
			t.Errorf("created %s before first sight: unrecorded %v, want %v", tt.age, got, tt.want)
		}
		if tt.want == 0 && math.Abs(a.AgeDays()-tt.age.Hours()/24) > 1.0/24 {
			t.Errorf("created %s before first sight: AgeDays %v, want its age from creation", tt.age, a.AgeDays())
		}
	}
}

// TestWokenOutsideGroups: an account that woke from a silence counts the
// strangers it asked since then outside groups (search, other), not those
// found in groups, not people it met (QR code, card), and not its requests
// from before the silence; an account that never slept counts none, and
// one whose past has no record counts from first sight. The
// signal carries the same count, and the evidence names it.
func TestWokenOutsideGroups(t *testing.T) {
	day := func(d float64) time.Time { return t0.Add(time.Duration(d * 24 * float64(time.Hour))) }
	sources := []moderation.Source{moderation.SourceSearch, moderation.SourceGroup, moderation.SourceOther, moderation.SourceQR, moderation.SourceCard, moderation.SourceGroup}
	for _, tt := range []struct {
		name    string
		created float64 // days after t0
		watched float64 // days after t0 of another account's event, seen first; 0 for none
		sleep   float64 // days between the first requests and the rest
		want    float64
	}{
		{"woke after 90 days: search and other since waking", -3 * 365, 0, 90, 4},
		{"never slept", -20, -100, 10, 0},
		// First seen on the service's first day, three years after it was
		// created: its run began at first sight, searches then included.
		{"its past unrecorded: since first sight", -3 * 365, 0, 10, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := &Env{Location: time.UTC}
			if tt.watched != 0 {
				NewAccount().Observe(&moderation.Event{Kind: moderation.KindUnfollow, At: day(tt.watched), Unfollow: &moderation.Unfollow{Follower: "f"}}, env)
			}
			add := func(a *Account, env *Env, d float64, i int, src moderation.Source) {
				ev := &moderation.Event{Kind: moderation.KindFriendAdd, At: day(d), FriendAdd: &moderation.FriendAdd{Target: fmt.Sprint("t", i), Source: src}}
				if i == 0 {
					ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: day(tt.created)}
				}
				a.Observe(ev, env)
			}
			a := NewAccount()
			for i := range 3 { // before the silence: searches that must not count
				add(a, env, 0, i, moderation.SourceSearch)
			}
			for i := range 12 { // two of each source
				add(a, env, tt.sleep+float64(i)/100, 3+i, sources[i%len(sources)])
			}
			got, ok := a.Value("bulk_add.woken_outside_groups", env)
			if !ok || got != tt.want {
				t.Errorf("woken_outside_groups: got %v (%v), want %v", got, ok, tt.want)
			}
			s := a.Signals(env)["bulk_add"]
			if s.Values["woken_outside_groups"] != got {
				t.Errorf("signal woken_outside_groups: got %v, want %v as Value reports", s.Values["woken_outside_groups"], got)
			}
			if named := strings.Contains(s.Evidence, "strangers found outside groups"); named != (tt.want > 0) {
				t.Errorf("evidence %q: names the strangers outside groups %v, want %v", s.Evidence, named, tt.want > 0)
			}
		})
	}
}
