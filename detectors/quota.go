package detectors

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"moderation/internal/moderation"
)

// BroadcastQuota counts an official account's broadcasts in the current
// calendar day and calendar month of the platform's time zone, which is what
// the platform's quotas are counted in (subscription accounts: per day;
// service accounts: per month). It reports counts only: the quota for each
// account type is policy data.
//
// Only the newest day and month are kept, so the state is four small
// integers. A late event is counted only if it falls in the current day (or
// month); one from an earlier day still counts towards the month it shares
// with the current day, and one from an earlier month is dropped: that
// period's count is already gone and must not leak into the current one.
type BroadcastQuota struct {
	day        int32  // yyyymmdd of the newest day seen, in the platform zone
	month      int32  // yyyymm of the newest month seen
	dayCount   uint32 // broadcasts in day
	monthCount uint32 // broadcasts in month
}

// NewBroadcastQuota returns an empty tracker.
func NewBroadcastQuota() BroadcastQuota { return BroadcastQuota{} }

// Observe counts one broadcast sent at, with calendar days and months taken
// in loc (UTC when loc is nil).
func (q *BroadcastQuota) Observe(at time.Time, loc *time.Location) {
	d, m := calendarKeys(at, loc)
	switch {
	case d > q.day:
		q.day, q.dayCount = d, 1
	case d == q.day:
		q.dayCount++
	}
	switch {
	case m > q.month:
		q.month, q.monthCount = m, 1
	case m == q.month:
		q.monthCount++
	}
}

// Day is the number of broadcasts in the calendar day, in loc, containing
// unix time now. It is 0 for a day the tracker has not seen the newest of,
// including a day before its newest (queries are made at the newest event).
func (q *BroadcastQuota) Day(now int64, loc *time.Location) float64 {
	if d, _ := calendarKeys(time.Unix(now, 0), loc); d == q.day {
		return float64(q.dayCount)
	}
	return 0
}

// Month is the number of broadcasts in the calendar month, in loc,
// containing unix time now.
func (q *BroadcastQuota) Month(now int64, loc *time.Location) float64 {
	if _, m := calendarKeys(time.Unix(now, 0), loc); m == q.month {
		return float64(q.monthCount)
	}
	return 0
}

// Signal reports the day's and the month's broadcasts at now.
func (q *BroadcastQuota) Signal(now int64, loc *time.Location) moderation.Signal {
	loc = platformZone(loc)
	day, month := q.Day(now, loc), q.Month(now, loc)
	t := time.Unix(now, 0).In(loc)
	noun := "broadcasts"
	if day == 1 {
		noun = "broadcast"
	}
	return moderation.Signal{
		Name:   "broadcast_quota",
		Values: map[string]float64{"day": day, "month": month},
		Evidence: fmt.Sprintf("%d %s on %s and %d in %s (%s time)",
			int64(day), noun, t.Format("2 January 2006"), int64(month), t.Format("January 2006"), loc),
	}
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (q *BroadcastQuota) Bytes() int64 { return int64(unsafe.Sizeof(*q)) }

// calendarKeys returns at's calendar day as yyyymmdd and month as yyyymm in
// loc. Both grow with time, so comparing them orders days and months.
func calendarKeys(at time.Time, loc *time.Location) (day, month int32) {
	y, m, d := at.In(platformZone(loc)).Date()
	// Clamped so absurd years (time.Unix of any int64 is some year) order
	// without wrapping int32; real ones are years 1 to 9999.
	y = min(max(y, -maxKeyYear), maxKeyYear)
	month = int32(y*100 + int(m))
	return month*100 + int32(d), month
}

// maxKeyYear is the largest year whose yyyymmdd fits an int32.
const maxKeyYear = math.MaxInt32/10000 - 1

// platformZone is loc, or UTC when none was configured (time.Time.In panics
// on a nil location).
func platformZone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
