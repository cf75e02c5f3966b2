package detectors

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"moderation/detectors/adtext"
	"moderation/internal/moderation"
)

// adRing is how many of an account's recent broadcasts AdContent keeps.
const adRing = 20

// adThreshold is the score at which a broadcast counts as advertising. It
// is the model's decision point, not a policy: policies judge the share.
const adThreshold = 0.5

// Feature kinds kept per broadcast, as bits, for the evidence.
const (
	adLink uint8 = 1 << iota
	adPhone
	adHandle
	adPrice
	adPromo
	adCall
	adKinds = 6
)

var adKindNames = [adKinds]string{"links", "phone numbers", "contact handles", "prices", "discount words", "calls to action"}

// AdContent tracks how much of one account's recent broadcasting reads as
// advertising: the scores of its last 20 broadcasts, in a fixed ring, so an
// event costs no allocation.
type AdContent struct {
	scores [adRing]float32
	kinds  [adRing]uint8 // feature bits of each broadcast
	next   uint8         // slot the next broadcast goes in
	n      uint8         // broadcasts in the ring
	// lastAd is the text of the latest broadcast that read as advertising,
	// cut to adSampleBytes, for the evidence: what it said, what it says
	// once its disguises are undone, and where it sends buyers. The
	// normalised text and the handles are worked out when evidence is
	// asked for, not on every broadcast.
	lastAd string
}

// adSampleBytes is how much of an ad's text AdContent keeps for evidence:
// enough for a whole broadcast most of the time, bounded for memory.
const adSampleBytes = 400

// adQuoteRunes is how much of a text the evidence quotes.
const adQuoteRunes = 60

// NewAdContent returns an empty tracker.
func NewAdContent() AdContent { return AdContent{} }

// Observe records one broadcast sent at, its advertising score and its
// features (from adtext.Model.Analyze). The ring counts broadcasts, not
// time: at is taken for symmetry with the other detectors, the ring keeps
// arrival order, and a late event counts as the newest broadcast.
func (a *AdContent) Observe(at time.Time, score float64, f adtext.Features) {
	var k uint8
	for bit, n := range [adKinds]int{f.Links, f.Phones, f.Handles, f.Prices, f.Promos, f.Calls} {
		if n > 0 {
			k |= 1 << bit
		}
	}
	a.scores[a.next] = float32(score)
	a.kinds[a.next] = k
	a.next = (a.next + 1) % adRing
	if a.n < adRing {
		a.n++
	}
}

// ObserveText is Observe with the broadcast's text, kept (cut to 400
// bytes) when the broadcast reads as advertising, for the evidence.
func (a *AdContent) ObserveText(at time.Time, text string, score float64, f adtext.Features) {
	a.Observe(at, score, f)
	if score >= adThreshold {
		a.lastAd = strings.Clone(cut(text, adSampleBytes))
	}
}

// cut returns the longest prefix of s of at most n bytes that ends on a
// rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// quote returns s for evidence: at most adQuoteRunes runes, then "…".
func quote(s string) string {
	n := 0
	for i := range s {
		if n == adQuoteRunes {
			return strconv.Quote(s[:i] + "…")
		}
		n++
	}
	return strconv.Quote(s)
}

// Count is the number of broadcasts in the ring, at most 20.
func (a *AdContent) Count() int { return int(a.n) }

// slot returns the ring index of the i-th newest broadcast, i from 0.
func (a *AdContent) slot(i int) int { return (int(a.next) - 1 - i + 2*adRing) % adRing }

// ads is how many broadcasts in the ring score at or above adThreshold.
func (a *AdContent) ads() int {
	n := 0
	for i := 0; i < int(a.n); i++ {
		if a.scores[a.slot(i)] >= adThreshold {
			n++
		}
	}
	return n
}

// Share is the share of the last broadcasts (up to 20) that read as
// advertising; 0 when there are none.
func (a *AdContent) Share() float64 {
	if a.n == 0 {
		return 0
	}
	return float64(a.ads()) / float64(a.n)
}

