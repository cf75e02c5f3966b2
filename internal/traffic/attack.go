package traffic

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"moderation/internal/moderation"
	"moderation/internal/replay"
)

// AttackPrefix begins every account id of the attack mix, so it never
// shares an account with Synthetic's traffic on the same server: a bench
// runs both on one service, and the attack must not inherit the benign
// mix's windows or measures.
const AttackPrefix = "wave_"

// The attack mix's shares of events, per thousand, tuned with the
// embedded policy so that about one event in five crosses a level the
// policy watches and one in ten changes an account's enforcement (0.21
// and 0.10 over 100,000 events; TestRunMeasuresBothMixes in
// internal/bench holds them with the real service). Nearly all of both
// come from the broadcasters: one that writes its own ads is asked about
// at its first ad (the ad score crosses its levels), warned at its second
// broadcast and limited at its third; one that uses the shared templates
// joins a campaign and is limited or suspended at its first, so its quota
// crossings ask without deciding. Half do each. Bulk adders bring the
// wave's volume and cross a level every fifty requests or so. The
// complaints are not yet credible (they settle for two hours of event
// time, longer than a run), so they cost the detectors without deciding.
const (
	attackBroadcasts = 220 // over-quota ad broadcasts from subscription and service accounts
	attackComplaints = 60  // complaints about those ads
	attackUnfollows  = 30  // followers leaving the ad broadcasters
	attackBulkAdds   = 380 // new personal accounts adding strangers in bulk
	// The rest is benign: people adding those they know (210), answering
	// requests (80), and official accounts sending news within quota (20).
	attackKnownAdds = 210
	attackResponses = 80
)

// Accounts acting at once in the wave: broadcasters and adders take turns
// among this many, so each one's events are spread over the run the way a
// wave of accounts is, rather than one account after another.
const (
	waveBroadcasters = 64
	waveAdders       = 32
	waveRecentAds    = 256 // recent ad broadcasts complaints and unfollows are about
)

