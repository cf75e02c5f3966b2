// Package detectors turns an account's events into signals: named
// measurements with evidence a person can read. Detectors work in event
// time only, so a replay reproduces what was seen live, and they never
// decide anything; policies do. Nothing here knows about NATS or OPA.
package detectors

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"moderation/internal/moderation"
)

// maxRecentTargets caps the memory spent on counting distinct targets; past
// it the count saturates, well above the levels a policy compares.
const maxRecentTargets = 512

// BulkAdd tracks the friend requests one account sends: how many in the
// sliding minute, hour and day, how many of those to strangers, to how
// many distinct people, how the people asked answered, and, over the
// sliding week and month, how many strangers it asked (the slow drip that
// stays under every daily level).
type BulkAdd struct {
	minute            ring[[6]uint16]  // 10-second buckets
	hour              ring[[12]uint16] // 5-minute buckets
	hourStrangers     ring[[12]uint16]
	day, dayStrangers ring[[12]uint16] // 2-hour buckets
	monthStrangers    ring[[30]uint16] // day buckets; the newest 7 are the week
	recent            []target
	answers           *answers // allocated on the first answer: most accounts never get one reported
}

// Bucket widths, in seconds.
const (
	minuteWidth = 10
	hourWidth   = 300
	dayWidth    = 7200
	monthWidth  = 86400
	weekDays    = 7
	monthDays   = 30 // monthStrangers's buckets
)

// answers counts, over the sliding day, how targets responded, and, over
// the sliding 30 days, how the strangers asked did: whether the people an
// account woken from a long silence asks know it (BulkAdd.ObserveAnswer).
type answers struct {
	all, reported, rejected      ring[[12]uint16]
	strangers, strangersRejected ring[[30]uint16] // day buckets
}

// target is one person asked: the hash of who, with its lowest bits saying
// whether they were asked as a stranger (strangerBit) and whether found in
// a group (groupBit), and when.
type target struct {
	hash uint32
	at   uint32 // unix seconds; enough until 2106
}

// strangerBit marks a target asked as a stranger, groupBit one of those
// found in a group (a group's admin adds its members so); the other 30
// bits are the target's hash, which is what tells targets apart.
const (
	strangerBit = 1
	groupBit    = 2
	targetFlags = strangerBit | groupBit
)

func (t target) who() uint32 { return t.hash &^ targetFlags }

func targetHash(id string) uint32 { return uint32(mix64(fnv64(id))) &^ targetFlags }

// NewBulkAdd returns an empty tracker.
func NewBulkAdd() BulkAdd { return BulkAdd{} }

// Observe counts one friend request sent at.
func (b *BulkAdd) Observe(at time.Time, f *moderation.FriendAdd) {
	t := at.Unix()
	b.minute.add(t, minuteWidth, 1)
	b.hour.add(t, hourWidth, 1)
	b.day.add(t, dayWidth, 1)
	if f.Source.Stranger() {
		b.hourStrangers.add(t, hourWidth, 1)
		b.dayStrangers.add(t, dayWidth, 1)
		b.monthStrangers.add(t, monthWidth, 1)
	}
	if len(b.recent) == maxRecentTargets {
		// Drop the older half at once so the cost per request stays constant.
		n := copy(b.recent, b.recent[maxRecentTargets/2:])
		b.recent = b.recent[:n]
	}
	// Unseeded, like the cross-account indexes' hashes: a snapshot taken by
	// one process is read by the next, and the same target must hash the
	// same in both.
	h := targetHash(f.Target)
	if f.Source.Stranger() {
		h |= strangerBit
	}
	if f.Source == moderation.SourceGroup {
		h |= groupBit
	}
	b.recent = append(b.recent, target{hash: h, at: targetTime(t)})
}

// ObserveAnswer counts a target's response to one of the account's requests.
func (b *BulkAdd) ObserveAnswer(at time.Time, r *moderation.FriendResponse) {
	if b.answers == nil {
		b.answers = &answers{}
	}
	t := at.Unix()
	b.answers.all.add(t, dayWidth, 1)
	rejected := r.Response == "reported" || r.Response == "ignored"
	if r.Response == "reported" {
		b.answers.reported.add(t, dayWidth, 1)
	}
	if rejected {
		b.answers.rejected.add(t, dayWidth, 1)
	}
	// Only the answers of people asked as strangers say whether strangers
	// know the account: a bought account's few requests to its own
	// contacts, all accepted, must not outweigh the strangers who ignore it.
	if b.askedAsStranger(r.Target) {
		b.answers.strangers.add(t, monthWidth, 1)
		if rejected {
			b.answers.strangersRejected.add(t, monthWidth, 1)
		}
	}
}

// askedAsStranger reports whether the newest request to target still kept
// (the last maxRecentTargets/2 to maxRecentTargets of them) went to it as a
// stranger. An answer to a request no longer kept is not counted: by then
// the account has sent hundreds more.
func (b *BulkAdd) askedAsStranger(targetID string) bool {
	h := targetHash(targetID)
	for i := len(b.recent) - 1; i >= 0; i-- {
		if b.recent[i].who() == h {
			return b.recent[i].hash&strangerBit != 0
		}
	}
	return false
}

// strangersOutsideGroups counts the requests kept (the last
// maxRecentTargets/2 to maxRecentTargets) sent at or after since to
// strangers not found in a group: by search or otherwise. It walks the
// requests, so it is asked only of accounts that woke from a silence
// (Account.Value), which are few.
func (b *BulkAdd) strangersOutsideGroups(since int64) int {
	n := 0
	for i := len(b.recent) - 1; i >= 0 && int64(b.recent[i].at) >= since; i-- {
		if b.recent[i].hash&targetFlags == strangerBit {
			n++
		}
	}
	return n
}

