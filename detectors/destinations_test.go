package detectors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"moderation/detectors/adtext"
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

// TestDestinationSenders: a destination's count rising names it in
// Risen, once per account new to it; Senders lists who named it, sorted;
// and a sender whose latest broadcast named it, beside a decoy handle of
// its own that it kept as its most shared then, is judged with the grown
// count through WithDestination, without its own state changing.
func TestDestinationSenders(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	w.env.Ads = adtext.Default() // the ad and the news item score apart
	send := func(account, text string, at time.Duration) {
		w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: account, At: start.Add(at),
			Broadcast: &moderation.Broadcast{Text: text, Recipients: 100}})
	}
	send("early", "特价好物，加微信 mine9911 咨询，或加微信 deal5566", 0) // its own handle first: kept as the most shared at one account each
	if got, want := w.env.Destinations.TakeRisen(), []Risen{{"wechat:mine9911", 1}, {"wechat:deal5566", 1}}; !slices.Equal(got, want) {
		t.Fatalf("risen by the first broadcast: got %v, want %v", got, want)
	}
	if got := w.env.Destinations.TakeRisen(); len(got) != 0 {
		t.Errorf("risen taken twice: got %v, want none the second time", got)
	}
	early := w.accounts["early"]
	if got := early.Text.Destination.Destination; got != "wechat:mine9911" {
		t.Fatalf("early's kept destination: got %q, want its own handle", got)
	}
	for i, a := range []string{"c", "b", "a"} {
		send(a, "好物特价，微信 deal5566", time.Duration(i+1)*time.Minute)
	}
	send("a", "好物特价，微信 deal5566 再来", 10*time.Minute) // a again: no rise
	if got := w.env.Destinations.TakeRisen(); len(got) != 0 {
		t.Errorf("risen by an account naming it again: got %v, want none", got)
	}
	if got, want := w.env.Destinations.Senders("wechat:deal5566"), []string{"a", "b", "c", "early"}; !slices.Equal(got, want) {
		t.Errorf("senders: got %v, want %v", got, want)
	}
	if got := w.env.Destinations.Senders("wechat:nobody"); got != nil {
		t.Errorf("senders of a destination no one named: got %v, want none", got)
	}
	c, ok := early.WithDestination("early", "wechat:deal5566", w.env)
	if !ok {
		t.Fatal("early read with the grown destination: not ok, want its copy")
	}
	if got, _ := c.Value("destination_campaign.accounts", w.env); got != 4 {
		t.Errorf("early's copy: destination_campaign.accounts got %v, want 4", got)
	}
	if got := w.value("early", "destination_campaign.accounts"); got != 1 {
		t.Errorf("early itself: destination_campaign.accounts got %v, want 1 (unchanged)", got)
	}
	if _, ok := early.WithDestination("early", "wechat:other", w.env); ok {
		t.Error("early read with a destination its broadcast did not name: ok, want not")
	}
	if _, ok := w.accounts["c"].WithDestination("c", "wechat:mine9911", w.env); ok {
		t.Error("c read with early's own handle: ok, want not")
	}
	adScore := early.Text.LastAdScore
	send("early", "今日要闻：市政府发布新的公交线路调整通知，详情见官网。", time.Hour) // its latest broadcast names nothing now
	if early.Text.LastAdScore >= adScore {
		t.Fatalf("the news item scores %v as an ad, the ad %v: want it lower", early.Text.LastAdScore, adScore)
	}
	c, ok = early.WithDestination("early", "wechat:deal5566", w.env)
	if !ok {
		t.Fatal("early after an ordinary broadcast, read with the handle its ad named: not ok, want its copy")
	}
	if got, _ := c.Value("destination_campaign.ad_score", w.env); got != adScore {
		t.Errorf("early's copy: destination_campaign.ad_score got %v, want its ad's %v", got, adScore)
	}
	if got := c.Signals(w.env)["destination_campaign"].Evidence; !strings.HasPrefix(got, "a broadcast of the last 3 days sends buyers to WeChat id deal5566, which 3 other accounts") {
		t.Errorf("early's copy: evidence %q, want it to say an earlier broadcast named the handle", got)
	}
	if got := w.value("early", "destination_campaign.ad_score"); got != early.Text.LastAdScore {
		t.Errorf("early itself: destination_campaign.ad_score got %v, want its latest broadcast's %v", got, early.Text.LastAdScore)
	}
	// Once the ad leaves the window, the handle is no longer early's.
	send("later", "好物特价，微信 deal5566", 72*time.Hour)
	if _, ok := early.WithDestination("early", "wechat:deal5566", w.env); ok {
		t.Error("early, its ad naming the handle 72 hours old: ok, want not")
	}
}

// TestDestinationOwnAdScore: an account's own ad score for a destination
// is the highest among its broadcasts naming it that are still in the
// window, whatever it broadcast since; it falls as the best leave.
func TestDestinationOwnAdScore(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d := NewDestinations(72*time.Hour, 1000)
	feed := []struct {
		at    time.Duration
		score float64
	}{{0, 0.5}, {time.Hour, 0.9}, {2 * time.Hour, 0.2}, {30 * time.Hour, 0.6}, {40 * time.Hour, 0.1}}
	for _, f := range feed {
		d.ObserveScored("a", start.Add(f.at), []string{"wechat:x"}, f.score)
		d.ObserveScored("b", start.Add(f.at), []string{"wechat:x"}, 0.3)
	}
	tick := func(at time.Duration) { d.ObserveScored("other", start.Add(at), []string{"qq:1"}, 0) }
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{41 * time.Hour, 0.9}, {72*time.Hour + 30*time.Minute, 0.9}, {73 * time.Hour, 0.6}, {101 * time.Hour, 0.6}, {102 * time.Hour, 0.1}} {
		tick(c.at)
		m, named := d.Match("a", "wechat:x")
		if !named || m.OwnAdScore != c.want {
			t.Errorf("at %v: a's own score %v (named %v), want %v", c.at, m.OwnAdScore, named, c.want)
		}
	}
	tick(112 * time.Hour)
	if m, named := d.Match("a", "wechat:x"); named || m.OwnAdScore != 0 {
		t.Errorf("after every mention left: a's own score %v (named %v), want 0, not named", m.OwnAdScore, named)
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
	if got, _ := d.Match("quiet", "wechat:x"); got.Accounts != 2 || math.Abs(got.AdScore-0.6) > 1e-9 {
		t.Errorf("after the first mention left: got %+v, want 2 accounts, mean 0.6", got)
	}
}
