package traffic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/replay"
)

// Class is a kind of behaviour in a labelled mix: an evasion the service
// must action, or a look-alike it must leave alone.
type Class string

// The evasions of issue 11, each abusive: every account must end at limit
// or stronger.
const (
	DisguisedAds Class = "disguised-ads" // ads with full-width, zero-width, spaced, keycap, circled or Chinese digits, contact-word variants, disguised links
	HandleRing   Class = "handle-ring"   // 10–40 accounts paraphrasing one offer, all sending buyers to the same 2–3 handles
	SlowDrip     Class = "slow-drip"     // a new account adding 20–60 strangers a day for weeks
	HarvestRing  Class = "harvest-ring"  // 20–50 new accounts, each under the levels, adding from one pool of targets
	DormantWake  Class = "dormant-wake"  // an old account, silent for months, adding hundreds of strangers in 2–3 hours
)

// The look-alikes, each legitimate: no account may be limited or worse.
const (
	BrigadedNews Class = "brigaded-news" // small accounts a few dozen reporters complain about together, in the same hour
	TradeFair    Class = "trade-fair"    // old accounts adding hundreds of visitors by QR code and card in an afternoon
	PriceReports Class = "price-reports" // daily price lists full of prices, hotlines and links, branches sharing them
	CouponBrand  Class = "coupon-brand"  // verified brands sending coupon codes twice a day to followers who stay
	GroupAdmins  Class = "group-admins"  // old accounts adding their groups' members, co-admins from the same members
	// Ordinary users add someone they know every few days over months: the
	// rest of the platform, and the history that shows the service was
	// watching while a dormant account slept.
	Ordinary Class = "ordinary-users"
)

// Classes lists every class, evasions first.
var Classes = []Class{DisguisedAds, HandleRing, SlowDrip, HarvestRing, DormantWake, BrigadedNews, TradeFair, PriceReports, CouponBrand, GroupAdmins, Ordinary}

// Abusive reports whether accounts of the class must be limited.
func (c Class) Abusive() bool {
	switch c {
	case DisguisedAds, HandleRing, SlowDrip, HarvestRing, DormantWake:
		return true
	}
	return false
}

// Label is the truth about one account in a mix.
type Label struct {
	Class   Class `json:"class"`
	Abusive bool  `json:"abusive"`
	// Restricts is the capability a limit must take away from an abusive
	// account: "broadcast" or "friend_add".
	Restricts string `json:"restricts,omitempty"`
}

// Mix is generated traffic with the truth about every account in it.
type Mix struct {
	Seed   uint64              `json:"seed"`
	Events []*moderation.Event `json:"-"`
	Labels map[string]Label    `json:"accounts"`
}

const week = 7 * 24 * time.Hour

// End is the event time the mix's activity leads up to; replay.Options{Now}
// moves it to the present.
var End = time.Date(2026, 3, 30, 20, 0, 0, 0, time.UTC)

// Labelled generates a labelled mix: instances[c] instances of each class
// (an instance is one account for the single-account classes, one ring,
// brigade, fair, organisation or group for the others). The same seed and
// instances give the same events; other seeds give other wording, handles,
// sizes, timings and counts.
func Labelled(seed uint64, instances map[Class]int) *Mix {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908)), seed: seed, labels: map[string]Label{}, introduced: map[string]bool{}, ids: map[string]bool{}}
	for _, c := range Classes {
		for i := 0; i < instances[c]; i++ {
			builders[c](g)
		}
	}
	slices.SortStableFunc(g.events, func(a, b *moderation.Event) int { return a.At.Compare(b.At) })
	// AccountInfo travels on each account's first event in time.
	for _, ev := range g.events {
		if info, ok := g.infos[ev.Account]; ok && !g.introduced[ev.Account] {
			g.introduced[ev.Account] = true
			ev.AccountInfo = &info
		}
	}
	return &Mix{Seed: seed, Events: g.events, Labels: g.labels}
}

