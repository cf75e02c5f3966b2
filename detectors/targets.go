package detectors

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"moderation/internal/moderation"
)

// Shared targets: dozens of young accounts that each stay under the
// per-account levels while adding strangers from one pool of targets
// (coordinated harvesting). The index is keyed by the friend request's
// target and holds the young accounts that added it as a stranger within
// the window; an account's ring is the young accounts that added at least
// ringMinShared of the same targets. One shared target is coincidence
// (everyone searches for the same celebrity); a pool is not.
//
// Like Destinations it is a ring of observations in arrival order, bounded
// by maxEntries and expiring in event time, with counts per target and per
// adder kept alongside. Not safe for concurrent use; answers depend only
// on the live observations, not on the order they came in.
type Targets struct {
	window     int64 // seconds
	maxEntries int

	entries     []targetEntry
	first, next uint64
	byTarget    map[uint64]map[uint64]int32 // target → young adder → live entries
	byAdder     map[uint64]map[uint64]int32 // young adder → target → live entries
}

type targetEntry struct {
	target, adder uint64 // FNV-1a of the ids
	at            int64
}

const (
	// ringMinShared is how many targets another account must share with
	// this one to be in its ring.
	ringMinShared = 2
	// ringMinOthers: a target is shared when at least this many other
	// young accounts added it. One: a ring that spreads its members over
	// a large pool, and pads their requests with strangers of their own,
	// has most of its pool targets drawn by one other member only (with
	// two, a probe's rings of 20 drawing half their targets from a pool
	// 15 times their size had 17 of 20 go unlimited; with one, 12). The ring
	// still needs its members to share targets with many accounts.
	ringMinOthers = 1
	// ringPopularTarget: a target more young accounts than this added is a
	// public figure, counted as shared but not walked for ring members, so
	// no target can make one friend request cost a scan of thousands.
	ringPopularTarget = 1024
	// ringSample is how many of an account's targets one reading walks.
	ringSample = 128
)

// Ring is an account's coordinated-harvesting picture.
type Ring struct {
	// Accounts: young accounts sharing at least ringMinShared of this
	// account's recent stranger targets, this one included.
	Accounts int32
	// Targets: this account's distinct stranger targets in the window;
	// Shared: how many of them at least ringMinOthers other young
	// accounts also added.
	Targets, Shared int32

	// When it was read (unix seconds) and requests recorded since, so an
	// account adding fast reads it at a bounded rate (Update).
	at    int64
	since int32
}

// ringEvery: a kept ring is read again once this much event time has
// passed, or once the account has added an eighth of its targets again.
const ringEvery = 10 * 60

// Overlap is the share of the account's targets that are shared.
func (r Ring) Overlap() float64 {
	if r.Targets == 0 {
		return 0
	}
	return float64(r.Shared) / float64(r.Targets)
}

// NewTargets returns an index over window of event time holding at most
// maxEntries friend requests.
func NewTargets(window time.Duration, maxEntries int) *Targets {
	return &Targets{window: int64(window / time.Second), maxEntries: max(maxEntries, 1),
		byTarget: map[uint64]map[uint64]int32{}, byAdder: map[uint64]map[uint64]int32{}}
}

// Observe records that a young account asked target, a stranger, to be
// its friend at, and returns the account's ring.
func (t *Targets) Observe(account string, at time.Time, target string) Ring {
	return t.ring(t.add(account, at, target))
}

// add records the request and returns the adder's hash.
func (t *Targets) add(account string, at time.Time, target string) uint64 {
	now := at.Unix()
	t.evict(now)
	e := targetEntry{target: fnv64(target), adder: fnv64(account), at: now}
	inc(t.byTarget, e.target, e.adder)
	inc(t.byAdder, e.adder, e.target)
	if len(t.entries) < t.maxEntries {
		t.entries = append(t.entries, e)
	} else {
		t.entries[t.next%uint64(t.maxEntries)] = e
	}
	t.next++
	return e.adder
}

// Update records a young account's stranger request, like Observe, and
// reads the account's ring again into r (nil: a new one) when it is due:
// on the first requests, then every ringEvery seconds of event time or
// every eighth of its targets, so a fast adder in a large ring does not
// pay for a full reading on every request.
func (t *Targets) Update(r *Ring, account string, at time.Time, target string) *Ring {
	t.add(account, at, target)
	if r != nil {
		r.since++
	}
	return t.Refresh(r, account, at)
}

// Refresh reads the account's ring again into r when it is due (see
// Update); nil reads it into a new one.
func (t *Targets) Refresh(r *Ring, account string, at time.Time) *Ring {
	now := at.Unix()
	if r != nil && r.since < max(1, r.Targets/8) && now >= r.at && now-r.at < ringEvery {
		return r
	}
	if r == nil {
		r = &Ring{}
	}
	*r = t.Ring(account)
	r.at = now
	return r
}

