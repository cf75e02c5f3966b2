package detectors

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"moderation/internal/console"
	"moderation/internal/moderation"
)

// complaintDays is the length of the complaint window in daily buckets. The
// window is the current (UTC) day so far plus the six before it, so it
// covers between six and seven days and an event leaves it seven days
// after its day began.
const complaintDays = 7

// wilsonZ is the normal quantile for a two-sided 95% confidence interval.
const wilsonZ = 1.96

// ComplaintReasons are the reasons a follower can give for a complaint, in
// the order ComplaintTotals.Reasons counts them. An unknown reason counts
// as "other".
var ComplaintReasons = [...]string{"spam", "ads", "fraud", "porn", "harassment", "other"}

const reasonOther = len(ComplaintReasons) - 1

// reasonKeys are the signal value names, built once so Signal does not
// concatenate per call.
var reasonKeys = func() (k [len(ComplaintReasons)]string) {
	for i, r := range ComplaintReasons {
		k[i] = "reason_" + r
	}
	return k
}()

// ComplaintRate tracks, over a sliding seven-day window of event time, how
// many messages an official account's broadcasts delivered and how many
// complaints and unfollows they drew.
//
// Complaints and unfollows are set against the deliveries in the same
// window, even when the broadcast they are about was delivered before it:
// matching each complaint to its broadcast would mean keeping every
// broadcast, and over a week the two windows mostly overlap. Early in a
// window (or for an account that stopped broadcasting) complaints can
// therefore exceed deliveries; the rate is then capped at 1.
//
// Counts are per day, in a ring kept as separate arrays so no padding is
// spent. Totals are exact up to 2^32-1 a day (saturating); the breakdown by
// reason is informational and saturates at 65,535 a day per reason, which
// keeps the state under 200 bytes.
type ComplaintRate struct {
	head       int32 // unix day number of the newest bucket
	delivered  [complaintDays]uint32
	complaints [complaintDays]uint32
	unfollows  [complaintDays]uint32
	reasons    [complaintDays][len(ComplaintReasons)]uint16
}

// NewComplaintRate returns an empty tracker.
func NewComplaintRate() ComplaintRate { return ComplaintRate{} }

// ObserveBroadcast counts the recipients of one broadcast sent at.
func (c *ComplaintRate) ObserveBroadcast(at time.Time, recipients int64) {
	if i, ok := c.bucket(at); ok && recipients > 0 {
		c.delivered[i] = addSaturating32(c.delivered[i], uint64(recipients))
	}
}

// ObserveComplaint counts one complaint made at for reason.
func (c *ComplaintRate) ObserveComplaint(at time.Time, reason string) {
	i, ok := c.bucket(at)
	if !ok {
		return
	}
	c.complaints[i] = addSaturating32(c.complaints[i], 1)
	r := &c.reasons[i][complaintReason(reason)]
	if *r < math.MaxUint16 {
		*r++
	}
}

// ObserveUnfollow counts one follower leaving at.
func (c *ComplaintRate) ObserveUnfollow(at time.Time) {
	if i, ok := c.bucket(at); ok {
		c.unfollows[i] = addSaturating32(c.unfollows[i], 1)
	}
}

// bucket moves the window forward to at's day if it is newer and returns
// the index of at's bucket; ok is false for an event older than the window.
// Like ring it is total over int64 time: day numbers are clamped to what
// head holds, and an empty tracker starts at the first event's day wherever
// it falls.
func (c *ComplaintRate) bucket(at time.Time) (i int, ok bool) {
	day := clampBucket(utcDay(at.Unix()))
	head := int64(c.head)
	switch {
	case day > head:
		// Clear the days the window slid past, at most the whole ring.
		gap := min(day-head, complaintDays)
		for d := day - gap + 1; d <= day; d++ {
			j := floorMod(d, complaintDays)
			c.delivered[j], c.complaints[j], c.unfollows[j] = 0, 0, 0
			c.reasons[j] = [len(ComplaintReasons)]uint16{}
		}
		c.head = int32(day)
	case day <= head-complaintDays:
		if !c.empty() {
			return 0, false
		}
		c.head = int32(day)
	}
	return int(floorMod(day, complaintDays)), true
}

// empty reports whether nothing is counted: the window can then start
// anywhere.
func (c *ComplaintRate) empty() bool {
	for j := range complaintDays {
		if c.delivered[j] != 0 || c.complaints[j] != 0 || c.unfollows[j] != 0 {
			return false
		}
	}
	return true
}

// ComplaintTotals are a ComplaintRate's sums over the window ending at a time.
type ComplaintTotals struct {
	Complaints float64
	Delivered  float64
	Unfollows  float64
	Reasons    [len(ComplaintReasons)]float64 // indexed like ComplaintReasons
}

// Totals sums the window ending at unix time now. It does not allocate, so a
// policy's watched metric can be read after every event.
func (c *ComplaintRate) Totals(now int64) ComplaintTotals {
	var t ComplaintTotals
	day, head := clampBucket(utcDay(now)), int64(c.head)
	for d := day; d > day-complaintDays; d-- {
		if d > head {
			continue
		}
		if d <= head-complaintDays {
			break
		}
		j := floorMod(d, complaintDays)
		t.Complaints += float64(c.complaints[j])
		t.Delivered += float64(c.delivered[j])
		t.Unfollows += float64(c.unfollows[j])
		for r, n := range c.reasons[j] {
			t.Reasons[r] += float64(n)
		}
	}
	return t
}

