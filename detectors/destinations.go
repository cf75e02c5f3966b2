package detectors

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/moderation"
)

// Destination campaigns: a ring of accounts that paraphrases one offer,
// different words each time, still has to send buyers somewhere. The index
// is keyed by that destination (a WeChat id, phone or QQ number, a link's
// domain or short link, as "kind:value") and counts the distinct accounts
// that named it within the window of event time, whatever the wording.
//
// Like Campaigns, it is a ring of observations in arrival order, evicted
// when older than the window or past maxEntries, with per-destination
// account counts kept alongside: the bound is on entries, whatever the
// mix of destinations. Not safe for concurrent use; the same sequence of
// Observe calls gives the same answers, and within the window the count is
// the same whatever the order the accounts came in.
//
// Per destination and account it also keeps the account's broadcast that
// read most as an ad among those naming the destination in the window
// (OwnAdScore): a ring member is judged with the ring by any of its ads
// naming the handle, not only by its latest broadcast, which it can make
// an ordinary post. Entries leave in the order they came, so for each
// account a short queue of entry positions with falling scores (a
// monotonic queue) gives that highest score exactly as entries leave:
// one position for most accounts, which name a destination once or in the
// same words each time.
type Destinations struct {
	window     int64 // seconds
	maxEntries int

	entries     []destEntry
	first, next uint64
	keys        map[string]*destKey
	risen       []Risen // by the latest observation
}

type destEntry struct {
	key     *destKey
	account string // its own copy, shared by the entries of one broadcast: a destination's senders are named when it grows (Senders)
	at      int64
	score   float64 // the naming broadcast's ad score
}

type destKey struct {
	name     string
	accounts map[string]destSender // per account naming it in the window
	live     int
	scores   float64 // sum of the live entries' ad scores
}

// destSender is one account's live entries naming a destination. The
// positions (sequence numbers in the ring) of the live entries that no
// later entry of the account's outscores, oldest first, form a queue whose
// scores fall: best, then rest. Positions are kept as their low 32 bits
// (pos): the live entries span fewer than 2^32 positions. Most accounts
// name a destination once, or each time with a higher score, so rest is
// nil and the pair costs 16 bytes beside its key.
type destSender struct {
	live int32
	best uint32    // the highest live score's entry
	rest *[]uint32 // later entries with lower scores, falling
}

// Risen is a destination whose count of accounts an observation raised,
// and the count it rose to.
type Risen struct {
	Destination string
	Accounts    int
}

// DestinationMatch is the most shared destination of one broadcast.
type DestinationMatch struct {
	// Destination is "kind:value" ("wechat:wx12345"); empty when the
	// broadcast named none.
	Destination string
	// Accounts is how many distinct accounts named it within the window,
	// this one included.
	Accounts int
	// AdScore is the mean ad score of the broadcasts that named it within
	// the window: a ring's member that writes its copy to read as news is
	// still judged with the ring's wording.
	AdScore float64
	// OwnAdScore is the highest ad score among the account's own
	// broadcasts naming it within the window: its ad, though it broadcast
	// something ordinary since.
	OwnAdScore float64
}

// NewDestinations returns an index over window of event time holding at
// most maxEntries observations (about 100 bytes each with their counts).
func NewDestinations(window time.Duration, maxEntries int) *Destinations {
	return &Destinations{window: int64(window / time.Second), maxEntries: max(maxEntries, 1), keys: map[string]*destKey{}}
}

// Observe records that account named each destination (as "kind:value")
// at, and returns the one the most accounts named; ties go to the first
// in the order given.
func (d *Destinations) Observe(account string, at time.Time, destinations []string) DestinationMatch {
	return d.ObserveScored(account, at, destinations, 0)
}

// ObserveScored is Observe for a broadcast whose ad score is score.
func (d *Destinations) ObserveScored(account string, at time.Time, destinations []string, score float64) DestinationMatch {
	now := at.Unix()
	acct := "" // copied once a destination is named: the caller's may share a message's bytes
	d.risen = d.risen[:0]
	var m DestinationMatch
	for i, name := range destinations {
		if name == "" || containsBefore(destinations, i) {
			continue
		}
		d.evict(now) // a full ring makes room one entry at a time, before the key is looked up
		k := d.keys[name]
		if k == nil {
			k = &destKey{name: strings.Clone(name), accounts: map[string]destSender{}}
			d.keys[name] = k
		}
		if acct == "" {
			acct = strings.Clone(account)
		}
		e := destEntry{key: k, account: acct, at: now, score: score}
		if len(d.entries) < d.maxEntries {
			d.entries = append(d.entries, e)
		} else {
			d.entries[d.next%uint64(d.maxEntries)] = e
		}
		k.scores += score
		if d.add(k, acct, d.next) {
			d.risen = append(d.risen, Risen{Destination: k.name, Accounts: len(k.accounts)})
		}
		d.next++
		if n := len(k.accounts); n > m.Accounts {
			own, _ := d.ownScore(k, acct)
			m = DestinationMatch{Destination: k.name, Accounts: n, AdScore: k.meanScore(), OwnAdScore: own}
		}
	}
	return m
}

