package detectors

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"moderation/internal/moderation"
)

func TestTargetsRing(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	type add struct{ account, target string }
	pool := func(accounts, targets int) []add {
		var out []add
		for a := range accounts {
			for tg := range targets {
				out = append(out, add{fmt.Sprintf("ring%d", a), fmt.Sprintf("pool%d", tg)})
			}
		}
		return out
	}
	tests := []struct {
		name    string
		feed    []add
		account string
		want    Ring
	}{
		{"a ring sharing one pool", pool(12, 20), "ring0", Ring{Accounts: 12, Targets: 20, Shared: 20}},
		{"alone", []add{{"a", "x"}, {"a", "y"}}, "a", Ring{Accounts: 1, Targets: 2}},
		{"one celebrity in common is no ring", func() []add {
			var out []add
			for a := range 30 {
				out = append(out, add{fmt.Sprintf("fan%d", a), "celebrity"}, add{fmt.Sprintf("fan%d", a), fmt.Sprintf("friend%d", a)})
			}
			return out
		}(), "fan0", Ring{Accounts: 1, Targets: 2, Shared: 1}},
		{"a target another added is shared, one no other added is not", []add{{"a", "x"}, {"a", "y"}, {"b", "y"}, {"a", "z"}}, "a", Ring{Accounts: 1, Targets: 3, Shared: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTargets(7*24*time.Hour, 100_000)
			for i, a := range tt.feed {
				tr.Observe(a.account, start.Add(time.Duration(i)*time.Second), a.target)
			}
			if got := tr.Ring(tt.account); got != tt.want {
				t.Errorf("ring: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTargetsExpireAndBound(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	t.Run("event time", func(t *testing.T) {
		tr := NewTargets(week, 1000)
		for a := range 5 {
			tr.Observe(fmt.Sprintf("r%d", a), start, "x")
			tr.Observe(fmt.Sprintf("r%d", a), start, "y")
		}
		if got := tr.Ring("r0").Accounts; got != 5 {
			t.Fatalf("ring: got %d, want 5", got)
		}
		tr.Observe("late", start.Add(week-time.Second), "z")
		if got := tr.Ring("r0").Accounts; got != 5 {
			t.Errorf("ring just inside the week: got %d, want 5", got)
		}
		tr.Observe("late", start.Add(week), "z")
		if got := tr.Ring("r0"); got != (Ring{Accounts: 1}) {
			t.Errorf("ring a week on: got %+v, want nothing", got)
		}
		if got := tr.Len(); got != 2 {
			t.Errorf("entries a week on: got %d, want 2", got)
		}
	})
	t.Run("bound", func(t *testing.T) {
		tr := NewTargets(week, 100)
		for i := range 1000 {
			tr.Observe(fmt.Sprintf("a%d", i%10), start.Add(time.Duration(i)*time.Second), fmt.Sprintf("t%d", i))
		}
		if got := tr.Len(); got != 100 {
			t.Errorf("entries: got %d, want 100", got)
		}
		if got := len(tr.byTarget); got != 100 {
			t.Errorf("targets held: got %d, want 100", got)
		}
	})
}

// TestTargetsOrderWithinWindow: a ring's picture does not depend on the
// order its requests came in.
func TestTargetsOrderWithinWindow(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	type add struct{ account, target string }
	var feed []add
	for a := range 15 {
		for tg := range 10 {
			feed = append(feed, add{fmt.Sprintf("ring%d", a), fmt.Sprintf("pool%d", (a+tg)%25)})
		}
	}
	var want Ring
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 7))
		r.Shuffle(len(feed), func(i, j int) { feed[i], feed[j] = feed[j], feed[i] })
		tr := NewTargets(7*24*time.Hour, 10_000)
		for i, a := range feed {
			tr.Observe(a.account, start.Add(time.Duration(i)*time.Minute), a.target)
		}
		got := tr.Ring("ring3")
		if seed == 0 {
			want = got
			continue
		}
		if got != want {
			t.Errorf("seed %d: ring got %+v, want %+v as in the first order", seed, got, want)
		}
	}
}