// Signal reports the tracker's state. It takes now like the other
// detectors' Signal, but the ring counts broadcasts, not time, so the
// answer does not depend on it.
func (a *AdContent) Signal(now int64) moderation.Signal {
	values := make(map[string]float64, len(adMetrics))
	for _, name := range adMetrics {
		values[name], _ = a.Value(name)
	}
	return moderation.Signal{Name: "ad_content", Values: values, Evidence: a.evidence()}
}

// adMetrics are the value names of the ad_content signal.
var adMetrics = []string{"share", "broadcasts", "last_score", "mean_score"}

// Value answers one of adMetrics without allocating.
func (a *AdContent) Value(name string) (float64, bool) {
	switch name {
	case "share":
		return a.Share(), true
	case "broadcasts":
		return float64(a.n), true
	case "last_score":
		if a.n == 0 {
			return 0, true
		}
		return float64(a.scores[a.slot(0)]), true
	case "mean_score":
		if a.n == 0 {
			return 0, true
		}
		var sum float64
		for i := 0; i < int(a.n); i++ {
			sum += float64(a.scores[a.slot(i)])
		}
		return sum / float64(a.n), true
	}
	return 0, false
}

func (a *AdContent) evidence() string {
	n, ads := int(a.n), a.ads()
	switch {
	case n == 0:
		return "no broadcasts yet"
	case ads == 0 && n == 1:
		return "the only broadcast so far does not read as advertising"
	case ads == 0:
		return fmt.Sprintf("none of the last %d broadcasts reads as advertising", n)
	}
	var s string
	if n == 1 {
		s = "the only broadcast so far reads as advertising"
	} else {
		s = fmt.Sprintf("%d of the last %d broadcasts read as advertising", ads, n)
	}
	if top := a.topKinds(3); top != "" {
		s += " (" + top + ")"
	}
	if a.lastAd != "" {
		s += "; " + adSample(a.lastAd)
	}
	return s
}

// adSample describes the latest ad for evidence: its text, what it reads
// as once normalised and what that undid, and where it sends buyers:
// `latest ad: "加 薇 一三八…" reads as "加微信13812345678" (undone: 薇 → 微信,
// Chinese numerals 一三八… → 138…); sends buyers to phone 13812345678`.
func adSample(text string) string {
	n := adtext.Normalize(text)
	s := "latest ad: " + quote(text)
	if n.Text != text {
		s += " reads as " + quote(n.Text)
	}
	if len(n.Found) > 0 {
		found := n.Found
		if len(found) > 4 {
			found = found[:4]
		}
		s += " (undone: " + strings.Join(found, ", ") + ")"
	}
	var to []string
	for _, d := range adtext.Destinations(n.Text) {
		if d.Generic || len(to) == 4 {
			continue
		}
		to = append(to, destinationName(d))
	}
	if len(to) > 0 {
		s += "; sends buyers to " + strings.Join(to, ", ")
	}
	return s
}

// destinationName names a destination for an owner: "WeChat id lily_8899",
// "phone 13812345678", "QQ 12345678", "short link t.cn/A6xYz", "site
// shop.top".
func destinationName(d adtext.Destination) string {
	switch d.Kind {
	case "wechat":
		return "WeChat id " + d.Value
	case "phone":
		return "phone " + d.Value
	case "qq":
		return "QQ " + d.Value
	case "shortlink":
		return "short link " + d.Value
	}
	return "site " + d.Value
}

// topKinds names the feature kinds most often found in the broadcasts that
// read as advertising, most frequent first; ties keep the order of
// adKindNames so the evidence is the same on every replay.
func (a *AdContent) topKinds(max int) string {
	var counts [adKinds]int
	for i := 0; i < int(a.n); i++ {
		j := a.slot(i)
		if a.scores[j] < adThreshold {
			continue
		}
		for bit := 0; bit < adKinds; bit++ {
			if a.kinds[j]&(1<<bit) != 0 {
				counts[bit]++
			}
		}
	}
	var names []string
	for len(names) < max {
		best := -1
		for k, c := range counts {
			if c > 0 && (best < 0 || c > counts[best]) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		names = append(names, adKindNames[best])
		counts[best] = 0
	}
	return strings.Join(names, ", ")
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (a *AdContent) Bytes() int64 { return adRing*5 + 8 + 16 + int64(len(a.lastAd)) }
