package pipeline

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"moderation/detectors"
	"moderation/internal/moderation"
)

// accountMix makes the first events of n accounts: mostly personal
// accounts adding a friend (half of them strangers found by search, so the
// week and month windows hold something), some official accounts
// broadcasting. Times are event time.
func accountMix(n int) []*moderation.Event {
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	evs := make([]*moderation.Event, 0, n)
	for i := 0; i < n; i++ {
		ev := &moderation.Event{ID: fmt.Sprint(i), Account: fmt.Sprintf("acct_%d", i), At: base.Add(time.Duration(i) * time.Millisecond)}
		switch i % 20 {
		case 0, 1, 2: // official accounts
			ev.Kind = moderation.KindBroadcast
			ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: base.AddDate(-1, 0, 0)}
			ev.Broadcast = &moderation.Broadcast{ID: "b", Text: "news", Recipients: 1000}
		default:
			ev.Kind = moderation.KindFriendAdd
			ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.AddDate(-1, 0, 0)}
			ev.FriendAdd = &moderation.FriendAdd{Target: "friend", Source: moderation.SourceContact}
			if i%2 == 0 {
				ev.FriendAdd.Source = moderation.SourceSearch
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestWindowCostIsHonest: the cost each window declares to the cache is
// not below what it really takes on the heap, so the cache's bound is a
// real bound on memory.
func TestWindowCostIsHonest(t *testing.T) {
	const n = 50_000
	evs := accountMix(n)
	cache := newWindowStore(1 << 30)
	p := &Pipeline{windows: cache, env: &detectors.Env{Location: time.UTC}}
	before := heapBytes()
	for i, ev := range evs {
		p.observe(ev, uint64(i+1))
	}
	grown := float64(heapBytes() - before)
	var declared float64
	for _, ev := range evs {
		w, ok := cache.Get(ev.Account)
		if !ok {
			t.Fatalf("window of %s evicted under a 1 GiB bound", ev.Account)
		}
		declared += float64(w.cost)
	}
	t.Logf("%d accounts: %.0f bytes each on the heap, %.0f declared", n, grown/n, declared/n)
	if declared < 0.8*grown {
		t.Errorf("declared cost %.0f bytes per account is below the %.0f the heap grew by", declared/n, grown/n)
	}
	runtime.KeepAlive(evs)
}

// BenchmarkMillionAccounts feeds a million accounts into windows bounded at
// the default --max-state-mb and reports the heap they take (the store's
// own bookkeeping and the account ids included) and how many were kept:
// all of them, or it fails.
// go test -run ^$ -bench MillionAccounts ./internal/pipeline
func BenchmarkMillionAccounts(b *testing.B) {
	const n = 1_000_000
	bound := Config{}.withDefaults().MaxStateBytes
	for range b.N {
		b.StopTimer()
		evs := accountMix(n)
		for _, ev := range evs { // ids as the decoder hands them over: the store keeps its own copy
			ev.Account = strings.Clone(ev.Account)
		}
		cache := newWindowStore(bound)
		p := &Pipeline{windows: cache, env: &detectors.Env{Location: time.UTC}}
		before := heapBytes()
		b.StartTimer()
		for i, ev := range evs {
			p.observe(ev, uint64(i+1))
		}
		b.StopTimer()
		heap := heapBytes() - before
		b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
		kept := 0
		for _, ev := range evs {
			if _, ok := cache.Get(ev.Account); ok {
				kept++
			}
		}
		b.ReportMetric(float64(kept), "accounts-kept")
		b.ReportMetric(float64(cache.Evicted()), "evicted")
		b.ReportMetric(float64(heap)/n, "bytes/account")
		if kept != n || heap > uint64(bound) {
			b.Errorf("kept %d of %d accounts in %.0f MB: want all of them within the %d MB bound", kept, n, float64(heap)/(1<<20), bound>>20)
		}
		runtime.KeepAlive(evs)
		b.StartTimer()
	}
}

// TestEvictionSparesTheActive: past the bound, the windows evicted are
// those of the accounts whose newest event is oldest, so a slow drip
// cannot shed its history by hiding among a flood of accounts. Ten
// accounts add a stranger every hour for ten days while 100,000 one-off
// accounts pass through a store with room for about 2,000: the drips keep
// every request in their windows. A drip would lose its window only if
// more accounts than the store holds acted between two of its requests.
func TestEvictionSparesTheActive(t *testing.T) {
	const (
		drips   = 10
		hours   = 240
		oneOffs = 100_000
	)
	cache := newWindowStore(2000 * 400)
	p := &Pipeline{windows: cache, env: &detectors.Env{Location: time.UTC}}
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	info := &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.AddDate(0, 0, -3)}
	seq := uint64(0)
	feed := func(account string, at time.Time, source moderation.Source) {
		seq++
		p.observe(&moderation.Event{ID: fmt.Sprint(seq), Kind: moderation.KindFriendAdd, Account: account, At: at, AccountInfo: info,
			FriendAdd: &moderation.FriendAdd{Target: fmt.Sprint("t", seq), Source: source}}, seq)
	}
	perHour := oneOffs / hours
	for h := range hours {
		hour := base.Add(time.Duration(h) * time.Hour)
		for d := range drips {
			feed(fmt.Sprint("drip_", d), hour.Add(time.Duration(d)*time.Second), moderation.SourceSearch)
		}
		for i := range perHour {
			feed(fmt.Sprint("once_", h*perHour+i), hour.Add(time.Duration(i)*time.Second), moderation.SourceContact)
		}
	}
	if got := cache.Evicted(); got < oneOffs/2 {
		t.Fatalf("evicted: got %d windows, want most of the %d one-off accounts' (is the bound in force?)", got, oneOffs)
	}
	for d := range drips {
		w, ok := cache.Get(fmt.Sprint("drip_", d))
		if !ok {
			t.Errorf("drip_%d: window evicted, want it kept", d)
			continue
		}
		if got, _ := w.det.Value("bulk_add.week_strangers", p.env); got < 6*24 {
			t.Errorf("drip_%d: week_strangers got %v, want at least %d", d, got, 6*24)
		}
		if got, _ := w.det.Value("bulk_add.month_strangers", p.env); got != hours {
			t.Errorf("drip_%d: month_strangers got %v, want %d", d, got, hours)
		}
	}
	t.Logf("%d windows held, %d evicted", cache.Len(), cache.Evicted())
}