// Records encodes the mix for publishing, moved in time so its latest
// event falls just before now (as replay.Options{Now} moves fixtures).
func (m *Mix) Records(now time.Time) ([]replay.Record, error) {
	var shift time.Duration
	if n := len(m.Events); n > 0 && !now.IsZero() {
		shift = (now.Sub(m.Events[n-1].At) - time.Second).Truncate(time.Second)
	}
	recs := make([]replay.Record, 0, len(m.Events))
	for _, ev := range m.Events {
		moved := *ev
		moved.At = ev.At.Add(shift)
		if ev.AccountInfo != nil {
			info := *ev.AccountInfo
			info.CreatedAt = info.CreatedAt.Add(shift)
			moved.AccountInfo = &info
		}
		rec, err := record(&moved)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ev.ID, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// Since is the mix as a platform publishes it to a service that starts
// watching at t: the events before t left out, each account's first event
// from then on carrying its account_info, and the labels of accounts with
// no event left dropped. Nothing before t tells a silent account from an
// active one, so it shows how the service judges accounts whose past has
// no record.
func (m *Mix) Since(t time.Time) *Mix {
	infos := map[string]*moderation.AccountInfo{}
	for _, ev := range m.Events {
		if ev.AccountInfo != nil {
			infos[ev.Account] = ev.AccountInfo
		}
	}
	out := &Mix{Seed: m.Seed, Labels: map[string]Label{}}
	seen := map[string]bool{}
	for _, ev := range m.Events {
		if ev.At.Before(t) {
			continue
		}
		moved := *ev
		moved.AccountInfo = nil
		if !seen[ev.Account] {
			seen[ev.Account] = true
			moved.AccountInfo = infos[ev.Account]
			if l, ok := m.Labels[ev.Account]; ok {
				out.Labels[ev.Account] = l
			}
		}
		out.Events = append(out.Events, &moved)
	}
	return out
}

// Accounts lists the labelled accounts of one class, sorted.
func (m *Mix) Accounts(c Class) []string {
	var out []string
	for a, l := range m.Labels {
		if l.Class == c {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

type gen struct {
	r          *rand.Rand
	seed       uint64
	n          int
	events     []*moderation.Event
	labels     map[string]Label
	infos      map[string]moderation.AccountInfo
	introduced map[string]bool
	ids        map[string]bool
}

var builders = map[Class]func(*gen){
	DisguisedAds: (*gen).disguisedAds, HandleRing: (*gen).handleRing, SlowDrip: (*gen).slowDrip,
	HarvestRing: (*gen).harvestRing, DormantWake: (*gen).dormantWake, BrigadedNews: (*gen).brigadedNews,
	TradeFair: (*gen).tradeFair, PriceReports: (*gen).priceReports, CouponBrand: (*gen).couponBrand, GroupAdmins: (*gen).groupAdmins,
	Ordinary: (*gen).ordinary,
}

// account names a new account; prefixes say nothing of the class, so
// nothing downstream can learn the label from a name.
func (g *gen) account(c Class, restricts string, info moderation.AccountInfo) string {
	for {
		id := fmt.Sprintf("%s_%06x", pick(g.r, []string{"acct", "user", "oa", "wx", "u", "shop", "biz"}), g.r.Uint32()&0xffffff)
		if !g.ids[id] {
			g.ids[id] = true
			if g.infos == nil {
				g.infos = map[string]moderation.AccountInfo{}
			}
			g.infos[id] = info
			g.labels[id] = Label{Class: c, Abusive: c.Abusive(), Restricts: restricts}
			return id
		}
	}
}

// person is a unique id for someone the mix's accounts add or hear from.
func (g *gen) person(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, g.r.Uint64N(1<<40))
}

// domain is an organisation's own site: a registrable domain of its own,
// as real organisations have (subdomains of one shared domain would look
// like one destination).
func (g *gen) domain(words []string) string {
	return fmt.Sprintf("%s%d.%s", pick(g.r, words), g.r.IntN(10000), pick(g.r, []string{"cn", "com", "com.cn", "net"}))
}

func (g *gen) emit(account string, at time.Time, ev moderation.Event) *moderation.Event {
	g.n++
	ev.ID = fmt.Sprintf("mix%d-%d", g.seed, g.n)
	ev.Account, ev.At = account, at.Truncate(time.Second)
	g.events = append(g.events, &ev)
	return &ev
}

func (g *gen) broadcast(account string, at time.Time, text string, recipients int64) string {
	id := fmt.Sprintf("b%d-%d", g.seed, g.n+1)
	g.emit(account, at, moderation.Event{Kind: moderation.KindBroadcast, Broadcast: &moderation.Broadcast{ID: id, Text: text, Recipients: recipients}})
	return id
}

func (g *gen) friendAdd(account string, at time.Time, target string, src moderation.Source, msg string) {
	g.emit(account, at, moderation.Event{Kind: moderation.KindFriendAdd, FriendAdd: &moderation.FriendAdd{Target: target, Source: src, Message: msg}})
}

// respond has target answer the account's request some time after at:
// accepted with probability accept, reported with probability report.
func (g *gen) respond(account string, at time.Time, target string, accept, report float64) {
	answer := "ignored"
	switch x := g.r.Float64(); {
	case x < accept:
		answer = "accepted"
	case x < accept+report:
		answer = "reported"
	}
	g.emit(account, at.Add(time.Minute+g.dur(20*time.Hour)), moderation.Event{Kind: moderation.KindFriendResponse, FriendResponse: &moderation.FriendResponse{Target: target, Response: answer}})
}

// reactions are the complaints and unfollows one broadcast draws, as
// shares of its recipients, spread over the hours after it.
func (g *gen) reactions(account, broadcastID string, at time.Time, recipients int64, complaintRate, unfollowRate float64, reasons []string) {
	for i := g.count(float64(recipients) * complaintRate); i > 0; i-- {
		g.emit(account, at.Add(time.Minute+g.dur(8*time.Hour)), moderation.Event{Kind: moderation.KindComplaint,
			Complaint: &moderation.Complaint{Reporter: g.person("u"), Reason: pick(g.r, reasons), BroadcastID: broadcastID}})
	}
	for i := g.count(float64(recipients) * unfollowRate); i > 0; i-- {
		g.emit(account, at.Add(time.Minute+g.dur(12*time.Hour)), moderation.Event{Kind: moderation.KindUnfollow,
			Unfollow: &moderation.Unfollow{Follower: g.person("f")}})
	}
}

// count rounds a mean to a whole number at random, so small means still
// produce events now and then.
func (g *gen) count(mean float64) int {
	n := int(mean)
	if g.r.Float64() < mean-float64(n) {
		n++
	}
	return n
}

func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) dur(d time.Duration) time.Duration { return time.Duration(g.r.Int64N(int64(d))) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// daysAgo is End less n days and a random part of a day.
func (g *gen) daysAgo(n int) time.Time {
	return End.AddDate(0, 0, -n).Add(-g.dur(24 * time.Hour))
}

// daily is the time of the k-th of n daily broadcasts ending near End:
// each at least 24 h after the last, so no two share a calendar day in
// any time zone, wherever a replay moves them.
func daily(first time.Time, k int, drift time.Duration) time.Time {
	return first.Add(time.Duration(k) * (24*time.Hour + drift))
}

func (g *gen) firstOfDaily(n int) (time.Time, time.Duration) {
	drift := g.dur(10 * time.Minute)
	last := End.Add(-2*time.Hour - g.dur(10*time.Hour))
	return last.Add(-time.Duration(n-1) * (24*time.Hour + drift)), drift
}

var adReasons = []string{"ads", "ads", "ads", "spam", "spam", "fraud", "other"}
var everydayReasons = []string{"spam", "other", "ads", "harassment"}

// disguisedAds: an unverified subscription account broadcasts one ad a day
// (within its quota) for 5–9 days, each hiding its contact handle, digits
// or link a different way; followers complain, leave, or both. A quarter
// of them post something ordinary every fourth day, and a fifth before
// every ad (twice as many days), to keep the share of ads below a level
// read in the README.
func (g *gen) disguisedAds() {
	acct := g.account(DisguisedAds, "broadcast", moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: g.daysAgo(g.between(20, 400))})
	n := g.between(5, 9)
	first, drift := g.firstOfDaily(n)
	h := newHandle(g.r)
	recipients := int64(g.between(800, 6000))
	complaints, unfollows := 0.003+0.006*g.r.Float64(), 0.001*g.r.Float64()
	switch g.r.IntN(3) {
	case 0: // followers leave quietly
		complaints, unfollows = 0.0003*g.r.Float64(), 0.015+0.03*g.r.Float64()
	case 1: // both
		unfollows = 0.01 + 0.02*g.r.Float64()
	}
	// Some post an ordinary text now and then; some put one before every
	// ad, so that only half their broadcasts read as ads.
	interleave, dilute := g.chance(0.25), g.chance(0.2)
	if dilute {
		n, interleave = 2*n, false
	}
	for k := 0; k < n; k++ {
		if interleave && k%4 == 3 || dilute && k%2 == 0 {
			at := daily(first, k, drift)
			id := g.broadcast(acct, at, pick(g.r, smallTopics), recipients)
			g.reactions(acct, id, at, recipients, 0.0002*g.r.Float64(), 0.001*g.r.Float64(), everydayReasons)
			continue
		}
		o := newOffer(g.r)
		if g.chance(0.3) { // a second handle now and then
			h = newHandle(g.r)
		}
		link := ""
		if g.chance(0.5) {
			link = adLink(g.r, g.chance(0.7))
		}
		text := adText(g.r, o, contact(g.r, h, true), link)
		if g.chance(0.25) {
			text = spaceChinese(g.r, text)
		}
		at := daily(first, k, drift)
		rcpt := recipients + int64(g.r.IntN(200))
		id := g.broadcast(acct, at, text, rcpt)
		g.reactions(acct, id, at, rcpt, complaints, unfollows, adReasons)
	}
}

// handleRing: 10–40 accounts each broadcast their own wording of one offer
// once a day for 1–3 days, every one sending buyers to one of the same 2–3
// handles, some of them disguised; in some rings each broadcast also
// names a handle of the account's own. In half the rings the first
// members hide behind an ordinary post: one or two a handle send their ad
// once, a day or two before the rest gather (too few, alone, to be a
// campaign), and follow it with 1–3 ordinary posts a day apart, the first
// before the rest come, so their latest broadcast names no handle when
// the ring grows.
func (g *gen) handleRing() {
	size := g.between(10, 40)
	handles := make([]handle, g.between(2, 3))
	for i := range handles {
		handles[i] = newHandle(g.r)
	}
	o := newOffer(g.r)
	rounds := g.between(1, 3)
	decoy := g.chance(0.3)
	scouts := 0
	if g.chance(0.5) {
		scouts = len(handles) * g.between(1, 2)
	}
	start := End.Add(-time.Duration(rounds-1)*24*time.Hour - 8*time.Hour - g.dur(4*time.Hour))
	for i := 0; i < size; i++ {
		typ := moderation.AccountSubscription
		if g.chance(0.15) {
			typ = moderation.AccountPersonal
		}
		acct := g.account(HandleRing, "broadcast", moderation.AccountInfo{Type: typ, CreatedAt: g.daysAgo(g.between(5, 150))})
		offset := g.dur(6 * time.Hour)
		if i < scouts {
			g.hidingMember(acct, o, handles[i%len(handles)], decoy, start, rounds)
			continue
		}
		for k := 0; k < rounds; k++ {
			variant := o
			variant.now += g.r.IntN(10) - 5
			link := ""
			if g.chance(0.3) {
				link = adLink(g.r, g.chance(0.5))
			}
			c := contact(g.r, handles[g.r.IntN(len(handles))], g.chance(0.35))
			if decoy { // a handle of its own beside the ring's, to dilute a count keyed by handle
				c = contact(g.r, newHandle(g.r), false) + " " + c
			}
			text := adText(g.r, variant, c, link)
			at := start.Add(time.Duration(k)*(24*time.Hour+10*time.Minute) + offset)
			rcpt := int64(g.between(200, 3000))
			id := g.broadcast(acct, at, text, rcpt)
			g.reactions(acct, id, at, rcpt, 0.0005*g.r.Float64(), 0.002*g.r.Float64(), adReasons)
		}
	}
}

// hidingMember is a ring member that sends its ad to h 1–2 days before
// the ring's first round (start), within the window of those who come
// after, then 1–3 ordinary posts, one a day, the first before start, none
// after the ring's last round.
func (g *gen) hidingMember(acct string, o offer, h handle, decoy bool, start time.Time, rounds int) {
	day := 24*time.Hour + 10*time.Minute
	back := g.between(1, 2)
	c := contact(g.r, h, g.chance(0.35))
	if decoy {
		c = contact(g.r, newHandle(g.r), false) + " " + c
	}
	variant := o
	variant.now += g.r.IntN(10) - 5
	link := ""
	if g.chance(0.3) {
		link = adLink(g.r, g.chance(0.5))
	}
	adAt := start.Add(-time.Duration(back)*day - time.Minute - g.dur(6*time.Hour))
	rcpt := int64(g.between(200, 3000))
	id := g.broadcast(acct, adAt, adText(g.r, variant, c, link), rcpt)
	g.reactions(acct, id, adAt, rcpt, 0.0005*g.r.Float64(), 0.002*g.r.Float64(), adReasons)
	posts := min(g.between(1, 3), back+rounds-1)
	for k := 1; k <= posts; k++ {
		postAt := adAt.Add(time.Duration(k) * day)
		id := g.broadcast(acct, postAt, pick(g.r, smallTopics), rcpt)
		g.reactions(acct, id, postAt, rcpt, 0.0002*g.r.Float64(), 0.001*g.r.Float64(), everydayReasons)
	}
}

// strangerSource is where a harvester finds people: mostly search and
// groups, sometimes elsewhere, and a few QR codes to look ordinary.
func (g *gen) strangerSource() moderation.Source {
	switch x := g.r.IntN(100); {
	case x < 50:
		return moderation.SourceSearch
	case x < 85:
		return moderation.SourceGroup
	case x < 95:
		return moderation.SourceOther
	default:
		return moderation.SourceQR
	}
}

// spread places n events in the waking hours of the day starting at day,
// never more than perHour in one clock hour.
func (g *gen) spread(day time.Time, n, hours, perHour int) []time.Time {
	hours = max(hours, (n+perHour-1)/perHour)
	counts := make([]int, hours)
	for placed := 0; placed < n; {
		h := g.r.IntN(hours)
		if counts[h] < perHour {
			counts[h]++
			placed++
		}
	}
	var out []time.Time
	for h, c := range counts {
		for i := 0; i < c; i++ {
			out = append(out, day.Add(time.Duration(h)*time.Hour+g.dur(time.Hour)))
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// slowDrip: a new account adds 20–60 strangers a day for 2–5 weeks, never
// near the hourly or daily levels.
func (g *gen) slowDrip() {
	days := g.between(14, 35)
	start := End.AddDate(0, 0, -days).Truncate(24 * time.Hour).Add(time.Duration(g.between(0, 3)) * time.Hour)
	acct := g.account(SlowDrip, "friend_add", moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: start.Add(-g.dur(5 * 24 * time.Hour))})
	base := g.between(20, 60)
	msg := pick(g.r, greetings)
	for d := 0; d < days; d++ {
		n := min(60, max(20, base+g.r.IntN(11)-5))
		for _, at := range g.spread(start.AddDate(0, 0, d), n, g.between(8, 14), 12) {
			target := g.person("p")
			g.friendAdd(acct, at, target, g.strangerSource(), msg)
			if g.chance(0.4) {
				g.respond(acct, at, target, 0.3, 0.04)
			}
		}
	}
}

// harvestRing: 20–50 accounts created in the last weeks each add 10–35
// strangers a day for 3–10 days, half to nine tenths of them from one pool
// of a few hundred people (scraped from a group, say), so each stays under
// every level while the pool is added again and again.
func (g *gen) harvestRing() {
	size := g.between(20, 50)
	days := g.between(3, 10)
	pool := make([]string, g.between(size*6, size*15))
	for i := range pool {
		pool[i] = g.person("m")
	}
	start := End.AddDate(0, 0, -days).Add(g.dur(6 * time.Hour))
	fresh := 0.1 + 0.4*g.r.Float64() // share of targets from outside the pool
	msg := pick(g.r, greetings)
	for i := 0; i < size; i++ {
		acct := g.account(HarvestRing, "friend_add", moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: start.Add(-g.dur(14 * 24 * time.Hour))})
		perDay := g.between(10, 35)
		order := g.r.Perm(len(pool))
		next := 0
		for d := 0; d < days; d++ {
			for _, at := range g.spread(start.AddDate(0, 0, d), perDay+g.r.IntN(5), g.between(6, 12), 15) {
				target := g.person("p")
				if !g.chance(fresh) && next < len(order) {
					target = pool[order[next]]
					next++
				}
				g.friendAdd(acct, at, target, g.strangerSource(), msg)
				if g.chance(0.3) {
					g.respond(acct, at, target, 0.25, 0.05)
				}
			}
		}
	}
}

// history is an account's ordinary past: a few people it knows added in
// the span before until.
func (g *gen) history(acct string, until time.Time, span time.Duration) {
	for i := g.between(3, 12); i > 0; i-- {
		at := until.Add(-g.dur(span))
		src := []moderation.Source{moderation.SourceContact, moderation.SourceQR, moderation.SourceCard}[g.r.IntN(3)]
		target := g.person("c")
		g.friendAdd(acct, at, target, src, "")
		g.respond(acct, at, target, 0.95, 0)
	}
}

// dormantWake: an account created years ago, silent since it was created
// or since a little use 3–13 months ago, wakes and adds 200–450 strangers
// in 2–4 hours, each clock hour under the level for established accounts.
// Two in five pose as a quiet group admin adding its group's members
// (every request from a group, an admin's greeting, a group admin's pace
// over 4–10 hours), which leaves only the strangers' answers to tell them
// apart: fewer accept a stranger than a group's admin. Of the rest, whose
// strangers are found by search and elsewhere as well as in groups, two in
// five get no answer at all (none yet, or a platform that reports none).
func (g *gen) dormantWake() {
	created := End.AddDate(-g.between(2, 8), 0, -g.between(0, 300))
	acct := g.account(DormantWake, "friend_add", moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: created})
	n := g.between(200, 450)
	if g.chance(0.4) {
		g.fakeGroupAdmin(acct, n)
		return
	}
	hours := max(g.between(2, 3), (n+139)/140)
	wake := End.Add(-time.Duration(hours)*time.Hour - g.dur(12*time.Hour))
	if g.chance(0.6) {
		g.history(acct, wake.AddDate(0, 0, -g.between(90, 400)), 8*week)
	}
	if g.chance(0.3) { // warmed up with a few ordinary adds the day before
		g.history(acct, wake.Add(-2*time.Hour), 36*time.Hour)
	}
	msg := pick(g.r, greetings)
	answered := !g.chance(0.4)
	for _, at := range g.spread(wake, n, hours, 140) {
		target := g.person("p")
		src := g.strangerSource()
		if src == moderation.SourceQR {
			src = moderation.SourceSearch
		}
		g.friendAdd(acct, at, target, src, msg)
		if answered && g.chance(0.2) {
			g.respond(acct, at, target, 0.2, 0.05)
		}
	}
}

// fakeGroupAdmin is a bought dormant account imitating groupAdmins: n
// strangers from groups in one day, at most 80 in a clock hour, with an
// admin's greeting, after a few ordinary adds the day before, half the
// time. Strangers answer as strangers do: a fifth to a half of them, and
// of those a tenth to two fifths accept.
func (g *gen) fakeGroupAdmin(acct string, n int) {
	hours := max(g.between(4, 10), (n+79)/80)
	wake := End.Add(-time.Duration(hours)*time.Hour - g.dur(12*time.Hour))
	if g.chance(0.5) {
		g.history(acct, wake.Add(-2*time.Hour), 36*time.Hour)
	}
	answer, accept := 0.2+0.3*g.r.Float64(), 0.1+0.3*g.r.Float64()
	for _, at := range g.spread(wake, n, hours, 80) {
		target := g.person("p")
		g.friendAdd(acct, at, target, moderation.SourceGroup, pick(g.r, adminGreetings))
		if g.chance(answer) {
			g.respond(acct, at, target, accept, 0.03)
		}
	}
}

// brigadedNews: a small news account and 1–6 other small accounts broadcast
// daily to a few hundred or thousand followers who rarely complain; in one
// or two hours 25–60 reporters file against every one of them together,
// or, against three or more, each reporter against only some of them.
func (g *gen) brigadedNews() {
	days := g.between(4, 8)
	type target struct {
		acct       string
		recipients int64
		text       func(k int) string
		ids        []string // broadcast ids by day
	}
	domain := g.domain([]string{"citynews", "dailyhz", "localnews", "riverside", "eastpost"})
	news := target{recipients: int64(g.between(300, 3000)), text: func(k int) string { return newsText(g.r, domain, k) }}
	news.acct = g.account(BrigadedNews, "", moderation.AccountInfo{Type: moderation.AccountSubscription, Verified: g.chance(0.3), CreatedAt: g.daysAgo(g.between(400, 2000))})
	targets := []*target{&news}
	others := g.between(1, 6)
	join := 0.9 // the share of the targets each reporter files against
	if others >= 2 && g.chance(0.3) {
		join = 0.6 + 0.2*g.r.Float64()
	}
	for i := others; i > 0; i-- {
		t := &target{recipients: int64(g.between(150, 5000)), text: func(int) string { return pick(g.r, smallTopics) }}
		t.acct = g.account(BrigadedNews, "", moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: g.daysAgo(g.between(100, 2000))})
		targets = append(targets, t)
	}
	reporters := make([]string, g.between(25, 60))
	for i := range reporters {
		reporters[i] = g.person("u")
	}
	waves := g.between(1, 2)
	for _, t := range targets {
		first, drift := g.firstOfDaily(days)
		for k := 0; k < days; k++ {
			at := daily(first, k, drift)
			id := g.broadcast(t.acct, at, t.text(k), t.recipients)
			g.reactions(t.acct, id, at, t.recipients, 0.0003*g.r.Float64(), 0.001+0.002*g.r.Float64(), everydayReasons)
			t.ids = append(t.ids, id)
		}
	}
	// Wave w comes in the hour after every target's broadcast w days
	// before the last.
	for w := 0; w < waves; w++ {
		hour := End.Add(-time.Duration(w)*24*time.Hour - time.Hour - g.dur(time.Hour))
		reason := pick(g.r, []string{"spam", "fraud", "harassment", "other"})
		for _, rep := range reporters {
			for _, t := range targets {
				if g.chance(join) {
					g.emit(t.acct, hour.Add(g.dur(time.Hour)), moderation.Event{Kind: moderation.KindComplaint,
						Complaint: &moderation.Complaint{Reporter: rep, Reason: reason, BroadcastID: t.ids[days-1-w]}})
				}
			}
		}
	}
}

// tradeFair: 2–6 exhibitors in everyday use for years add 150–600
// visitors each in one afternoon, by QR code and business card, a few by
// searching the name on a card; visitors go from booth to booth.
func (g *gen) tradeFair() {
	exhibitors := g.between(2, 6)
	visitors := make([]string, g.between(200, 1500))
	for i := range visitors {
		visitors[i] = g.person("v")
	}
	afternoon := End.Add(-5*time.Hour - g.dur(12*time.Hour))
	for i := 0; i < exhibitors; i++ {
		typ := moderation.AccountPersonal
		if g.chance(0.3) {
			typ = moderation.AccountEnterprise
		}
		acct := g.account(TradeFair, "", moderation.AccountInfo{Type: typ, CreatedAt: g.daysAgo(g.between(400, 3000))})
		g.everyday(acct, afternoon.Add(-24*time.Hour))
		n := min(len(visitors), g.between(150, 600))
		searched := 0.08 * g.r.Float64()
		hours := g.between(3, 5)
		for j, at := range g.spread(afternoon, n, hours, 400) {
			src := moderation.SourceQR
			switch x := g.r.Float64(); {
			case x < searched:
				src = moderation.SourceSearch
			case x < 0.35:
				src = moderation.SourceCard
			}
			target := visitors[(j*7+i*13)%len(visitors)]
			g.friendAdd(acct, at, target, src, "")
			if g.chance(0.5) {
				g.respond(acct, at, target, 0.9, 0.002)
			}
		}
	}
}

// priceReports: an organisation's 1–6 branch accounts each send a daily
// price list for 7–14 days, all with the same hotline and site.
func (g *gen) priceReports() {
	branches := g.between(1, 6)
	hotline := pick(g.r, []string{fmt.Sprintf("400-%03d-%04d", g.r.IntN(1000), g.r.IntN(10000)), mobile(g.r), fmt.Sprintf("+1 800 555 %04d", g.r.IntN(10000))})
	domain := g.domain([]string{"market", "caijia", "metalsdesk", "farmprice", "agri"})
	days := g.between(7, 14)
	style := g.r.IntN(len(priceStyles)) // an organisation words its lists its own way
	for i := 0; i < branches; i++ {
		acct := g.account(PriceReports, "", moderation.AccountInfo{Type: moderation.AccountSubscription, Verified: g.chance(0.5), CreatedAt: g.daysAgo(g.between(300, 3000))})
		city := pick(g.r, cities)
		recipients := int64(g.between(1000, 60000))
		first, drift := g.firstOfDaily(days)
		for k := 0; k < days; k++ {
			at := daily(first, k, drift)
			id := g.broadcast(acct, at, priceReport(g.r, style, city, hotline, domain, k), recipients)
			g.reactions(acct, id, at, recipients, 0.0002*g.r.Float64(), 0.0005+0.001*g.r.Float64(), everydayReasons)
		}
	}
}

// couponBrand: a verified brand sends a coupon code in both its daily
// broadcasts for 5–10 days; its followers seldom complain or leave.
func (g *gen) couponBrand() {
	brand := pick(g.r, brands)
	domain := g.domain([]string{"shop", "official", "store", "club", "mall"})
	acct := g.account(CouponBrand, "", moderation.AccountInfo{Type: moderation.AccountSubscription, Verified: true, CreatedAt: g.daysAgo(g.between(700, 3500))})
	days := g.between(5, 10)
	recipients := int64(g.between(20000, 150000))
	first, drift := g.firstOfDaily(days)
	gap := time.Duration(g.between(6, 10)) * time.Hour
	for k := 0; k < days; k++ {
		for _, at := range []time.Time{daily(first, k, drift), daily(first, k, drift).Add(gap)} {
			id := g.broadcast(acct, at, coupon(g.r, brand, domain, k), recipients)
			g.reactions(acct, id, at, recipients, 0.00005*g.r.Float64(), 0.0002+0.0004*g.r.Float64(), everydayReasons)
		}
	}
}

// groupAdmins: a group's 1–4 admins, accounts years old, most in everyday
// use and some quiet (nothing seen before), add its members (80 to 500, a
// group's most, or one time in seven the 600–980 members of two full
// groups; a sole admin adds them all): most groups in a day or three,
// under 450 a day, some steadily for weeks.
// The members of one group in four answer nothing (none yet, or a platform
// that reports no answers).
func (g *gen) groupAdmins() {
	size := g.between(80, 500)
	if g.chance(0.15) {
		size = g.between(600, 980) // the admins of two full groups (a group holds 500 at most)
	}
	members := make([]string, size)
	for i := range members {
		members[i] = g.person("g")
	}
	weeks := g.chance(0.35)
	answerShare := 0.6
	if g.chance(0.25) {
		answerShare = 0
	}
	admins := g.between(1, 4)
	for i := 0; i < admins; i++ {
		acct := g.account(GroupAdmins, "", moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: g.daysAgo(g.between(400, 3000))})
		order := g.r.Perm(len(members))
		share := 0.3 + 0.4*g.r.Float64()
		if admins == 1 {
			share = 1 // the only admin adds everyone
		}
		todo := order[:int(float64(len(order))*share)]
		var days int
		if weeks {
			days = g.between(14, 28)
		} else {
			days = max(g.between(1, 3), (len(todo)+449)/450) // under 450 a day, as a group's members come in
		}
		start := End.AddDate(0, 0, -days).Add(g.dur(6 * time.Hour))
		if !g.chance(0.3) { // else a quiet account that seldom adds anyone
			g.everyday(acct, start)
		}
		perDay := (len(todo) + days - 1) / days
		for d := 0; d < days && len(todo) > 0; d++ {
			n := min(perDay, len(todo))
			for j, at := range g.spread(start.AddDate(0, 0, d), n, g.between(4, 10), 80) {
				target := members[todo[j]]
				g.friendAdd(acct, at, target, moderation.SourceGroup, pick(g.r, adminGreetings))
				if g.chance(answerShare) {
					g.respond(acct, at, target, 0.85, 0.01)
				}
			}
			todo = todo[n:]
		}
	}
}

// adminGreetings are what a group's admin says, or nothing.
var adminGreetings = []string{"", "群管理员，拉你进新群", "我是群主"}

// ordinary: 5–15 personal accounts, years old, each adding someone it
// knows (by contact, QR code or card, now and then by search) every few
// days over the last four to seven months.
func (g *gen) ordinary() {
	for i := g.between(5, 15); i > 0; i-- {
		acct := g.account(Ordinary, "", moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: g.daysAgo(g.between(365, 3000))})
		g.everyday(acct, End)
	}
}

