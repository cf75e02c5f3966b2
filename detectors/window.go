package detectors

import "math"

// buckets are the bucket arrays a ring can have: a minute of 10-second
// buckets, an hour or a day of twelve, a month of days.
type buckets interface {
	[6]uint16 | [12]uint16 | [30]uint16
}

// ring counts events in a sliding window of event time, as a ring of
// fixed-width buckets. Sliding (rather than calendar) windows mean a burst
// split across a window edge is still one burst. The window covers between
// (n-1) and n bucket widths: the granularity is one bucket. Buckets are
// uint16 and saturate, and the ring is a fixed array with the newest
// bucket's number beside it and nothing else (the width is the owner's
// constant, passed to each call), so an hour's window costs 28 bytes and a
// month of days 64 whatever the traffic: a million accounts' windows fit
// in memory.
//
// Every method is total over int64 time: bucket numbers are taken with
// floor division (so 1969 counts like any other year) and clamped to what
// head holds (about ±680 years around 1970 for 10-second buckets, far more
// for wider ones), so no time, however absurd, panics or wraps. Validation
// keeps absurd times out in the first place (events.Validate); this is the
// second line.
type ring[B buckets] struct {
	head int32 // bucket number (floor of unix seconds / width) of the newest bucket, clamped
	c    B
}

// Bucket numbers are clamped to [minBucket, maxBucket]: head-size and
// head+size never leave int64 arithmetic's comfort, and head stays an int32.
const (
	minBucket = math.MinInt32 + 64
	maxBucket = math.MaxInt32
)

// bucket is the clamped bucket number of unix time at.
func bucket(at, width int64) int64 { return clampBucket(floorDiv(at, width)) }

// add counts n events at unix time at, in buckets of width seconds. Events
// older than the window are dropped; the window only moves forward, except
// that an empty ring takes the first event's time as its start wherever it
// falls (its zero head would otherwise read as 1970 and drop anything
// before it).
func (r *ring[B]) add(at, width int64, n uint16) {
	b := bucket(at, width)
	size := int64(len(r.c))
	head := int64(r.head)
	switch {
	case b > head:
		gap := min(b-head, size) // clear the buckets the window slid past
		for i := int64(1); i <= gap; i++ {
			r.c[floorMod(head+i, size)] = 0
		}
		r.head = int32(b)
	case b <= head-size:
		if !r.empty() {
			return // older than the window
		}
		r.head = int32(b) // empty: every bucket is zero, nothing to clear
	}
	i := floorMod(b, size)
	r.c[i] += min(n, math.MaxUint16-r.c[i])
}

func (r *ring[B]) empty() bool {
	for i := range len(r.c) {
		if r.c[i] != 0 {
			return false
		}
	}
	return true
}

// sum is the count in the window ending at unix time now.
func (r *ring[B]) sum(now, width int64) uint32 {
	return r.last(now, width, len(r.c))
}

// last is the count in the newest k buckets of the window ending at unix
// time now (k at most the ring's size): a month of days answers for the
// week too.
func (r *ring[B]) last(now, width int64, k int) uint32 {
	size := int64(len(r.c))
	head := int64(r.head)
	b := bucket(now, width)
	// The buckets counted are those among the newest k at now that the ring
	// still holds: from lo to hi, walked down from hi's slot.
	hi, lo := min(b, head), max(b-int64(k)+1, head-size+1)
	var total uint32
	for i, n := floorMod(hi, size), hi-lo+1; n > 0; n-- {
		total += uint32(r.c[i])
		if i == 0 {
			i = size
		}
		i--
	}
	return total
}

// floorDiv is a/b rounded towards minus infinity, for b > 0: bucket and day
// numbers before 1970 then step like those after it.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// floorMod is a mod b in [0, b), for b > 0.
func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func clampBucket(b int64) int64 { return min(max(b, minBucket), maxBucket) }
