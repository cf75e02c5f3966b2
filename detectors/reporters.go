package detectors

import (
	"slices"
	"time"
	"unique"
)

// Reporter credibility. A complaint is weighed by who filed it: reporters
// who, within a short span, complain about many different accounts (a
// brigade: together they can aim the complaint rate at anyone) and
// reporters who complain about far more accounts than is typical are
// discounted. Complaint events carry no reporter age, so "new to the
// platform" is not judged here.
//
// A brigade is only recognisable once its members have hit several
// targets, so credibility is decided when an account is judged, not when a
// complaint arrives: each account keeps its recent complaints (see
// complaintRecord) and asks this index about their reporters then.

// ReporterParams define what the index calls a brigade member and a
// prolific reporter. They define the signal, as campaignMaxDistance
// defines a campaign; the levels at which complaints limit an account are
// the policy's (policies/data.json).
type ReporterParams struct {
	// BrigadeTargets distinct accounts complained about within BrigadeSpan
	// make a reporter a brigade member for Window after the last of them.
	BrigadeTargets int
	BrigadeSpan    time.Duration
	// Judged per account: a reporter who, within Window, also complained
	// about BrigadeCoTargets other accounts that at least BrigadeShared of
	// the account's reporters complained about too is in a brigade with
	// them, however slowly it went about it.
	BrigadeShared    int
	BrigadeCoTargets int
	// Settle is how long a complaint waits before it counts as credible:
	// long enough for a brigade that spreads one wave over a couple of
	// hours to show itself, so the account it hit first is not judged on
	// its complaints before then.
	Settle time.Duration
	// A reporter is prolific when it complained about at least
	// ProlificMin accounts it had not just complained about within
	// Window, and at least ProlificFactor times the typical reporter.
	ProlificMin    int
	ProlificFactor float64
	// Window is how long a reporter is remembered after its last
	// complaint: the complaint window.
	Window time.Duration
	// MaxReporters bounds the index; past it, the reporter idle longest
	// is forgotten (its complaints then count as credible).
	MaxReporters int
}

// DefaultReporterParams: three accounts in an hour is a brigade, and so is
// complaining, within the week, about two more accounts that five or more
// of the same account's reporters also complained about; twenty new
// targets in a week, and ten times the typical reporter, is prolific. The
// index holds 100,000 reporters in about 45 MB, some 460 bytes each with
// their interned ids (BenchmarkReportersMemory).
var DefaultReporterParams = ReporterParams{
	BrigadeTargets:   3,
	BrigadeSpan:      time.Hour,
	BrigadeShared:    5,
	BrigadeCoTargets: 2,
	Settle:           2 * time.Hour,
	ProlificMin:      20,
	ProlificFactor:   10,
	Window:           complaintDays * 24 * time.Hour,
	MaxReporters:     100_000,
}

// reporterTargets is how many recent distinct targets a reporter keeps:
// enough to see BrigadeTargets of them within a span, and to list a
// brigade's other targets for review.
const reporterTargets = 8

// Reporters is the cross-account index of who complains about whom, keyed
// by reporter. One per service; not safe for concurrent use (the pipeline
// feeds it from one goroutine, in stream order). Every answer depends only
// on the sequence of Observe calls, so a replay reproduces it.
type Reporters struct {
	p       ReporterParams
	now     int64  // newest complaint time seen, unix seconds
	version uint64 // counts Observe calls: an account's judged credibility is kept until it moves

	byID       map[unique.Handle[string]]*reporter
	head, tail *reporter // idle longest first

	// newTargets counts, per UTC day, complaints about an account the
	// reporter had not just complained about, across all reporters: with
	// the number of reporters it gives the typical reporter's count.
	dayHead    int64
	newTargets [complaintDays]uint32
}

type reporter struct {
	id         unique.Handle[string]
	prev, next *reporter
	last       int64 // newest complaint, unix seconds
	brigadeAt  int64 // when it last complained about BrigadeTargets accounts within the span; 0 never
	dayHead    int64
	newTargets [complaintDays]uint16 // per UTC day, like Reporters.newTargets
	targets    [reporterTargets]reporterTarget
	n          uint8
}

type reporterTarget struct {
	account unique.Handle[string]
	at      int64
}

// NewReporters returns an empty index.
func NewReporters(p ReporterParams) *Reporters {
	p.MaxReporters = max(p.MaxReporters, 1)
	p.BrigadeTargets = max(p.BrigadeTargets, 2)
	p.BrigadeShared = max(p.BrigadeShared, 2)
	p.BrigadeCoTargets = max(p.BrigadeCoTargets, 1)
	return &Reporters{p: p, byID: map[unique.Handle[string]]*reporter{}}
}

