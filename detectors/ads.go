package detectors

import (
	"fmt"
	"strings"
	"time"

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
}

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
	return s
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
func (a *AdContent) Bytes() int64 { return adRing*5 + 8 }