// Attack makes n events of a spam wave: many subscription and service
// accounts broadcasting ads past their quota (each sends enough to be
// warned and then limited; half of them word their ads from templates
// they share, as a campaign does), followers complaining about those ads and
// leaving, and many new personal accounts adding strangers found by search
// or in groups (a third stop before the limit, the rest go past it, a third
// of all past suspension), with benign traffic mixed in: established
// people adding those they know and answering requests, official accounts
// sending one news item each. Event time advances 10 ms per event from the
// same start as Synthetic; every account id begins with AttackPrefix. The
// same seed gives the same events.
func Attack(n int, seed uint64) ([]replay.Record, error) {
	w := &wave{
		r:          rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)),
		seed:       seed,
		base:       time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		personal:   max(n/50, 10),
		introduced: map[string]bool{},
	}
	recs := make([]replay.Record, 0, n)
	for i := 0; i < n; i++ {
		ev := w.next(i)
		rec, err := record(ev)
		if err != nil {
			return nil, fmt.Errorf("encode attack event %d: %w", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// wave is the attack mix's generator state.
type wave struct {
	r        *rand.Rand
	seed     uint64
	base     time.Time
	personal int // established people, as in Synthetic
	accounts int // wave accounts started so far, for their names

	broadcasters [waveBroadcasters]*broadcaster
	adders       [waveAdders]*adder
	ads          []sentAd // ring of recent ad broadcasts
	adsNext      int
	news         int // official accounts that sent their one news item
	introduced   map[string]bool
}

// broadcaster is a spamming official account with the broadcasts it has
// left to send: enough to pass its quota's limit level.
type broadcaster struct {
	account  string
	info     moderation.AccountInfo
	left     int
	offer    offer
	handle   handle
	disguise bool // hides its handle and links
	own      bool // writes its own ads rather than the templates a campaign shares
}

// adder is a new personal account with the strangers it has left to ask.
type adder struct {
	account string
	info    moderation.AccountInfo
	left    int
}

type sentAd struct{ account, broadcast string }

// next makes the i-th event.
func (w *wave) next(i int) *moderation.Event {
	at := w.base.Add(time.Duration(i) * 10 * time.Millisecond)
	ev := &moderation.Event{ID: fmt.Sprintf("attack-%d-%d", w.seed, i), At: at}
	var info moderation.AccountInfo
	x := w.r.IntN(1000)
	if x >= attackBroadcasts && x < attackBroadcasts+attackComplaints+attackUnfollows && len(w.ads) == 0 {
		x = 0 // nothing to complain about yet
	}
	switch {
	case x < attackBroadcasts:
		slot := w.r.IntN(waveBroadcasters)
		b := w.broadcasters[slot]
		if b == nil {
			b = w.newBroadcaster(at)
			w.broadcasters[slot] = b
		}
		if b.left--; b.left == 0 {
			w.broadcasters[slot] = nil
		}
		ev.Account, info, ev.Kind = b.account, b.info, moderation.KindBroadcast
		contactText := contact(w.r, b.handle, b.disguise)
		link := ""
		if w.r.IntN(2) == 0 {
			link = adLink(w.r, b.disguise)
		}
		text := adText(w.r, b.offer, contactText, link)
		if b.own {
			text = ownAdText(w.r, b.offer, contactText, link)
		}
		ev.Broadcast = &moderation.Broadcast{ID: fmt.Sprintf("wb%d", i), Text: text, Recipients: int64(2000 + w.r.IntN(50_000))}
		w.sent(sentAd{account: b.account, broadcast: ev.Broadcast.ID})
	case x < attackBroadcasts+attackComplaints:
		ad := w.ads[w.r.IntN(len(w.ads))]
		ev.Account, ev.Kind = ad.account, moderation.KindComplaint
		ev.Complaint = &moderation.Complaint{Reporter: fmt.Sprintf("wave_follower_%d", w.r.Uint64N(1<<40)), Reason: pick(w.r, adReasons), BroadcastID: ad.broadcast}
	case x < attackBroadcasts+attackComplaints+attackUnfollows:
		ad := w.ads[w.r.IntN(len(w.ads))]
		ev.Account, ev.Kind = ad.account, moderation.KindUnfollow
		ev.Unfollow = &moderation.Unfollow{Follower: fmt.Sprintf("wave_follower_%d", w.r.Uint64N(1<<40))}
	case x < attackBroadcasts+attackComplaints+attackUnfollows+attackBulkAdds:
		slot := w.r.IntN(waveAdders)
		a := w.adders[slot]
		if a == nil {
			a = w.newAdder(at)
			w.adders[slot] = a
		}
		if a.left--; a.left == 0 {
			w.adders[slot] = nil
		}
		ev.Account, info, ev.Kind = a.account, a.info, moderation.KindFriendAdd
		source := moderation.SourceSearch
		if w.r.IntN(3) == 0 {
			source = moderation.SourceGroup
		}
		ev.FriendAdd = &moderation.FriendAdd{Target: fmt.Sprintf("wave_stranger_%d", w.r.Uint64N(1<<40)), Message: pick(w.r, greetings), Source: source}
	case x < attackBroadcasts+attackComplaints+attackUnfollows+attackBulkAdds+attackKnownAdds:
		ev.Account, info = w.person()
		ev.Kind = moderation.KindFriendAdd
		source := []moderation.Source{moderation.SourceContact, moderation.SourceQR, moderation.SourceCard}[w.r.IntN(3)]
		ev.FriendAdd = &moderation.FriendAdd{Target: fmt.Sprintf("wave_user_%d", w.r.IntN(1_000_000)), Source: source}
	case x < attackBroadcasts+attackComplaints+attackUnfollows+attackBulkAdds+attackKnownAdds+attackResponses:
		ev.Account, info = w.person()
		ev.Kind = moderation.KindFriendResponse
		answer := "accepted"
		if w.r.IntN(10) == 0 {
			answer = "ignored"
		}
		ev.FriendResponse = &moderation.FriendResponse{Target: fmt.Sprintf("wave_user_%d", w.r.IntN(1_000_000)), Response: answer}
	default:
		ev.Account = fmt.Sprintf("%snews_%d", AttackPrefix, w.news)
		info = officialInfo(w.r, w.base)
		w.news++
		ev.Kind = moderation.KindBroadcast
		ev.Broadcast = &moderation.Broadcast{ID: fmt.Sprintf("wn%d", i), Text: broadcastText(w.r, w.news), Recipients: int64(1000 + w.r.IntN(100_000))}
	}
	if !w.introduced[ev.Account] {
		w.introduced[ev.Account] = true
		ev.AccountInfo = &info
	}
	return ev
}

// newBroadcaster starts a spamming official account. Most are unverified
// subscription accounts (quota 1 a day: warned at the 2nd broadcast,
// limited at the 3rd); some verified ones (2 a day: 3rd, 5th) and service
// accounts (4 a month: 5th, 7th). Each stops at its limit: broadcasts past
// it would only be refused by the platform.
func (w *wave) newBroadcaster(at time.Time) *broadcaster {
	w.accounts++
	b := &broadcaster{account: fmt.Sprintf("%sad_%d", AttackPrefix, w.accounts), offer: newOffer(w.r), handle: newHandle(w.r), disguise: w.r.IntN(3) == 0, own: w.r.IntN(2) == 0}
	created := at.AddDate(0, 0, -20-w.r.IntN(400))
	switch x := w.r.IntN(10); {
	case x < 6:
		b.info, b.left = moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: created}, 3
	case x < 8:
		b.info, b.left = moderation.AccountInfo{Type: moderation.AccountSubscription, Verified: true, CreatedAt: created}, 5
	default:
		b.info, b.left = moderation.AccountInfo{Type: moderation.AccountService, CreatedAt: created}, 7
	}
	return b
}

// newAdder starts a personal account a few hours to a few days old that
// will ask 45–320 strangers: a third stop under the limit level (100 an
// hour for new accounts), a third go past it, a third past suspension
// (250).
func (w *wave) newAdder(at time.Time) *adder {
	w.accounts++
	a := &adder{account: fmt.Sprintf("%snew_%d", AttackPrefix, w.accounts),
		info: moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: at.Add(-time.Duration(2+w.r.IntN(70)) * time.Hour)}}
	switch w.r.IntN(3) {
	case 0:
		a.left = 45 + w.r.IntN(55)
	case 1:
		a.left = 100 + w.r.IntN(150)
	default:
		a.left = 250 + w.r.IntN(70)
	}
	return a
}

// person is an established personal account of the benign part.
func (w *wave) person() (string, moderation.AccountInfo) {
	return fmt.Sprintf("%sperson_%d", AttackPrefix, w.r.IntN(w.personal)),
		moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: w.base.AddDate(0, 0, -30-w.r.IntN(2000))}
}

