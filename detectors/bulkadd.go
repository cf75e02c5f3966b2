// Package detectors turns an account's events into signals: named
// measurements with evidence a person can read. Detectors work in event
// time only, so a replay reproduces what was seen live, and they never
// decide anything; policies do. Nothing here knows about NATS or OPA.
package detectors

import (
	"fmt"
	"hash/maphash"
	"time"

	"moderation/internal/moderation"
)

// maxRecentTargets caps the per-account memory spent on counting distinct
// targets; past it, the distinct count saturates at the cap, which is far
// above any level a policy watches.
const maxRecentTargets = 1024

var targetSeed = maphash.MakeSeed()

// BulkAdd tracks the friend requests one account sends: how many in the
// sliding hour, how many of those to strangers, and to how many distinct
// people.
type BulkAdd struct {
	hour          window // all requests, 1-minute buckets
	hourStrangers window // requests from search, groups and other stranger sources
	recent        []target
}

type target struct {
	hash uint64
	at   int64
}

// NewBulkAdd returns an empty tracker.
func NewBulkAdd() BulkAdd {
	return BulkAdd{hour: newWindow(60, 60), hourStrangers: newWindow(60, 60)}
}

// Observe counts one friend request sent at.
func (b *BulkAdd) Observe(at time.Time, f *moderation.FriendAdd) {
	t := at.Unix()
	b.hour.add(t, 1)
	if f.Source.Stranger() {
		b.hourStrangers.add(t, 1)
	}
	if len(b.recent) == maxRecentTargets {
		// Drop the older half at once so the cost per request stays constant.
		n := copy(b.recent, b.recent[maxRecentTargets/2:])
		b.recent = b.recent[:n]
	}
	b.recent = append(b.recent, target{hash: maphash.String(targetSeed, f.Target), at: t})
}

// Hour is the number of requests in the hour ending at now.
func (b *BulkAdd) Hour(now int64) float64 { return float64(b.hour.sum(now)) }

// HourStrangers is the number of requests to strangers in the hour ending at now.
func (b *BulkAdd) HourStrangers(now int64) float64 { return float64(b.hourStrangers.sum(now)) }

// DistinctTargetsHour counts the distinct people requested in the hour
// ending at now. It is only computed when a signal is built, not per event.
func (b *BulkAdd) DistinctTargetsHour(now int64) int {
	seen := make(map[uint64]struct{}, len(b.recent))
	for _, r := range b.recent {
		if r.at > now-3600 && r.at <= now {
			seen[r.hash] = struct{}{}
		}
	}
	return len(seen)
}

// Signal reports the tracker's state at now.
func (b *BulkAdd) Signal(now int64) moderation.Signal {
	hour := b.Hour(now)
	strangers := b.HourStrangers(now)
	distinct := b.DistinctTargetsHour(now)
	share := 0.0
	if hour > 0 {
		share = strangers / hour
	}
	evidence := fmt.Sprintf("%d friend requests in the last hour, %d (%.0f%%) to strangers found by search or in groups, %d distinct people",
		int(hour), int(strangers), share*100, distinct)
	return moderation.Signal{
		Name: "bulk_add",
		Values: map[string]float64{
			"hour":                  hour,
			"hour_strangers":        strangers,
			"distinct_targets_hour": float64(distinct),
			"stranger_share":        share,
		},
		Evidence: evidence,
	}
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (b *BulkAdd) Bytes() int64 {
	return b.hour.bytes() + b.hourStrangers.bytes() + 24 + 16*int64(cap(b.recent))
}