// add counts the entry at position seq, already in the ring, for k and
// account (its score is summed by the caller), and reports whether account
// is new to k in the window.
func (d *Destinations) add(k *destKey, account string, seq uint64) (isNew bool) {
	s, ok := k.accounts[account]
	score := d.at(seq).score
	switch {
	case !ok:
		s.best = uint32(seq)
	case s.rest != nil:
		r := *s.rest
		for len(r) > 0 && d.pos(r[len(r)-1]).score <= score {
			r = r[:len(r)-1]
		}
		if len(r) > 0 {
			*s.rest = append(r, uint32(seq))
			break
		}
		s.rest = nil
		fallthrough
	default:
		if d.pos(s.best).score <= score {
			s.best = uint32(seq)
		} else {
			s.rest = &[]uint32{uint32(seq)}
		}
	}
	s.live++
	k.accounts[account] = s
	k.live++
	return !ok
}

func (d *Destinations) at(seq uint64) *destEntry { return &d.entries[seq%uint64(d.maxEntries)] }

// pos is the live entry whose position's low 32 bits are p.
func (d *Destinations) pos(p uint32) *destEntry { return d.at(d.first + uint64(p-uint32(d.first))) }

// ownScore is the highest ad score of account's live entries naming k;
// named reports whether it has any.
func (d *Destinations) ownScore(k *destKey, account string) (score float64, named bool) {
	s, named := k.accounts[account]
	if !named {
		return 0, false
	}
	return d.pos(s.best).score, true
}

// TakeRisen lists the destinations whose count of accounts the latest
// observation raised (an account naming them for the first time in the
// window), and forgets them: a second call, or one after an event that was
// not observed, finds none. The slice is valid until the next observation.
func (d *Destinations) TakeRisen() []Risen {
	r := d.risen
	d.risen = d.risen[:0]
	return r
}