// targetTime is unix time t as a target keeps it: clamped to 1970-2106,
// which holds every time validation lets through, so none wraps.
func targetTime(t int64) uint32 { return uint32(min(max(t, 0), math.MaxUint32)) }

// Value answers the cheap metrics by name at now; ok is false for names it
// does not report.
func (b *BulkAdd) Value(name string, now int64) (v float64, ok bool) {
	switch name {
	case "minute":
		return float64(b.minute.sum(now, minuteWidth)), true
	case "hour":
		return float64(b.hour.sum(now, hourWidth)), true
	case "day":
		return float64(b.day.sum(now, dayWidth)), true
	case "hour_strangers":
		return float64(b.hourStrangers.sum(now, hourWidth)), true
	case "day_strangers":
		return float64(b.dayStrangers.sum(now, dayWidth)), true
	case "week_strangers":
		return float64(b.monthStrangers.last(now, monthWidth, weekDays)), true
	case "month_strangers":
		return float64(b.monthStrangers.sum(now, monthWidth)), true
	case "month_stranger_answers", "month_stranger_reject_ratio":
		if b.answers == nil {
			return 0, true
		}
		all := float64(b.answers.strangers.sum(now, monthWidth))
		switch {
		case name == "month_stranger_answers":
			return all, true
		case all == 0:
			return 0, true
		default:
			return float64(b.answers.strangersRejected.sum(now, monthWidth)) / all, true
		}
	case "responses", "report_ratio", "reject_ratio":
		if b.answers == nil {
			return 0, true
		}
		all := float64(b.answers.all.sum(now, dayWidth))
		switch {
		case name == "responses":
			return all, true
		case all == 0:
			return 0, true
		case name == "report_ratio":
			return float64(b.answers.reported.sum(now, dayWidth)) / all, true
		default:
			return float64(b.answers.rejected.sum(now, dayWidth)) / all, true
		}
	}
	return 0, false
}

// bulkMetrics are the names Value answers.
var bulkMetrics = []string{"minute", "hour", "day", "hour_strangers", "day_strangers", "week_strangers", "month_strangers", "responses", "report_ratio", "reject_ratio", "month_stranger_answers", "month_stranger_reject_ratio"}

// DistinctTargetsHour counts the distinct people requested in the hour
// ending at now. It is computed when a signal is built, not per event.
func (b *BulkAdd) DistinctTargetsHour(now int64) int {
	seen := make(map[uint32]struct{}, len(b.recent))
	now = int64(targetTime(now)) // compared on the scale the targets were kept on
	for _, r := range b.recent {
		if int64(r.at) > now-3600 && int64(r.at) <= now {
			seen[r.who()] = struct{}{}
		}
	}
	return len(seen)
}

// Signal reports the tracker's state at now.
func (b *BulkAdd) Signal(now int64) moderation.Signal {
	values := make(map[string]float64, len(bulkMetrics)+2)
	for _, name := range bulkMetrics {
		values[name], _ = b.Value(name, now)
	}
	hour, strangers := values["hour"], values["hour_strangers"]
	if hour > 0 {
		values["stranger_share"] = strangers / hour
	}
	distinct := b.DistinctTargetsHour(now)
	values["distinct_targets_hour"] = float64(distinct)
	evidence := fmt.Sprintf("%d friend requests in the last hour, %d (%.0f%%) to strangers found by search or in groups, %d distinct people; %d in the last day, %d to strangers",
		int(hour), int(strangers), values["stranger_share"]*100, distinct, int(values["day"]), int(values["day_strangers"]))
	if week, month := values["week_strangers"], values["month_strangers"]; month > values["day_strangers"] {
		evidence += fmt.Sprintf("; %d to strangers in the last 7 days, %d in the last 30", int(week), int(month))
	}
	if values["responses"] > 0 {
		evidence += fmt.Sprintf("; of %d answers in the last day, %.0f%% reported the request and %.0f%% ignored or reported it",
			int(values["responses"]), values["report_ratio"]*100, values["reject_ratio"]*100)
	}
	if n := values["month_stranger_answers"]; n > 0 {
		evidence += fmt.Sprintf("; of %d strangers who answered in the last 30 days, %.0f%% ignored or reported the request",
			int(n), values["month_stranger_reject_ratio"]*100)
	}
	return moderation.Signal{Name: "bulk_add", Values: values, Evidence: evidence}
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (b *BulkAdd) Bytes() int64 {
	n := int64(unsafe.Sizeof(*b)) + 8*int64(cap(b.recent))
	if b.answers != nil {
		n += int64(unsafe.Sizeof(*b.answers))
	}
	return n
}

// withDormancy adds to an account's bulk_add signal the silence before its
// current run of activity (or that its past has no record), so a bought
// account's burst reads as what it is, and how many strangers it has asked
// since outside groups.
func withDormancy(s moderation.Signal, days, unrecorded, outsideGroups float64) moderation.Signal {
	s.Values["dormant_days"] = days
	s.Values["unrecorded"] = unrecorded
	s.Values["woken_outside_groups"] = outsideGroups
	switch {
	case days > 0:
		s.Evidence += fmt.Sprintf("; the account had been silent for %.0f days before this run of activity", days)
	case unrecorded > 0:
		s.Evidence += "; the account has no activity on record before this run of activity"
	}
	if (days > 0 || unrecorded > 0) && outsideGroups > 0 {
		s.Evidence += fmt.Sprintf(", and since then it asked %.0f strangers found outside groups", outsideGroups)
	}
	return s
}