// Ring returns account's ring from the live observations.
func (t *Targets) Ring(account string) Ring { return t.ring(fnv64(account)) }

func (t *Targets) ring(adder uint64) Ring {
	targets := t.byAdder[adder]
	r := Ring{Accounts: 1, Targets: int32(len(targets))}
	// Walk a sample of at most ringSample targets: those whose mixed
	// hashes are smallest, a uniform choice that depends only on which
	// targets the account added, not on their order. Up to ringSample
	// targets the answer is exact; past it, Shared is scaled up from the
	// sample and ring members are those sharing ringMinShared sampled
	// targets, so one request costs at most ringSample × ringPopularTarget
	// steps however large the ring.
	sample := make([]uint64, 0, len(targets))
	for target := range targets {
		sample = append(sample, target)
	}
	if len(sample) > ringSample {
		slices.SortFunc(sample, func(a, b uint64) int { return cmp.Compare(mix64(a), mix64(b)) })
		sample = sample[:ringSample]
	}
	var co map[uint64]int32
	shared := 0
	for _, target := range sample {
		adders := t.byTarget[target]
		if len(adders)-1 >= ringMinOthers {
			shared++
		}
		if len(adders) < 2 || len(adders) > ringPopularTarget {
			continue
		}
		if co == nil {
			co = map[uint64]int32{}
		}
		for other := range adders {
			if other != adder {
				co[other]++
			}
		}
	}
	r.Shared = int32(shared)
	if len(sample) < len(targets) {
		r.Shared = int32(math.Round(float64(shared) * float64(len(targets)) / float64(len(sample))))
	}
	for _, n := range co {
		if n >= ringMinShared {
			r.Accounts++
		}
	}
	return r
}

func inc(m map[uint64]map[uint64]int32, k, v uint64) {
	inner := m[k]
	if inner == nil {
		inner = map[uint64]int32{}
		m[k] = inner
	}
	inner[v]++
}

func dec(m map[uint64]map[uint64]int32, k, v uint64) {
	inner := m[k]
	if inner[v]--; inner[v] <= 0 {
		delete(inner, v)
		if len(inner) == 0 {
			delete(m, k)
		}
	}
}

// evict drops entries older than the window before now, and the oldest
// when the ring is full.
func (t *Targets) evict(now int64) {
	for t.first < t.next {
		e := &t.entries[t.first%uint64(t.maxEntries)]
		if t.next-t.first < uint64(t.maxEntries) && e.at > now-t.window {
			return
		}
		dec(t.byTarget, e.target, e.adder)
		dec(t.byAdder, e.adder, e.target)
		t.first++
	}
}

// Len is the number of live friend requests held.
func (t *Targets) Len() int { return int(t.next - t.first) }

// Bytes estimates the index's memory: the ring and both count maps
// (about 40 bytes a map entry, 150 a map).
func (t *Targets) Bytes() int64 {
	n := int64(cap(t.entries)) * 24
	for _, m := range []map[uint64]map[uint64]int32{t.byTarget, t.byAdder} {
		for _, inner := range m {
			n += 150 + 40*int64(len(inner))
		}
	}
	return n
}

// ringMetrics are the value names of the shared_targets signal.
var ringMetrics = []string{"ring_accounts", "overlap", "shared"}

func (r Ring) value(name string) (float64, bool) {
	switch name {
	case "ring_accounts":
		return float64(r.Accounts), true
	case "overlap":
		return r.Overlap(), true
	case "shared":
		return float64(r.Shared), true
	}
	return 0, false
}

// signal reports the ring as it stood at the account's latest stranger
// request.
func (r Ring) signal(t *Targets) moderation.Signal {
	values := make(map[string]float64, len(ringMetrics))
	for _, n := range ringMetrics {
		values[n], _ = r.value(n)
	}
	days := groupDigits(float64(t.window / 86400))
	var evidence string
	switch {
	case r.Shared == 0:
		evidence = fmt.Sprintf("none of the %s strangers this young account asked to be friends in %s days was also asked by %d or more other young accounts",
			groupDigits(float64(r.Targets)), days, ringMinOthers)
	default:
		evidence = fmt.Sprintf("%s of the %s strangers this young account asked to be friends in %s days (%s) were also asked by %d or more other young accounts; %s young accounts asked at least %d of the same people",
			groupDigits(float64(r.Shared)), groupDigits(float64(r.Targets)), days, fmtPercent(r.Overlap()), ringMinOthers, groupDigits(float64(r.Accounts-1)), ringMinShared)
	}
	return moderation.Signal{Name: "shared_targets", Values: values, Evidence: evidence}
}