// Senders lists, sorted, the accounts that named destination within the
// window: when its count crosses a level, those who named it before are
// judged again (they may have no event of their own left to be judged at).
func (d *Destinations) Senders(destination string) []string {
	k := d.keys[destination]
	if k == nil {
		return nil
	}
	out := make([]string, 0, len(k.accounts))
	for a := range k.accounts {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Accounts is how many distinct accounts named destination in the window.
func (d *Destinations) Accounts(destination string) int {
	if k := d.keys[destination]; k != nil {
		return len(k.accounts)
	}
	return 0
}

// Match is destination's count and mean ad score as they stand now, with
// account's own highest ad score among its broadcasts naming it; named
// reports whether any of them is still in the window.
func (d *Destinations) Match(account, destination string) (m DestinationMatch, named bool) {
	k := d.keys[destination]
	if k == nil {
		return DestinationMatch{Destination: destination}, false
	}
	own, named := d.ownScore(k, account)
	return DestinationMatch{Destination: destination, Accounts: len(k.accounts), AdScore: k.meanScore(), OwnAdScore: own}, named
}

func (k *destKey) meanScore() float64 {
	if k.live == 0 {
		return 0
	}
	return min(max(k.scores/float64(k.live), 0), 1) // sums drift by rounding as entries come and go
}

func containsBefore(s []string, i int) bool {
	for _, v := range s[:i] {
		if v == s[i] {
			return true
		}
	}
	return false
}

// evict drops entries older than the window before now, and the oldest
// while the ring is full.
func (d *Destinations) evict(now int64) {
	for d.first < d.next {
		e := &d.entries[d.first%uint64(d.maxEntries)]
		if d.next-d.first < uint64(d.maxEntries) && e.at > now-d.window {
			return
		}
		k := e.key
		s := k.accounts[e.account]
		if s.best == uint32(d.first) && s.rest != nil { // the best leaves: the next in the queue is the best now
			r := *s.rest
			s.best = r[0]
			if s.rest = nil; len(r) > 1 {
				r = r[1:]
				s.rest = &r
			}
		}
		if s.live--; s.live <= 0 {
			delete(k.accounts, e.account)
		} else {
			k.accounts[e.account] = s
		}
		k.scores -= e.score
		if k.live--; k.live == 0 {
			delete(d.keys, k.name)
		}
		e.key = nil
		d.first++
	}
}

// Len is the number of live observations.
func (d *Destinations) Len() int { return int(d.next - d.first) }

// Bytes estimates the index's memory: the ring, each entry's copy of its
// account id, and per destination its name and per account its count and
// queue of best entries.
func (d *Destinations) Bytes() int64 {
	n := int64(cap(d.entries)) * 40
	for seq := d.first; seq < d.next; seq++ {
		n += int64(stringBytes(len(d.entries[seq%uint64(d.maxEntries)].account)))
	}
	for _, k := range d.keys {
		n += 96 + int64(len(k.name)) + 56*int64(len(k.accounts))
		for _, s := range k.accounts {
			if s.rest != nil {
				n += 24 + 4*int64(cap(*s.rest))
			}
		}
	}
	return n
}

// stringBytes is what a string of n bytes takes on the heap: Go's size
// classes round small allocations up to a multiple of 8 or 16.
func stringBytes(n int) int {
	if n <= 8 {
		return 8
	}
	return (n + 15) &^ 15
}

// describeDestination turns "wechat:wx12345" into "WeChat id wx12345",
// in the words ad_content's evidence uses (destinationName).
func describeDestination(key string) string {
	kind, value, ok := strings.Cut(key, ":")
	if !ok {
		return key
	}
	return destinationName(adtext.Destination{Kind: kind, Value: value})
}

// destinationSignal reports the latest broadcast's most shared destination
// or, in an account read with a destination an earlier broadcast named
// (earlier: Account.WithDestination), that one.
func (t *BroadcastText) destinationSignal(d *Destinations, earlier bool) moderation.Signal {
	m := t.Destination
	days := groupDigits(float64(d.window / 86400))
	which := "the latest broadcast"
	if earlier {
		which = fmt.Sprintf("a broadcast of the last %s days", days)
	}
	var evidence string
	switch {
	case m.Destination == "":
		evidence = "the latest broadcast sends buyers to no contact handle or link"
	case m.Accounts <= 1:
		evidence = fmt.Sprintf("%s sends buyers to %s, which no other account sent buyers to in %s days", which, describeDestination(m.Destination), days)
	default:
		evidence = fmt.Sprintf("%s sends buyers to %s, which %s other %s also sent buyers to in %s days",
			which, describeDestination(m.Destination), groupDigits(float64(m.Accounts-1)), plural(m.Accounts-1, "account", "accounts"), days)
	}
	if m.Destination != "" && (earlier || m.OwnAdScore != t.LastAdScore) {
		evidence += fmt.Sprintf("; of this account's broadcasts naming it in %s days, the one most like an ad scores %.2f", days, m.OwnAdScore)
	}
	if m.Accounts > 1 {
		evidence += fmt.Sprintf("; their broadcasts naming it read as ads with a mean score of %.2f", m.AdScore)
	}
	return moderation.Signal{Name: "destination_campaign", Evidence: evidence,
		Values: map[string]float64{"accounts": float64(m.Accounts), "ad_score": t.destinationAdScore(), "campaign_ad_score": m.AdScore}}
}

// destinationAdScore is the ad score a destination campaign judges the
// account by: the highest of its broadcasts naming the destination within
// the window, so an ordinary post after its ad does not take it out of the
// ring; with no destination, the latest broadcast's.
func (t *BroadcastText) destinationAdScore() float64 {
	if t.Destination.Destination == "" {
		return t.LastAdScore
	}
	return t.Destination.OwnAdScore
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// destinationMetrics are the value names of the destination_campaign
// signal.
var destinationMetrics = []string{"accounts", "ad_score", "campaign_ad_score"}

// destinationKeys are the non-generic destinations of a broadcast's text
// as the reader sees it (normal, from adtext.NormalText), as "kind:value". A generic domain (one millions of
// honest texts link to) says nothing about who works with whom.
func destinationKeys(normal string) []string {
	var keys []string
	for _, d := range adtext.Destinations(normal) {
		if !d.Generic {
			keys = append(keys, d.Kind+":"+d.Value)
		}
	}
	return keys
}
