package detectors

import (
	"math"
	"testing"
	"time"

	"moderation/internal/moderation"
)

// FuzzWindows feeds an account one event at an arbitrary time t1 and then
// a burst at an arbitrary time t2, of every kind, and asks for every
// metric and signal. Nothing may panic, no count may exceed the events fed,
// and when the burst is the newest thing the account has seen, its
// windows count all of it. The seeds are the times an attacker used
// against the service: 1969, 9999, 2100 and the ends of int64.
func FuzzWindows(f *testing.F) {
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Unix() }
	now := day(2026, 3, 1)
	for _, seed := range []struct {
		t1, t2 int64
	}{
		{day(1969, 12, 31), now},
		{now, day(1969, 12, 31)},
		{day(1969, 12, 31), day(1969, 12, 31)},
		{day(9999, 12, 31), now},
		{now, day(9999, 12, 31)},
		{day(2100, 1, 1), now},
		{now, day(2100, 1, 1)},
		{math.MinInt64, math.MaxInt64},
		{math.MaxInt64, math.MinInt64},
		{math.MaxInt64, math.MaxInt64},
		{math.MinInt64, math.MinInt64},
		{math.MaxInt32 * 10, math.MaxInt32*10 + 1},
		{-1, 0},
		{0, -1},
		{now, now + 3599},
		{now - 61*86400, now}, // a dormant account wakes
		{now - 59*86400, now}, // just short of dormancy
	} {
		for kinds := range uint8(5) {
			f.Add(seed.t1, seed.t2, kinds, uint8(7))
		}
	}
	kinds := []moderation.Kind{moderation.KindFriendAdd, moderation.KindBroadcast, moderation.KindComplaint, moderation.KindUnfollow, moderation.KindFriendResponse}
	f.Fuzz(func(t *testing.T, t1, t2 int64, kind uint8, n uint8) {
		env := &Env{Location: time.UTC, Campaigns: NewCampaigns(24*time.Hour, 64)}
		if kind&0x80 != 0 {
			env.Location = time.FixedZone("UTC+8", 8*3600)
		}
		first := kinds[int(kind)%len(kinds)]
		burst := kinds[int(kind>>3)%len(kinds)]
		k := int(n%20) + 1

		a := NewAccount()
		a.Observe(fuzzEvent(first, t1, 0), env)
		for i := range k {
			a.Observe(fuzzEvent(burst, t2, i+1), env)
		}
		_ = a.Signals(env)
		_ = a.AgeDays()
		values := map[string]float64{}
		for _, m := range Metrics() {
			v, ok := a.Value(m, env)
			if !ok {
				t.Fatalf("Value(%q): got ok false, want a value", m)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("Value(%q) after events at %d and %d×%d: got %v, want a finite count ≥ 0", m, t1, k, t2, v)
			}
			values[m] = v
		}
		fed := float64(k + 1)
		for _, m := range []string{"bulk_add.minute", "bulk_add.hour", "bulk_add.day", "bulk_add.week_strangers", "bulk_add.month_strangers", "bulk_add.responses", "broadcast_quota.day", "broadcast_quota.month", "complaint_rate.complaints", "complaint_rate.unfollows"} {
			if values[m] > fed {
				t.Errorf("%s after %d events: got %v, want at most %v", m, k+1, values[m], fed)
			}
		}

		// The burst is the newest event time: every window ending there
		// holds all of it.
		if t2 < t1 {
			return
		}

		// A burst after a silence of 60 days or more is a waking: the
		// silence is reported and the account is judged as new.
		switch gap := uint64(t2) - uint64(t1); {
		case gap >= 60*86400 && realYear(t1) && realYear(t2):
			if d := values["bulk_add.dormant_days"]; d < 59.9 {
				t.Errorf("dormant_days after a silence from %d to %d: got %v, want at least 60", t1, t2, d)
			}
			if age := a.AgeDays(); age >= 1 {
				t.Errorf("age after waking at %d from a silence since %d: got %v days, want less than 1", t2, t1, age)
			}
		case gap < 60*86400:
			if d := values["bulk_add.dormant_days"]; d != 0 {
				t.Errorf("dormant_days with events at %d and %d: got %v, want 0", t1, t2, d)
			}
		}
		want := float64(k)
		var counted []string
		switch burst {
		case moderation.KindFriendAdd:
			counted = []string{"bulk_add.minute", "bulk_add.hour", "bulk_add.day", "bulk_add.hour_strangers", "bulk_add.day_strangers", "bulk_add.week_strangers", "bulk_add.month_strangers"}
		case moderation.KindFriendResponse:
			counted = []string{"bulk_add.responses"}
		case moderation.KindComplaint:
			counted = []string{"complaint_rate.complaints"}
		case moderation.KindUnfollow:
			counted = []string{"complaint_rate.unfollows"}
		case moderation.KindBroadcast:
			counted = []string{"ad_content.broadcasts"}
			if realYear(t1) && realYear(t2) { // calendar keys are only ordered for real years
				counted = append(counted, "broadcast_quota.day", "broadcast_quota.month")
			}
		}
		for _, m := range counted {
			if values[m] < want {
				t.Errorf("%s after %d events at %d (first event at %d, %s): got %v, want at least %v", m, k, t2, t1, first, values[m], want)
			}
		}
	})
}

// realYear reports whether unix time t falls in years 1 to 9999, what
// RFC 3339 and protobuf timestamps can carry.
func realYear(t int64) bool {
	const year1, year10000 = -62135596800, 253402300800
	return t >= year1 && t < year10000
}

func fuzzEvent(k moderation.Kind, at int64, i int) *moderation.Event {
	ev := &moderation.Event{ID: "e", Kind: k, Account: "acct", At: time.Unix(at, 0).UTC()}
	switch k {
	case moderation.KindFriendAdd:
		ev.FriendAdd = &moderation.FriendAdd{Target: "t" + string(rune('a'+i%26)), Source: moderation.SourceSearch}
		ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: time.Unix(-at, 0)}
	case moderation.KindBroadcast:
		ev.Broadcast = &moderation.Broadcast{ID: "b", Text: "cheap watches, call 555 0100 now, visit example.com", Recipients: math.MaxInt64}
	case moderation.KindComplaint:
		ev.Complaint = &moderation.Complaint{Reporter: "r", Reason: "spam"}
	case moderation.KindUnfollow:
		ev.Unfollow = &moderation.Unfollow{Follower: "f"}
	case moderation.KindFriendResponse:
		ev.FriendResponse = &moderation.FriendResponse{Target: "t", Response: "reported"}
	}
	return ev
}
