package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"moderation/internal/moderation"
)

func TestDestinationsCountsDistinctAccounts(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hour := time.Hour
	type obs struct {
		account string
		at      time.Duration
		dests   []string
	}
	tests := []struct {
		name  string
		feed  []obs
		query string
		want  int
	}{
		{"one account many times", []obs{{"a", 0, []string{"wechat:x"}}, {"a", hour, []string{"wechat:x"}}, {"a", 2 * hour, []string{"wechat:x", "wechat:x"}}}, "wechat:x", 1},
		{"three accounts", []obs{{"a", 0, []string{"wechat:x"}}, {"b", hour, []string{"phone:1", "wechat:x"}}, {"c", 2 * hour, []string{"wechat:x"}}}, "wechat:x", 3},
		{"just inside 72 hours", []obs{{"a", 0, []string{"wechat:x"}}, {"b", 72*hour - time.Second, []string{"wechat:x"}}}, "wechat:x", 2},
		{"72 hours old is gone", []obs{{"a", 0, []string{"wechat:x"}}, {"b", 72 * hour, []string{"wechat:x"}}}, "wechat:x", 1},
		{"an account's newer mention keeps it", []obs{{"a", 0, []string{"wechat:x"}}, {"a", 60 * hour, []string{"wechat:x"}}, {"b", 80 * hour, []string{"wechat:x"}}}, "wechat:x", 2},
		{"other destinations do not count", []obs{{"a", 0, []string{"wechat:y"}}, {"b", 0, []string{"qq:x"}}}, "wechat:x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDestinations(72*time.Hour, 1000)
			for _, o := range tt.feed {
				d.Observe(o.account, start.Add(o.at), o.dests)
			}
			if got := d.Accounts(tt.query); got != tt.want {
				t.Errorf("accounts: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDestinationsMatchIsTheMostShared(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := NewDestinations(72*time.Hour, 1000)
	for i := range 5 {
		d.Observe(fmt.Sprintf("ring%d", i), start, []string{"wechat:shared"})
	}
	m := d.Observe("new", start.Add(time.Minute), []string{"domain:mine.example", "wechat:shared"})
	if want := (DestinationMatch{Destination: "wechat:shared", Accounts: 6}); m != want {
		t.Errorf("match: got %+v, want %+v", m, want)
	}
	if m := d.Observe("x", start, nil); m != (DestinationMatch{}) {
		t.Errorf("match with no destinations: got %+v, want none", m)
	}
}

// TestDestinationsBound: the ring never holds more than maxEntries, and
// destinations whose last mention left it are forgotten.
func TestDestinationsBound(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := NewDestinations(72*time.Hour, 100)
	for i := range 1000 {
		d.Observe(fmt.Sprintf("a%d", i), start.Add(time.Duration(i)*time.Second), []string{fmt.Sprintf("qq:%d", i), "wechat:common"})
	}
	if got := d.Len(); got != 100 {
		t.Errorf("entries: got %d, want 100", got)
	}
	if got := len(d.keys); got != 51 {
		t.Errorf("destinations held: got %d, want 51 (50 numbers and the common handle)", got)
	}
	if got := d.Accounts("wechat:common"); got != 50 {
		t.Errorf("accounts on the common handle: got %d, want 50", got)
	}
}

// TestDestinationsOrderWithinWindow: the count does not depend on the
// order the ring's accounts came in.
func TestDestinationsOrderWithinWindow(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	type obs struct {
		account string
		at      time.Time
	}
	var feed []obs
	for i := range 40 {
		feed = append(feed, obs{fmt.Sprintf("a%d", i%25), start.Add(time.Duration(i) * time.Hour)})
	}
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 1))
		r.Shuffle(len(feed), func(i, j int) { feed[i], feed[j] = feed[j], feed[i] })
		d := NewDestinations(72*time.Hour, 1000)
		for _, o := range feed {
			d.Observe(o.account, o.at, []string{"wechat:x"})
		}
		if got := d.Accounts("wechat:x"); got != 25 {
			t.Errorf("seed %d: accounts got %d, want 25", seed, got)
		}
	}
}

// TestDestinationCampaignThroughAccounts: paraphrases of one offer by
// different accounts, each writing the handle its own way, are one
// destination campaign; a generic site everyone links to is none.
func TestDestinationCampaignThroughAccounts(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	texts := []string{
		"今天最后一天特价，加微信 shop8899 领取优惠",
		"Add WeChat: SHOP8899 for the discount",
		"好物推荐，想要的朋友V❤: shop8899",
		"限时福利，薇信 shop8899，先到先得",
	}
	w := newComplaintWorld()
	var last *Account
	for i, text := range texts {
		last = w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: fmt.Sprintf("ring%d", i), At: start.Add(time.Duration(i) * time.Hour),
			Broadcast: &moderation.Broadcast{Text: text, Recipients: 100}})
	}
	if got, _ := last.Value("destination_campaign.accounts", w.env); got != float64(len(texts)) {
		t.Errorf("accounts: got %v, want %d", got, len(texts))
	}
	s := last.Signals(w.env)["destination_campaign"]
	if want := "sends buyers to WeChat id shop8899, which 3 other accounts also sent buyers to in 3 days"; !strings.Contains(s.Evidence, want) {
		t.Errorf("evidence %q: want it to contain %q", s.Evidence, want)
	}

	for i := range 5 {
		last = w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: fmt.Sprintf("news%d", i), At: start,
			Broadcast: &moderation.Broadcast{Text: "今日新闻摘要，详见 weibo.com/news", Recipients: 100}})
	}
	if got, _ := last.Value("destination_campaign.accounts", w.env); got != 0 {
		t.Errorf("accounts on a generic site: got %v, want 0", got)
	}
}

