package pipeline

import (
	"math"
	"sync"
	"time"
)

// gate lets the lanes of one process count events in stream order: a lane
// holding event seq waits until no other lane holds an earlier one. The
// cross-account indexes (campaigns, destinations, shared targets,
// reporters) are fed as events are counted, so this keeps what they say at
// each event the same as one consumer reading the stream would, while the
// slow part of an event (the policy and the writes) runs in parallel
// after it. It orders what lanes hold, not what is still on its way from
// the server: the events stream numbers its events without gaps, so a
// lane holding the next sequence goes at once, and one holding a later
// sequence waits while a lane is idle (its events may be on their way),
// at most gateWait, for the gap is also what other instances' partitions
// or events acknowledged before a restart leave. Events a few
// milliseconds apart may then be counted out of order; the indexes'
// windows are hours long.
type gate struct {
	mu    sync.Mutex
	heads []uint64        // per lane: the sequence it waits to count, idle when none
	wake  []chan struct{} // per lane: its turn may have come
	next  uint64          // the sequence after the last one counted
}

// gateWait bounds how long a lane waits for earlier events that may be on
// their way to an idle lane.
const gateWait = 20 * time.Millisecond

const idle = math.MaxUint64

func newGate(lanes int) *gate {
	g := &gate{heads: make([]uint64, lanes), wake: make([]chan struct{}, lanes)}
	for i := range g.heads {
		g.heads[i] = idle
		g.wake[i] = make(chan struct{}, 1)
	}
	return g
}

// enter waits until seq is the earliest sequence any lane holds.
func (g *gate) enter(lane int, seq uint64) {
	g.mu.Lock()
	g.heads[lane] = seq
	var timeout <-chan time.Time
	for {
		if g.first() == lane {
			if seq == g.next || g.next == 0 || !g.anyIdle() {
				break
			}
			if timeout == nil {
				timeout = time.After(gateWait)
			}
		}
		g.mu.Unlock()
		select {
		case <-g.wake[lane]:
		case <-timeout:
			g.mu.Lock()
			if g.first() == lane {
				g.mu.Unlock()
				return
			}
			g.mu.Unlock()
			timeout = nil
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
}

// anyIdle reports whether some lane holds nothing. Callers hold mu.
func (g *gate) anyIdle() bool {
	for _, h := range g.heads {
		if h == idle {
			return true
		}
	}
	return false
}

// leave marks the lane idle and wakes the lane whose turn it now is.
func (g *gate) leave(lane int) {
	g.mu.Lock()
	g.next = max(g.next, g.heads[lane]+1)
	g.heads[lane] = idle
	next := g.first()
	g.mu.Unlock()
	if next >= 0 {
		select {
		case g.wake[next] <- struct{}{}:
		default: // already woken
		}
	}
}

// first is the lane holding the earliest sequence, -1 when all are idle.
// Callers hold mu.
func (g *gate) first() int {
	best, at := uint64(idle), -1
	for i, h := range g.heads {
		if h < best {
			best, at = h, i
		}
	}
	return at
}