// sent remembers an ad broadcast for the complaints and unfollows to come.
func (w *wave) sent(ad sentAd) {
	if len(w.ads) < waveRecentAds {
		w.ads = append(w.ads, ad)
		return
	}
	w.ads[w.adsNext] = ad
	w.adsNext = (w.adsNext + 1) % waveRecentAds
}

// salesPhrases are what a spammer strings together when it writes its own
// ad rather than a shared template.
var salesPhrases = []string{"正品保证", "假一赔十", "全国包邮", "七天无理由退换", "厂家直销", "限时秒杀", "买一送一", "会员专享", "最后三天",
	"库存不多", "好评如潮", "支持验货", "货到付款", "明星同款", "品质保障", "不满意全额退款", "新客立减", "满两百减五十", "今晚八点开抢",
	"扫码进群领红包", "老客户回馈", "独家渠道", "海外直邮", "一件代发", "招代理", "欢迎咨询", "量大从优", "赠运费险", "特价清仓", "爆款返场"}

// ownAdText is an ad in a spammer's own words: a few sales phrases in some
// order around the offer, so that two accounts' texts are seldom near
// duplicates and its quota, not a campaign, catches the account.
func ownAdText(r *rand.Rand, o offer, contactText, link string) string {
	var b strings.Builder
	for _, k := range r.Perm(len(salesPhrases))[:4+r.IntN(3)] {
		b.WriteString(salesPhrases[k])
		b.WriteString(pick(r, []string{"，", "！", " ", "～"}))
	}
	return strings.TrimSpace(fmt.Sprintf("%s%s只要%d元 %s %s", b.String(), o.product, o.now, contactText, link))
}