// BenchmarkDestinationsMemory fills the service's index (500,000 entries)
// with broadcasts naming a handle each, 20 accounts a handle.
func BenchmarkDestinationsMemory(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const entries = 500_000
	for b.Loop() {
		benchHeap(b, func() *Destinations {
			d := NewDestinations(72*time.Hour, entries)
			for i := range entries {
				d.Observe(fmt.Sprintf("acct%07d", i), start.Add(time.Duration(i)*100*time.Millisecond), []string{fmt.Sprintf("wechat:h%06d", i/20)})
			}
			return d
		})
	}
}

// benchHeap builds an index and reports the heap it holds once built, as
// measured ("MB") and as its Bytes estimates it ("MB-estimated"); it
// returns the measured bytes.
func benchHeap[T interface{ Bytes() int64 }](b *testing.B, build func() T) float64 {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc - before.HeapAlloc)
	b.ReportMetric(heap/(1<<20), "MB")
	b.ReportMetric(float64(x.Bytes())/(1<<20), "MB-estimated")
	runtime.KeepAlive(x)
	return heap
}

// TestCrossCountsReadAgain: a campaign's first sender and a ring's first
// member saw small counts; a reaction to the broadcast or an answer to a
// request reads them again, so the pipeline can judge the rise.
func TestCrossCountsReadAgain(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	for i := range 6 {
		w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: fmt.Sprintf("ring%d", i), At: start.Add(time.Duration(i) * time.Minute),
			Broadcast: &moderation.Broadcast{Text: "特价好物，加微信 deal5566 咨询", Recipients: 100}})
	}
	if got := w.value("ring0", "destination_campaign.accounts"); got != 1 {
		t.Fatalf("first sender before any reaction: got %v, want 1", got)
	}
	if !MovedBy(moderation.KindUnfollow, "destination_campaign.accounts") {
		t.Error("an unfollow does not move destination_campaign.accounts; want it to")
	}
	w.observe(&moderation.Event{Kind: moderation.KindUnfollow, Account: "ring0", At: start.Add(time.Hour), Unfollow: &moderation.Unfollow{Follower: "f"}})
	if got := w.value("ring0", "destination_campaign.accounts"); got != 6 {
		t.Errorf("first sender after an unfollow: got %v, want 6", got)
	}

	age := &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: start.Add(-48 * time.Hour)}
	for i := range 5 {
		for _, tg := range []string{"p1", "p2", "p3"} {
			w.observe(&moderation.Event{Kind: moderation.KindFriendAdd, Account: fmt.Sprintf("young%d", i), At: start.Add(time.Duration(i) * time.Minute), AccountInfo: age,
				FriendAdd: &moderation.FriendAdd{Target: tg, Source: moderation.SourceSearch}})
		}
	}
	if got := w.value("young0", "shared_targets.ring_accounts"); got != 1 {
		t.Fatalf("first member before any answer: got %v, want 1", got)
	}
	if !MovedBy(moderation.KindFriendResponse, "shared_targets.ring_accounts") {
		t.Error("an answer does not move shared_targets.ring_accounts; want it to")
	}
	w.observe(&moderation.Event{Kind: moderation.KindFriendResponse, Account: "young0", At: start.Add(time.Hour),
		FriendResponse: &moderation.FriendResponse{Target: "p1", Response: "ignored"}})
	if got := w.value("young0", "shared_targets.ring_accounts"); got != 5 {
		t.Errorf("first member after an answer: got %v, want 5", got)
	}
}

// TestDestinationAdScore: the campaign's ad score is the mean over the
// broadcasts that named the destination in the window, so one member
// writing its copy to read as news does not take itself out of the ring.
func TestDestinationAdScore(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := NewDestinations(72*time.Hour, 1000)
	d.ObserveScored("a", start, []string{"wechat:x"}, 0.9)
	d.ObserveScored("b", start.Add(time.Hour), []string{"wechat:x"}, 0.9)
	m := d.ObserveScored("quiet", start.Add(2*time.Hour), []string{"wechat:x"}, 0.3)
	if want := (DestinationMatch{Destination: "wechat:x", Accounts: 3, AdScore: 0.7}); m.Destination != want.Destination || m.Accounts != want.Accounts || math.Abs(m.AdScore-want.AdScore) > 1e-9 {
		t.Errorf("match: got %+v, want %+v", m, want)
	}
	// The first mention leaves the window.
	d.ObserveScored("other", start.Add(72*time.Hour), []string{"qq:1"}, 0)
	if got := d.Match("wechat:x"); got.Accounts != 2 || math.Abs(got.AdScore-0.6) > 1e-9 {
		t.Errorf("after the first mention left: got %+v, want 2 accounts, mean 0.6", got)
	}
}
