package detectors

import "math"

// ring counts events in a sliding window of event time, as a ring of
// fixed-width buckets with a running total. Sliding (rather than calendar)
// windows mean a burst split across a window edge is still one burst. The
// window covers between (n-1) and n bucket widths: the granularity is one
// bucket. Buckets are uint16 and saturate, and the ring is a fixed array,
// so a window costs 36 bytes whatever the traffic: a million accounts'
// windows fit in memory.
type ring struct {
	head  int32 // bucket number (unix seconds / width) of the newest bucket; fits for widths ≥ 2 s past 2100
	total uint32
	width uint16 // seconds per bucket
	n     uint8  // buckets in use, at most len(c)
	c     [12]uint16
}

func newRing(width int64, buckets int) ring {
	if buckets > len(ring{}.c) || width < 2 || width > 1<<16-1 {
		panic("ring: bucket count or width out of range")
	}
	return ring{width: uint16(width), n: uint8(buckets)}
}

// add counts n events at unix time at. Events older than the window are
// dropped; the window only moves forward.
func (r *ring) add(at int64, n uint16) {
	b := at / int64(r.width)
	size := int64(r.n)
	head := int64(r.head)
	if b > head {
		gap := min(b-head, size) // clear the buckets the window slid past
		for i := int64(1); i <= gap; i++ {
			slot := &r.c[(head+i)%size]
			r.total -= uint32(*slot)
			*slot = 0
		}
		r.head, head = int32(b), b
	}
	if b <= head-size {
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
		total += uint32(r.c[bucket%size])
	}
	return total
}
