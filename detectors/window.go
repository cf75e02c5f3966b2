package detectors

// window counts events in a sliding window of event time, kept as a ring of
// fixed-width buckets. Sliding (rather than fixed calendar windows) means a
// burst split across a window edge is still seen as one burst. The window
// covers between (n-1) and n bucket widths, so the granularity is one bucket.
type window struct {
	width  int64    // seconds per bucket
	head   int64    // bucket number (unix seconds / width) of the newest bucket
	counts []uint32 // ring of bucket counts
}

func newWindow(width int64, buckets int) window {
	return window{width: width, counts: make([]uint32, buckets)}
}

// add counts n events at unix time at. Events older than the window are
// dropped; the window only moves forward.
func (w *window) add(at int64, n uint32) {
	b := at / w.width
	size := int64(len(w.counts))
	if b > w.head {
		// Clear the buckets the window slid past, at most the whole ring.
		gap := b - w.head
		if gap > size {
			gap = size
		}
		for i := int64(1); i <= gap; i++ {
			w.counts[(w.head+i)%size] = 0
		}
		w.head = b
	}
	if b <= w.head-size {
		return
	}
	w.counts[b%size] += n
}

// sum is the count in the window ending at unix time now.
func (w *window) sum(now int64) uint32 {
	b := now / w.width
	size := int64(len(w.counts))
	var total uint32
	for i := int64(0); i < size; i++ {
		bucket := b - i
		if bucket > w.head {
			continue
		}
		if bucket <= w.head-size {
			break
		}
		total += w.counts[bucket%size]
	}
	return total
}

func (w *window) bytes() int64 { return 24 + 4*int64(len(w.counts)) }