// TestSharedTargetsThroughAccounts: only young accounts' stranger requests
// feed the index; an old account or a QR code leaves no trace.
func TestSharedTargetsThroughAccounts(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	add := func(account string, age time.Duration, target string, source moderation.Source, at time.Time) *Account {
		return w.observe(&moderation.Event{Kind: moderation.KindFriendAdd, Account: account, At: at,
			AccountInfo: &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: start.Add(-age)},
			FriendAdd:   &moderation.FriendAdd{Target: target, Source: source}})
	}
	day := 24 * time.Hour
	// The old account has been active here for 100 days: its standing is
	// on record.
	for _, d := range []time.Duration{100, 50, 10} {
		add("old", 400*day-d*day, fmt.Sprint("friend", d), moderation.SourceContact, start.Add(-d*day))
	}
	for d := range 5 {
		for a := range 8 {
			for tg := range 4 {
				add(fmt.Sprintf("young%d", a), 3*day, fmt.Sprintf("pool%d", (d*4+tg)%30), moderation.SourceSearch, start.Add(time.Duration(d)*day+time.Duration(a*4+tg)*time.Minute))
			}
		}
	}
	for tg := range 20 {
		add("old", 400*day, fmt.Sprintf("pool%d", tg), moderation.SourceGroup, start.Add(5*day))
		add("fair", 3*day, fmt.Sprintf("pool%d", tg), moderation.SourceQR, start.Add(5*day))
	}
	// A fast adder's ring is read at most every ten minutes of event time;
	// an answer an hour later reads it again.
	last := w.observe(&moderation.Event{Kind: moderation.KindFriendResponse, Account: "young7", At: start.Add(5*day + time.Hour),
		FriendResponse: &moderation.FriendResponse{Target: "pool0", Response: "ignored"}})
	for name, want := range map[string]float64{"ring_accounts": 8, "overlap": 1, "shared": 20} {
		if got, _ := last.Value("shared_targets."+name, w.env); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	s := last.Signals(w.env)["shared_targets"]
	if want := "7 young accounts asked at least 2 of the same people"; !strings.Contains(s.Evidence, want) {
		t.Errorf("evidence %q: want it to contain %q", s.Evidence, want)
	}
	for _, a := range []string{"old", "fair"} {
		if w.accounts[a].Ring != nil {
			t.Errorf("%s: got a ring, want none", a)
		}
	}
}

// BenchmarkTargetsMemory fills the service's index (1,000,000 requests)
// with young accounts adding 50 strangers each from pools of 500.
func BenchmarkTargetsMemory(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const entries = 1_000_000
	for b.Loop() {
		benchHeap(b, func() *Targets {
			tr := NewTargets(7*24*time.Hour, entries)
			for i := range entries {
				acct := i / 50
				tr.Observe(fmt.Sprintf("acct%06d", acct), start.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprintf("t%07d", (acct/10)*500+i%500))
			}
			return tr
		})
	}
}

// TestTargetsSampleLargeAccounts: past ringSample targets the ring is read
// from a sample, and still shows a pool shared by the whole ring.
func TestTargetsSampleLargeAccounts(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tr := NewTargets(7*24*time.Hour, 1_000_000)
	for a := range 20 {
		for tg := range 600 {
			tr.add(fmt.Sprintf("ring%d", a), start.Add(time.Duration(a*600+tg)*time.Second), fmt.Sprintf("pool%d", tg))
		}
	}
	for i := range 400 {
		tr.add("ring0", start.Add(time.Duration(20*600+i)*time.Second), fmt.Sprintf("own%d", i))
	}
	got := tr.Ring("ring0")
	if got.Accounts != 20 || got.Targets != 1000 {
		t.Errorf("ring: got %+v, want 20 accounts and 1000 targets", got)
	}
	if got.Shared < 450 || got.Shared > 750 {
		t.Errorf("shared: got %d, want about 600", got.Shared)
	}
}

// TestRingReadAtABoundedRate: a fast adder's ring is read on its first
// requests, then every eighth of its targets or ten minutes.
func TestRingReadAtABoundedRate(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tr := NewTargets(7*24*time.Hour, 100_000)
	var r *Ring
	reads, last := 0, int64(-1)
	for i := range 400 {
		r = tr.Update(r, "fast", start.Add(time.Duration(i)*time.Second), fmt.Sprintf("t%d", i))
		if r.at != last { // every request has a second of its own: a reading moves at
			reads, last = reads+1, r.at
		}
	}
	if reads > 60 {
		t.Errorf("readings for 400 requests in 400 seconds: got %d, want at most 60", reads)
	}
	if r.Targets < 350 {
		t.Errorf("targets at the last reading: got %d, want at least 350", r.Targets)
	}
}

// BenchmarkTargetsObserveRing: one full reading of a ring of 200 young
// accounts sharing a pool of 1,000 targets, 300 each (Update reads it at a
// bounded rate).
func BenchmarkTargetsObserveRing(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tr := NewTargets(7*24*time.Hour, 1_000_000)
	for a := range 200 {
		for tg := range 300 {
			tr.Observe(fmt.Sprintf("ring%d", a), start, fmt.Sprintf("pool%d", (a*7+tg)%1000))
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Observe(fmt.Sprintf("ring%d", i%200), start.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("pool%d", i%1000))
	}
}
