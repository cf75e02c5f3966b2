package detectors

import "math"

// ring counts events in a sliding window of event time, as a ring of
// fixed-width buckets with a running total. Sliding (rather than calendar)
// windows mean a burst split across a window edge is still one burst. The
// window covers between (n-1) and n bucket widths: the granularity is one
// bucket. Buckets are uint16 and saturate, and the ring is a fixed array,
// so a window costs 40 bytes whatever the traffic: a million accounts'
// windows fit in memory.
type ring struct {
	head  int64 // bucket number (unix seconds / width) of the newest bucket
	width int32 // seconds per bucket
	n     int32 // buckets in use, at most len(c)
	total uint32
	c     [12]uint16
}

func newRing(width int64, buckets int) ring {
	if buckets > len(ring{}.c) {
		panic("ring: too many buckets")
	}
	return ring{width: int32(width), n: int32(buckets)}
}

// add counts n events at unix time at. Events older than the window are
// dropped; the window only moves forward.
func (r *ring) add(at int64, n uint16) {
	b := at / int64(r.width)
	size := int64(r.n)
	if b > r.head {
		gap := min(b-r.head, size) // clear the buckets the window slid past
		for i := int64(1); i <= gap; i++ {
			slot := &r.c[(r.head+i)%size]
			r.total -= uint32(*slot)
			*slot = 0
		}
		r.head = b
	}
	if b <= r.head-size {
		return
	}
	slot := &r.c[b%size]
	if room := math.MaxUint16 - *slot; n > room {
		n = room
	}
	*slot += n
	r.total += uint32(n)
}

// sum is the count in the window ending at unix time now.
func (r *ring) sum(now int64) uint32 {
	b := now / int64(r.width)
	if b == r.head {
		return r.total
	}
	size := int64(r.n)
	var total uint32
	for i := int64(0); i < size; i++ {
		bucket := b - i
		if bucket > r.head {
			continue
		}
		if bucket <= r.head-size {
			break
		}
		total += uint32(r.c[bucket%size])
	}
	return total
}