// Rate is complaints per delivered message, capped at 1; 0 with nothing
// delivered.
func (t ComplaintTotals) Rate() float64 { return ratioCapped(t.Complaints, t.Delivered) }

// UnfollowRate is unfollows per delivered message, capped at 1. With one
// broadcast a day to every follower it approximates the share of followers
// lost per broadcast.
func (t ComplaintTotals) UnfollowRate() float64 { return ratioCapped(t.Unfollows, t.Delivered) }

// Lower is the Wilson lower bound, at 95% confidence, of the complaint rate:
// the rate the account can be held to given how few messages it may have
// delivered.
func (t ComplaintTotals) Lower() float64 { return WilsonLower(t.Complaints, t.Delivered, wilsonZ) }

// complaintMetrics are the value names of the complaint_rate signal.
func complaintMetrics() []string {
	return append([]string{"complaints", "delivered", "rate", "wilson_lower", "unfollows", "unfollow_rate"}, reasonKeys[:]...)
}

// value answers one of complaintMetrics without allocating.
func (t ComplaintTotals) value(name string) (float64, bool) {
	switch name {
	case "complaints":
		return t.Complaints, true
	case "delivered":
		return t.Delivered, true
	case "rate":
		return t.Rate(), true
	case "wilson_lower":
		return t.Lower(), true
	case "unfollows":
		return t.Unfollows, true
	case "unfollow_rate":
		return t.UnfollowRate(), true
	}
	for i, k := range reasonKeys {
		if k == name {
			return t.Reasons[i], true
		}
	}
	return 0, false
}

// Signal reports the window ending at now.
func (c *ComplaintRate) Signal(now int64) moderation.Signal {
	t := c.Totals(now)
	rate, lower := t.Rate(), t.Lower()
	names := complaintMetrics()
	values := make(map[string]float64, len(names))
	for _, name := range names {
		values[name], _ = t.value(name)
	}

	var b strings.Builder
	b.WriteString(countNoun(t.Complaints, "complaint"))
	if t.Delivered > 0 {
		fmt.Fprintf(&b, " on %s delivered messages in %d days (%s; at least %s with 95%% confidence)",
			groupDigits(t.Delivered), complaintDays, fmtPercent(rate), fmtPercent(lower))
	} else {
		fmt.Fprintf(&b, " and no delivered messages in %d days", complaintDays)
	}
	// Reasons, most frequent first; ties keep the order of ComplaintReasons.
	order := [len(ComplaintReasons)]int{0, 1, 2, 3, 4, 5}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && t.Reasons[order[j]] > t.Reasons[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	sep := ": "
	for _, r := range order {
		if t.Reasons[r] > 0 {
			fmt.Fprintf(&b, "%s%s %s", sep, groupDigits(t.Reasons[r]), ComplaintReasons[r])
			sep = ", "
		}
	}
	if t.Unfollows > 0 {
		fmt.Fprintf(&b, "; %s", countNoun(t.Unfollows, "unfollow"))
		if t.Delivered > 0 {
			fmt.Fprintf(&b, " (%s of delivered)", fmtPercent(t.UnfollowRate()))
		}
	}
	return moderation.Signal{Name: "complaint_rate", Values: values, Evidence: b.String()}
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (c *ComplaintRate) Bytes() int64 { return int64(unsafe.Sizeof(*c)) }

// WilsonLower is the lower bound of the Wilson score interval for a
// proportion of successes in trials at normal quantile z (1.96 for 95%).
// Unlike the raw proportion it grows with the evidence: 1 in 20 gives about
// 0.009, while 1,000 in 50,000 gives about 0.019. It is 0 with no trials;
// successes above trials are taken as trials.
func WilsonLower(successes, trials, z float64) float64 {
	if trials <= 0 || successes <= 0 {
		return 0
	}
	successes = min(successes, trials)
	p := successes / trials
	z2 := z * z
	centre := p + z2/(2*trials)
	margin := z * math.Sqrt(p*(1-p)/trials+z2/(4*trials*trials))
	return max(0, (centre-margin)/(1+z2/trials))
}

func complaintReason(reason string) int {
	for i, r := range ComplaintReasons[:reasonOther] {
		if reason == r {
			return i
		}
	}
	return reasonOther
}

// utcDay is the UTC day number of unix time t, rounding down before 1970.
func utcDay(t int64) int64 { return floorDiv(t, 86400) }

func addSaturating32(v uint32, n uint64) uint32 {
	return uint32(min(uint64(v)+n, math.MaxUint32))
}

func ratioCapped(n, d float64) float64 {
	if d <= 0 {
		return 0
	}
	return min(n/d, 1)
}

// fmtPercent formats a proportion as a percentage with two decimals.
func fmtPercent(p float64) string { return strconv.FormatFloat(p*100, 'f', 2, 64) + "%" }

// countNoun formats a count with its noun: "1 complaint", "1,200 complaints".
func countNoun(n float64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupDigits(n) + " " + noun + "s"
}

// groupDigits formats a whole count with thousands separators: 4,800.
func groupDigits(n float64) string { return console.FormatInt(int64(n)) }