// everyday is an account in everyday use: someone it knows added every
// 2–20 days over the four to seven months before until.
func (g *gen) everyday(acct string, until time.Time) {
	for at := until.AddDate(0, 0, -g.between(120, 210)); at.Before(until); at = at.Add(time.Duration(g.between(2, 20))*24*time.Hour + g.dur(12*time.Hour)) {
		src := []moderation.Source{moderation.SourceContact, moderation.SourceQR, moderation.SourceCard, moderation.SourceSearch}[g.r.IntN(4)]
		target := g.person("c")
		g.friendAdd(acct, at, target, src, "")
		g.respond(acct, at, target, 0.9, 0.005)
	}
}

// scenarioAccount is an account's line in a scenario's expect.json: the
// outcome TestScenarios checks, and the label a scorer reads. It names
// the capability a limit takes (restricts) without asking Check to refuse
// it at the end (blocked): a mix spans days, and a limit taken early in
// event time has run out by the time the replay ends.
type scenarioAccount struct {
	Class     Class  `json:"class"`
	AtLeast   string `json:"at_least,omitempty"`
	AtMost    string `json:"at_most,omitempty"`
	Restricts string `json:"restricts,omitempty"`
}

type scenarioExpect struct {
	Description string                     `json:"description"`
	Seed        uint64                     `json:"seed"`
	Accounts    map[string]scenarioAccount `json:"accounts"`
	ValidEvents int                        `json:"valid_events"`
	DeadLetters map[string]int             `json:"dead_letters"`
}

