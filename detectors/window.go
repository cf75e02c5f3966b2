package detectors

import "math"

// ring counts events in a sliding window of event time, as a ring of
// fixed-width buckets with a running total. Sliding (rather than calendar)
// windows mean a burst split across a window edge is still one burst. The
// window covers between (n-1) and n bucket widths: the granularity is one
// bucket. Buckets are uint16 and saturate, and the ring is a fixed array,
// so a window costs 36 bytes whatever the traffic: a million accounts'
// windows fit in memory.
//
// Every method is total over int64 time: bucket numbers are taken with
// floor division (so 1969 counts like any other year) and clamped to what
// head holds (about ±2000 years around 1970 for 10-second buckets, far more
// for wider ones), so no time, however absurd, panics or wraps. Validation
// keeps absurd times out in the first place (events.Validate); this is the
// second line.
type ring struct {
	head  int32 // bucket number (floor of unix seconds / width) of the newest bucket, clamped
	total uint32
	width uint16 // seconds per bucket
	n     uint8  // buckets in use, at most len(c)
	c     [12]uint16
}

// Bucket numbers are clamped to [minBucket, maxBucket]: head-size and
// head+size never leave int64 arithmetic's comfort, and head stays an int32.
const (
	minBucket = math.MinInt32 + 16
	maxBucket = math.MaxInt32
)

func newRing(width int64, buckets int) ring {
	if buckets > len(ring{}.c) || width < 2 || width > 1<<16-1 {
		panic("ring: bucket count or width out of range")
	}
	return ring{width: uint16(width), n: uint8(buckets)}
}

// bucket is the clamped bucket number of unix time at.
func (r *ring) bucket(at int64) int64 {
	return clampBucket(floorDiv(at, int64(r.width)))
}

// slot is the index in c of bucket b.
func (r *ring) slot(b int64) *uint16 { return &r.c[floorMod(b, int64(r.n))] }

// add counts n events at unix time at. Events older than the window are
// dropped; the window only moves forward, except that an empty ring takes
// the first event's time as its start wherever it falls (its zero head
// would otherwise read as 1970 and drop anything before it).
func (r *ring) add(at int64, n uint16) {
	b := r.bucket(at)
	size := int64(r.n)
	head := int64(r.head)
	switch {
	case b > head:
		gap := min(b-head, size) // clear the buckets the window slid past
		for i := int64(1); i <= gap; i++ {
			slot := r.slot(head + i)
			r.total -= uint32(*slot)
			*slot = 0
		}
		r.head = int32(b)
	case b <= head-size:
		if r.total != 0 {
			return // older than the window
		}
		r.head = int32(b) // empty: every bucket is zero, nothing to clear
	}
	slot := r.slot(b)
	if room := math.MaxUint16 - *slot; n > room {
		n = room
	}
	*slot += n
	r.total += uint32(n)
}

// sum is the count in the window ending at unix time now.
func (r *ring) sum(now int64) uint32 {
	b := r.bucket(now)
	head := int64(r.head)
	if b == head {
		return r.total
	}
	size := int64(r.n)
	var total uint32
	for i := int64(0); i < size; i++ {
		bucket := b - i
		if bucket > head {
			continue
		}
		if bucket <= head-size {
			break
		}
		total += uint32(*r.slot(bucket))
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
