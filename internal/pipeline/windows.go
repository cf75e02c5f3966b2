package pipeline

import (
	"strings"
	"sync"
)

// windowStore holds every account's detector window, bounded by the
// windows' declared costs. It is a plain map rather than ristretto (which
// the module uses elsewhere): ristretto's own bookkeeping costs about 170
// bytes an entry plus some 35 MB of admission counters (a map slot and a
// copy of the id cost about 60), which kept a million accounts out of any
// sane bound, and its admission policy and asynchronous sets may drop a
// new account's window, so a slow drip could start afresh. Here a
// window stays until the bound is reached, and then the coldest, judged by
// event time, make room: the account whose newest event is oldest among a
// sample (as Redis approximates LRU), so an account that keeps acting keeps
// its windows. It has a lock of its own because the rebuild observes
// events outside the pipeline's.
type windowStore struct {
	mu      sync.Mutex
	m       map[string]*window
	maxCost int64
	cost    int64
	evicted uint64
}

// evictionSample is how many accounts are compared to pick the coldest,
// evictionRun of them from each randomly started iteration.
const (
	evictionSample = 16
	evictionRun    = 2
)

// newWindowStore holds windows up to maxBytes of their declared costs.
func newWindowStore(maxBytes int64) *windowStore {
	return &windowStore{m: make(map[string]*window), maxCost: maxBytes}
}

// Get returns the account's window.
func (s *windowStore) Get(account string) (*window, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.m[account]
	return w, ok
}

// Set stores the account's window, or updates its cost, and evicts the
// coldest other windows while the total is over the bound.
func (s *windowStore) Set(account string, w *window, cost int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[account]; ok {
		s.cost -= old.cost
	} else {
		account = strings.Clone(account) // keep the id, not the buffer it came in
	}
	w.cost = cost
	s.m[account] = w
	s.cost += cost
	for s.cost > s.maxCost && len(s.m) > 1 {
		s.evictColdest(account)
	}
}

// evictColdest drops the window with the oldest newest event among a sample
// of accounts, never the one being set. The sample is taken as a few
// entries from each of several map iterations, since each starts at a
// random place: consecutive entries of one iteration share the table's
// groups, which deletions and inserts leave holding entries of like age,
// and sixteen in a row were measured to pick a current account as the
// "coldest" often enough to drop a slow drip's history.
func (s *windowStore) evictColdest(keep string) {
	var (
		victim string
		oldest *window
	)
	for range evictionSample / evictionRun {
		n := 0
		for k, w := range s.m {
			if k == keep {
				continue
			}
			if oldest == nil || w.det.Last < oldest.det.Last {
				victim, oldest = k, w
			}
			if n++; n == evictionRun {
				break
			}
		}
	}
	s.cost -= oldest.cost
	delete(s.m, victim)
	s.evicted++
}

// Len is the number of accounts held.
func (s *windowStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Evicted is the number of windows dropped to stay within the bound.
func (s *windowStore) Evicted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evicted
}