// Observe records that reporter complained about account at, and returns
// the reporter's handle for the account's record.
func (rs *Reporters) Observe(reporterID, account string, at time.Time) unique.Handle[string] {
	id := unique.Make(reporterID)
	rs.version++
	t := at.Unix()
	rs.now = max(rs.now, t)
	rs.expire()
	r := rs.byID[id]
	if r == nil {
		r = &reporter{id: id}
		rs.byID[id] = r
	} else {
		rs.unlink(r)
	}
	r.last = max(r.last, t)
	rs.pushBack(r)

	acct := unique.Make(account)
	found := false
	for i := range r.targets[:r.n] {
		if r.targets[i].account == acct {
			r.targets[i].at = max(r.targets[i].at, t)
			found = true
			break
		}
	}
	if !found {
		if int(r.n) < reporterTargets {
			r.n++
		} else {
			// Forget the oldest target.
			oldest := 0
			for i := range r.targets {
				if r.targets[i].at < r.targets[oldest].at {
					oldest = i
				}
			}
			r.targets[oldest] = r.targets[r.n-1]
		}
		r.targets[r.n-1] = reporterTarget{account: acct, at: t}
		if i, ok := dayBucket(&r.dayHead, &r.newTargets, utcDay(t)); ok && r.newTargets[i] < 1<<16-1 {
			r.newTargets[i]++
		}
		if i, ok := dayBucket(&rs.dayHead, &rs.newTargets, utcDay(t)); ok {
			rs.newTargets[i] = addSaturating32(rs.newTargets[i], 1)
		}
	}

	// Distinct targets within the span ending at this complaint.
	span := int64(rs.p.BrigadeSpan / time.Second)
	within := 0
	for _, tg := range r.targets[:r.n] {
		if tg.at <= t && tg.at > t-span {
			within++
		}
	}
	if within >= rs.p.BrigadeTargets {
		r.brigadeAt = max(r.brigadeAt, t)
	}
	rs.expire()
	return id
}

// Standing is what the index says about a reporter at a time.
type Standing uint8

const (
	Credible Standing = iota
	Brigade
	Prolific
)

// Standing judges reporter at unix time now: a brigade member from the
// complaint that made it one until Window later (and for complaints filed
// before it: what the index knows, it knows for every account); prolific while its new
// targets in the window exceed both the minimum and the typical reporter's
// count by the factor. A reporter the index does not hold is credible.
func (rs *Reporters) Standing(id unique.Handle[string], now int64) Standing {
	return rs.standing(rs.byID[id], now)
}

func (rs *Reporters) standing(r *reporter, now int64) Standing {
	if r == nil {
		return Credible
	}
	window := int64(rs.p.Window / time.Second)
	if r.brigadeAt != 0 && now-r.brigadeAt < window {
		return Brigade
	}
	n := daySum(r.dayHead, &r.newTargets, utcDay(now))
	if n >= float64(rs.p.ProlificMin) && n >= rs.p.ProlificFactor*rs.typical(now) {
		return Prolific
	}
	return Credible
}

// typical is the mean count of new targets per reporter in the window.
func (rs *Reporters) typical(now int64) float64 {
	if len(rs.byID) == 0 {
		return 0
	}
	return daySum(rs.dayHead, &rs.newTargets, utcDay(now)) / float64(len(rs.byID))
}

// Targets returns the accounts reporter complained about most recently,
// except the one given, sorted: a brigade's other targets, for review.
func (rs *Reporters) Targets(id unique.Handle[string], except string) []string {
	r := rs.byID[id]
	if r == nil {
		return nil
	}
	var out []string
	for _, tg := range r.targets[:r.n] {
		if s := tg.account.Value(); s != except {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Len is the number of reporters held.
func (rs *Reporters) Len() int { return len(rs.byID) }

// expire forgets reporters idle for longer than the window, and the
// longest idle past the bound.
func (rs *Reporters) expire() {
	window := int64(rs.p.Window / time.Second)
	for r := rs.head; r != nil && (len(rs.byID) > rs.p.MaxReporters || r.last <= rs.now-window); r = rs.head {
		rs.unlink(r)
		delete(rs.byID, r.id)
	}
}

func (rs *Reporters) unlink(r *reporter) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		rs.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		rs.tail = r.prev
	}
	r.prev, r.next = nil, nil
}

// pushBack links r as the most recently active. A late complaint (older
// than the tail's) still goes to the back: order is by arrival, which
// keeps eviction O(1); expiry by time is then approximate by at most the
// lateness of events, which validation bounds.
func (rs *Reporters) pushBack(r *reporter) {
	r.prev = rs.tail
	if rs.tail != nil {
		rs.tail.next = r
	} else {
		rs.head = r
	}
	rs.tail = r
}

// Bytes estimates the index's memory: each reporter's struct, its map
// entry, and its id interned (string and unique's table entry, measured
// at about 200 bytes); the targets' ids are shared with their accounts.
func (rs *Reporters) Bytes() int64 {
	return int64(len(rs.byID)) * (reporterSize + 48 + 200)
}

const reporterSize = 8 + 16 + 8 + 8 + 8 + 2*complaintDays + 16*reporterTargets + 8

// dayBucket moves a ring of daily counts with its head day forward to day
// and returns day's index; ok is false for a day older than the ring.
func dayBucket[T uint16 | uint32](head *int64, c *[complaintDays]T, day int64) (int, bool) {
	day = clampBucket(day)
	switch {
	case *head == 0:
		*head = day
	case day > *head:
		gap := min(day-*head, complaintDays)
		for d := day - gap + 1; d <= day; d++ {
			c[floorMod(d, complaintDays)] = 0
		}
		*head = day
	case day <= *head-complaintDays:
		return 0, false
	}
	return int(floorMod(day, complaintDays)), true
}

// daySum is the ring's total over the window ending at day.
func daySum[T uint16 | uint32](head int64, c *[complaintDays]T, day int64) float64 {
	var n float64
	for d := clampBucket(day); d > day-complaintDays; d-- {
		if d > head {
			continue
		}
		if d <= head-complaintDays {
			break
		}
		n += float64(c[floorMod(d, complaintDays)])
	}
	return n
}