// WriteScenario writes the mix as a fixture scenario in dir:
// events.jsonl, and expect.json with every abusive account at limit or
// stronger and every legitimate one at most warned.
func (m *Mix) WriteScenario(dir, description string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	for _, ev := range m.Events {
		data, err := events.EncodeJSON(ev)
		if err != nil {
			return fmt.Errorf("encode %s: %w", ev.ID, err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), b.Bytes(), 0o644); err != nil {
		return err
	}
	exp := scenarioExpect{Description: description, Seed: m.Seed, Accounts: map[string]scenarioAccount{}, ValidEvents: len(m.Events), DeadLetters: map[string]int{}}
	for a, l := range m.Labels {
		if l.Abusive {
			exp.Accounts[a] = scenarioAccount{Class: l.Class, AtLeast: string(moderation.ActionLimit), Restricts: l.Restricts}
		} else {
			exp.Accounts[a] = scenarioAccount{Class: l.Class, AtMost: string(moderation.ActionWarn)}
		}
	}
	raw, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "expect.json"), append(raw, '\n'), 0o644)
}

// ReadLabels reads the labels from a scenario's expect.json (or a file of
// the same shape): each account's class, abusive by its class.
func ReadLabels(path string) (map[string]Label, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var exp scenarioExpect
	if err := json.Unmarshal(raw, &exp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	labels := make(map[string]Label, len(exp.Accounts))
	for a, s := range exp.Accounts {
		abusive := s.AtLeast != "" && moderation.Action(s.AtLeast).Severity() >= moderation.ActionLimit.Severity()
		labels[a] = Label{Class: s.Class, Abusive: abusive, Restricts: s.Restricts}
	}
	return labels, nil
}

// ParseInstances reads "class=n,class=n" (or "all=n") into instance
// counts for Labelled.
func ParseInstances(s string) (map[Class]int, error) {
	out := map[Class]int{}
	for _, part := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want class=count", part)
		}
		if name == "all" {
			for _, c := range Classes {
				out[c] = n
			}
			continue
		}
		if !slices.Contains(Classes, Class(name)) {
			return nil, fmt.Errorf("%q is not a class (%v)", name, Classes)
		}
		out[Class(name)] = n
	}
	return out, nil
}
