package detectors

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unique"
	"unsafe"

	"moderation/internal/moderation"
)

// complaintDays is the length of the complaint window in daily buckets. The
// window is the current (UTC) day so far plus the six before it, so it
// covers between six and seven days and an event leaves it seven days
// after its day began.
const complaintDays = 7

// wilsonZ is the normal quantile for a two-sided 95% confidence interval.
const wilsonZ = 1.96

// ComplaintReasons are the reasons a follower can give for a complaint, in
// the order ComplaintTotals.Reasons counts them. An unknown reason counts
// as "other".
var ComplaintReasons = [...]string{"spam", "ads", "fraud", "porn", "harassment", "other"}

const reasonOther = len(ComplaintReasons) - 1

// reasonKeys are the signal value names, built once so Signal does not
// concatenate per call.
var reasonKeys = func() (k [len(ComplaintReasons)]string) {
	for i, r := range ComplaintReasons {
		k[i] = "reason_" + r
	}
	return k
}()

// ComplaintRate tracks, over a sliding seven-day window of event time, how
// many messages an official account's broadcasts delivered and how many
// complaints and unfollows they drew.
//
// Complaints and unfollows are set against the deliveries in the same
// window, even when the broadcast they are about was delivered before it:
// matching each complaint to its broadcast would mean keeping every
// broadcast, and over a week the two windows mostly overlap. Early in a
// window (or for an account that stopped broadcasting) complaints can
// therefore exceed deliveries; the rate is then capped at 1.
//
// Counts are per day, in a ring kept as separate arrays so no padding is
// spent. Totals are exact up to 2^32-1 a day (saturating); the breakdown by
// reason is informational and saturates at 65,535 a day per reason, which
// keeps the state under 200 bytes.
type ComplaintRate struct {
	head       int32 // unix day number of the newest bucket
	delivered  [complaintDays]uint32
	complaints [complaintDays]uint32
	unfollows  [complaintDays]uint32
	reasons    [complaintDays][len(ComplaintReasons)]uint16

	// record is who complained, kept only for accounts complained about,
	// so credibility can be judged when the account is (reporters.go).
	record *complaintRecord
}

// NewComplaintRate returns an empty tracker.
func NewComplaintRate() ComplaintRate { return ComplaintRate{} }

// ObserveBroadcast counts the recipients of one broadcast sent at.
func (c *ComplaintRate) ObserveBroadcast(at time.Time, recipients int64) {
	if i, ok := c.bucket(at); ok && recipients > 0 {
		c.delivered[i] = addSaturating32(c.delivered[i], uint64(recipients))
	}
}

// ObserveComplaint counts one complaint made at for reason.
func (c *ComplaintRate) ObserveComplaint(at time.Time, reason string) {
	i, ok := c.bucket(at)
	if !ok {
		return
	}
	c.complaints[i] = addSaturating32(c.complaints[i], 1)
	r := &c.reasons[i][complaintReason(reason)]
	if *r < math.MaxUint16 {
		*r++
	}
}

// ObserveUnfollow counts one follower leaving at.
func (c *ComplaintRate) ObserveUnfollow(at time.Time) {
	if i, ok := c.bucket(at); ok {
		c.unfollows[i] = addSaturating32(c.unfollows[i], 1)
	}
}

// bucket moves the window forward to at's day if it is newer and returns
// the index of at's bucket; ok is false for an event older than the window.
// Like ring it is total over int64 time: day numbers are clamped to what
// head holds, and an empty tracker starts at the first event's day wherever
// it falls.
func (c *ComplaintRate) bucket(at time.Time) (i int, ok bool) {
	day := clampBucket(utcDay(at.Unix()))
	head := int64(c.head)
	switch {
	case day > head:
		// Clear the days the window slid past, at most the whole ring.
		gap := min(day-head, complaintDays)
		for d := day - gap + 1; d <= day; d++ {
			j := floorMod(d, complaintDays)
			c.delivered[j], c.complaints[j], c.unfollows[j] = 0, 0, 0
			c.reasons[j] = [len(ComplaintReasons)]uint16{}
		}
		c.head = int32(day)
	case day <= head-complaintDays:
		if !c.empty() {
			return 0, false
		}
		c.head = int32(day)
	}
	return int(floorMod(day, complaintDays)), true
}

// empty reports whether nothing is counted: the window can then start
// anywhere.
func (c *ComplaintRate) empty() bool {
	for j := range complaintDays {
		if c.delivered[j] != 0 || c.complaints[j] != 0 || c.unfollows[j] != 0 {
			return false
		}
	}
	return true
}

// ComplaintTotals are a ComplaintRate's sums over the window ending at a time.
type ComplaintTotals struct {
	Complaints float64
	Delivered  float64
	Unfollows  float64
	Reasons    [len(ComplaintReasons)]float64 // indexed like ComplaintReasons
	// Cred weighs the complaints by their reporters; filled by Judge.
	Cred Credibility
}

// Totals sums the window ending at unix time now. It does not allocate, so a
// policy's watched metric can be read after every event.
func (c *ComplaintRate) Totals(now int64) ComplaintTotals {
	var t ComplaintTotals
	day, head := clampBucket(utcDay(now)), int64(c.head)
	for d := day; d > day-complaintDays; d-- {
		if d > head {
			continue
		}
		if d <= head-complaintDays {
			break
		}
		j := floorMod(d, complaintDays)
		t.Complaints += float64(c.complaints[j])
		t.Delivered += float64(c.delivered[j])
		t.Unfollows += float64(c.unfollows[j])
		for r, n := range c.reasons[j] {
			t.Reasons[r] += float64(n)
		}
	}
	return t
}

// Rate is complaints per delivered message, capped at 1; 0 with nothing
// delivered.
func (t ComplaintTotals) Rate() float64 { return ratioCapped(t.Complaints, t.Delivered) }

// UnfollowRate is unfollows per delivered message, capped at 1. With one
// broadcast a day to every follower it approximates the share of followers
// lost per broadcast.
func (t ComplaintTotals) UnfollowRate() float64 { return ratioCapped(t.Unfollows, t.Delivered) }

// Lower is the Wilson lower bound, at 95% confidence, of the complaint rate:
// the rate the account can be held to given how few messages it may have
// delivered.
func (t ComplaintTotals) Lower() float64 { return WilsonLower(t.Complaints, t.Delivered, wilsonZ) }

// UnfollowLower is the Wilson lower bound, at 95% confidence, of the
// unfollow rate.
func (t ComplaintTotals) UnfollowLower() float64 {
	return WilsonLower(t.Unfollows, t.Delivered, wilsonZ)
}

// CredibleLower is the Wilson lower bound, at 95% confidence, of the rate
// of credible complaints.
func (t ComplaintTotals) CredibleLower() float64 {
	return WilsonLower(t.Cred.Credible, t.Delivered, wilsonZ)
}

// complaintMetrics are the value names of the complaint_rate signal.
func complaintMetrics() []string {
	return append([]string{"complaints", "delivered", "rate", "wilson_lower", "unfollows", "unfollow_rate", "unfollow_wilson_lower",
		"credible_complaints", "credible_wilson_lower", "brigade_complaints", "brigade_reporters"}, reasonKeys[:]...)
}

// credibilityMetric reports whether a complaint_rate value needs the
// reporters judged (Judge rather than Totals).
func credibilityMetric(name string) bool {
	switch name {
	case "credible_complaints", "credible_wilson_lower", "brigade_complaints", "brigade_reporters":
		return true
	}
	return false
}

// Judge is Totals with the complaints weighed by their reporters.
func (c *ComplaintRate) Judge(now int64, rs *Reporters) ComplaintTotals {
	t := c.Totals(now)
	t.Cred = c.Credibility(now, rs)
	return t
}

// value answers one of complaintMetrics without allocating.
func (t ComplaintTotals) value(name string) (float64, bool) {
	switch name {
	case "complaints":
		return t.Complaints, true
	case "delivered":
		return t.Delivered, true
	case "rate":
		return t.Rate(), true
	case "wilson_lower":
		return t.Lower(), true
	case "unfollows":
		return t.Unfollows, true
	case "unfollow_rate":
		return t.UnfollowRate(), true
	case "unfollow_wilson_lower":
		return t.UnfollowLower(), true
	case "credible_complaints":
		return t.Cred.Credible, true
	case "credible_wilson_lower":
		return t.CredibleLower(), true
	case "brigade_complaints":
		return t.Cred.Brigade, true
	case "brigade_reporters":
		return t.Cred.BrigadeReporters, true
	}
	for i, k := range reasonKeys {
		if k == name {
			return t.Reasons[i], true
		}
	}
	return 0, false
}

// Signal reports the window ending at now, its complaints weighed by the
// reporter index rs (nil: every complaint is credible).
func (c *ComplaintRate) Signal(now int64, rs *Reporters) moderation.Signal {
	t := c.Judge(now, rs)
	rate, lower := t.Rate(), t.Lower()
	names := complaintMetrics()
	values := make(map[string]float64, len(names))
	for _, name := range names {
		values[name], _ = t.value(name)
	}

	var b strings.Builder
	b.WriteString(countNoun(t.Complaints, "complaint"))
	if t.Delivered > 0 {
		fmt.Fprintf(&b, " on %s delivered messages in %d days (%s; at least %s with 95%% confidence)",
			groupDigits(t.Delivered), complaintDays, fmtPercent(rate), fmtPercent(lower))
	} else {
		fmt.Fprintf(&b, " and no delivered messages in %d days", complaintDays)
	}
	// Reasons, most frequent first; ties keep the order of ComplaintReasons.
	order := [len(ComplaintReasons)]int{0, 1, 2, 3, 4, 5}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && t.Reasons[order[j]] > t.Reasons[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	sep := ": "
	for _, r := range order {
		if t.Reasons[r] > 0 {
			fmt.Fprintf(&b, "%s%s %s", sep, groupDigits(t.Reasons[r]), ComplaintReasons[r])
			sep = ", "
		}
	}
	if t.Unfollows > 0 {
		fmt.Fprintf(&b, "; %s", countNoun(t.Unfollows, "unfollow"))
		if t.Delivered > 0 {
			fmt.Fprintf(&b, " (%s of delivered; at least %s with 95%% confidence)", fmtPercent(t.UnfollowRate()), fmtPercent(t.UnfollowLower()))
		}
	}
	c.credibilityEvidence(&b, t, now, rs)
	return moderation.Signal{Name: "complaint_rate", Values: values, Evidence: b.String()}
}

// Bytes estimates the tracker's memory, for cost-bounded caches.
func (c *ComplaintRate) Bytes() int64 {
	n := int64(unsafe.Sizeof(*c))
	if c.record != nil {
		n += int64(unsafe.Sizeof(*c.record)) + int64(cap(c.record.entries))*int64(unsafe.Sizeof(recordedComplaint{}))
	}
	return n
}

// WilsonLower is the lower bound of the Wilson score interval for a
// proportion of successes in trials at normal quantile z (1.96 for 95%).
// Unlike the raw proportion it grows with the evidence: 1 in 20 gives about
// 0.009, while 1,000 in 50,000 gives about 0.019. It is 0 with no trials;
// successes above trials are taken as trials.
func WilsonLower(successes, trials, z float64) float64 {
	if trials <= 0 || successes <= 0 {
		return 0
	}
	successes = min(successes, trials)
	p := successes / trials
	z2 := z * z
	centre := p + z2/(2*trials)
	margin := z * math.Sqrt(p*(1-p)/trials+z2/(4*trials*trials))
	return max(0, (centre-margin)/(1+z2/trials))
}

func complaintReason(reason string) int {
	for i, r := range ComplaintReasons[:reasonOther] {
		if reason == r {
			return i
		}
	}
	return reasonOther
}

// utcDay is the UTC day number of unix time t, rounding down before 1970.
func utcDay(t int64) int64 { return floorDiv(t, 86400) }

func addSaturating32(v uint32, n uint64) uint32 {
	return uint32(min(uint64(v)+n, math.MaxUint32))
}

func ratioCapped(n, d float64) float64 {
	if d <= 0 {
		return 0
	}
	return min(n/d, 1)
}

// fmtPercent formats a proportion as a percentage with two decimals.
func fmtPercent(p float64) string { return strconv.FormatFloat(p*100, 'f', 2, 64) + "%" }

// countNoun formats a count with its noun: "1 complaint", "1,200 complaints".
func countNoun(n float64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return groupDigits(n) + " " + noun + "s"
}

// groupDigits formats a whole count with thousands separators: 4,800.
func groupDigits(n float64) string {
	v := int64(n)
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// ---- who complained ----

// maxRecordedComplaints bounds an account's record of recent complaints:
// 16 bytes each, so at most 2 KB, kept only by accounts complained about.
// A complaint pushed out of a full record is judged then and counted by day.
const maxRecordedComplaints = 128

// complaintRecord is an account's recent complaints, oldest first, and
// the judged counts of those pushed out.
type complaintRecord struct {
	account     unique.Handle[string] // whose record: left out of a brigade's "other targets"
	entries     []recordedComplaint
	settledHead int64
	credible    [complaintDays]uint32
	brigade     [complaintDays]uint32

	// The last Credibility, for the same time and index version.
	cache        Credibility
	cacheNow     int64
	cacheVersion uint64
	cacheValid   bool
}

type recordedComplaint struct {
	reporter unique.Handle[string]
	atReason int64 // unix seconds × 8 + the reason's index
}

func (e recordedComplaint) at() int64 { return e.atReason >> 3 }

// ObserveReporter records who filed a complaint at, as the index named it.
func (c *ComplaintRate) ObserveReporter(account string, reporter unique.Handle[string], at time.Time, reason string, rs *Reporters) {
	if c.record == nil {
		c.record = &complaintRecord{account: unique.Make(account)}
	}
	r := c.record
	r.cacheValid = false
	t := at.Unix()
	if len(r.entries) == maxRecordedComplaints {
		old := r.entries[0]
		if i, ok := dayBucket(&r.settledHead, &r.credible, utcDay(old.at())); ok {
			dayBucket(&r.settledHead, &r.brigade, utcDay(old.at()))
			switch rs.Standing(old.reporter, t) {
			case Credible:
				r.credible[i] = addSaturating32(r.credible[i], 1)
			case Brigade:
				r.brigade[i] = addSaturating32(r.brigade[i], 1)
			}
		}
		copy(r.entries, r.entries[1:])
		r.entries = r.entries[:len(r.entries)-1]
	}
	// Three bits go to the reason: times are clamped to what the rest can hold.
	e := recordedComplaint{reporter: reporter, atReason: min(max(t, math.MinInt64>>3), math.MaxInt64>>3)<<3 | int64(complaintReason(reason))}
	// Keep time order: a late complaint goes before newer ones.
	i := len(r.entries)
	for i > 0 && r.entries[i-1].at() > e.at() {
		i--
	}
	r.entries = slices.Insert(r.entries, i, e)
}

// Credibility is how an account's complaints in the window weigh once
// their reporters are judged.
type Credibility struct {
	// Credible complaints: from reporters neither in a brigade nor
	// prolific, filed at least ReporterParams.Settle ago (a younger
	// complaint's reporter may yet turn out to belong to a brigade).
	Credible float64
	// Brigade complaints and the distinct reporters who filed them.
	Brigade, BrigadeReporters float64
	// Prolific complaints, and Pending ones still inside the span.
	Prolific, Pending float64
}

// Credibility judges the complaints in the window ending at unix time now.
// Without a reporter index every complaint is credible. The answer is kept
// until the time or the index changes: a policy reads several of its
// values before and after every event.
func (c *ComplaintRate) Credibility(now int64, rs *Reporters) Credibility {
	if c.record == nil || rs == nil {
		return Credibility{Credible: c.Totals(now).Complaints}
	}
	r := c.record
	if r.cacheValid && r.cacheNow == now && r.cacheVersion == rs.version {
		return r.cache
	}
	day := utcDay(now)
	cr := Credibility{
		Credible: daySum(r.settledHead, &r.credible, day),
		Brigade:  daySum(r.settledHead, &r.brigade, day),
	}
	standing := c.standings(now, rs)
	span := int64(rs.p.Settle / time.Second)
	for _, e := range r.entries {
		at := e.at()
		if at > now || utcDay(at) <= day-complaintDays {
			continue
		}
		switch standing[e.reporter] {
		case Brigade:
			cr.Brigade++
		case Prolific:
			cr.Prolific++
		default:
			if at > now-span {
				cr.Pending++
			} else {
				cr.Credible++
			}
		}
	}
	for _, st := range standing {
		if st == Brigade {
			cr.BrigadeReporters++
		}
	}
	r.cache, r.cacheNow, r.cacheVersion, r.cacheValid = cr, now, rs.version, true
	return cr
}

// standings judges each reporter in the account's window. Besides what
// the index says of a reporter alone (a burst of targets, or prolific), a
// reporter is in a brigade with this account's other reporters when it
// also complained, within the window, about at least BrigadeCoTargets
// other accounts that at least BrigadeShared of this account's reporters
// complained about too: a brigade that spreads its complaints out, a few
// targets an hour or over days, still complains about the same accounts.
// A reporter who complained about one of the brigade's other targets
// together with at least BrigadeShared of its members is a straggler of
// the same brigade. And a reporter who, within BrigadeSpan of a complaint
// about this account, complained about another account that at least
// BrigadeShared of this account's reporters also complained about within
// BrigadeSpan of theirs is in a brigade of two targets, or of more whose
// members each joined only some: people who share a grievance complain
// when each account's broadcast reaches them, not in step about two
// accounts in the same hour.
func (c *ComplaintRate) standings(now int64, rs *Reporters) map[unique.Handle[string]]Standing {
	r := c.record
	day := utcDay(now)
	since := now - int64(rs.p.Window/time.Second)
	type judged struct {
		id     unique.Handle[string]
		r      *reporter // nil when the index no longer holds it
		others bool      // it complained about another account in the window
		// When it complained about this account: first, and any later
		// times (a reporter seldom complains twice, so most allocate none).
		first int64
		more  []int64
	}
	standing := make(map[unique.Handle[string]]Standing, len(r.entries))
	var reps []judged
	anyOthers := false
	for _, e := range r.entries {
		if at := e.at(); at > now || utcDay(at) <= day-complaintDays {
			continue
		}
		if _, ok := standing[e.reporter]; ok {
			// At most maxRecordedComplaints entries: a search is cheaper
			// than an index built for every judging.
			k := slices.IndexFunc(reps, func(j judged) bool { return j.id == e.reporter })
			reps[k].more = append(reps[k].more, e.at())
			continue
		}
		rep := rs.byID[e.reporter]
		standing[e.reporter] = rs.standing(rep, now)
		j := judged{id: e.reporter, r: rep, first: e.at()}
		if rep != nil {
			for _, tg := range rep.targets[:rep.n] {
				if tg.account != r.account && tg.at > since {
					j.others, anyOthers = true, true
					break
				}
			}
		}
		reps = append(reps, j)
	}
	if len(reps) < rs.p.BrigadeShared || !anyOthers {
		return standing
	}
	// others calls f for each other account the reporter complained about
	// in the window, and when it last did.
	others := func(j judged, f func(a unique.Handle[string], at int64) bool) {
		if !j.others {
			return
		}
		for _, tg := range j.r.targets[:j.r.n] {
			if tg.account != r.account && tg.at > since && !f(tg.account, tg.at) {
				return
			}
		}
	}
	span := int64(rs.p.BrigadeSpan / time.Second)
	near := func(t, at int64) bool { return max(t-at, at-t) <= span }
	inStep := func(j judged, at int64) bool {
		return near(j.first, at) || slices.ContainsFunc(j.more, func(t int64) bool { return near(t, at) })
	}
	shared := map[unique.Handle[string]]int{}
	stepped := map[unique.Handle[string]]int{} // reporters who complained about it in step with this account
	for _, j := range reps {
		others(j, func(a unique.Handle[string], at int64) bool {
			shared[a]++
			if inStep(j, at) {
				stepped[a]++
			}
			return true
		})
	}
	for _, j := range reps {
		if standing[j.id] != Credible {
			continue
		}
		n, pair := 0, false
		others(j, func(a unique.Handle[string], at int64) bool {
			if shared[a] >= rs.p.BrigadeShared {
				n++
			}
			pair = pair || stepped[a] >= rs.p.BrigadeShared && inStep(j, at)
			return true
		})
		if n >= rs.p.BrigadeCoTargets || pair {
			standing[j.id] = Brigade
		}
	}
	// A brigade's stragglers: a reporter who missed some of its targets
	// but complained about another account that at least BrigadeShared of
	// the brigade also complained about is one of them.
	withBrigade := map[unique.Handle[string]]int{}
	for _, j := range reps {
		if standing[j.id] == Brigade {
			others(j, func(a unique.Handle[string], _ int64) bool { withBrigade[a]++; return true })
		}
	}
	var stragglers []unique.Handle[string]
	for _, j := range reps {
		if standing[j.id] != Credible {
			continue
		}
		others(j, func(a unique.Handle[string], _ int64) bool {
			if withBrigade[a] >= rs.p.BrigadeShared {
				stragglers = append(stragglers, j.id)
				return false
			}
			return true
		})
	}
	for _, id := range stragglers {
		standing[id] = Brigade
	}
	return standing
}

// credibilityEvidence says how the complaints weigh once their reporters
// are judged, naming a brigade's members and other targets for review.
func (c *ComplaintRate) credibilityEvidence(b *strings.Builder, t ComplaintTotals, now int64, rs *Reporters) {
	if c.record == nil || rs == nil || t.Complaints == 0 {
		return
	}
	cr := t.Cred
	fmt.Fprintf(b, "; %s from credible reporters", groupDigits(cr.Credible))
	if t.Delivered > 0 {
		fmt.Fprintf(b, " (at least %s with 95%% confidence)", fmtPercent(t.CredibleLower()))
	}
	if cr.Pending > 0 {
		fmt.Fprintf(b, ", %s too recent to weigh (filed within %s)", groupDigits(cr.Pending), fmtSpan(rs.p.Settle))
	}
	if cr.Prolific > 0 {
		fmt.Fprintf(b, ", %s from reporters who complain about far more accounts than is typical", groupDigits(cr.Prolific))
	}
	if cr.Brigade > 0 {
		// Counts only: this evidence reaches the account's owner, who must
		// not learn who reported them or which other accounts were hit.
		// The brigade signal names them for review.
		fmt.Fprintf(b, "; %s discounted as a brigade: %s who complained together about other accounts (%s)",
			countNoun(cr.Brigade, "complaint"), countNoun(cr.BrigadeReporters, "reporter"), brigadeRule(rs))
	}
}

// brigadeRule says what makes a reporter a brigade member.
func brigadeRule(rs *Reporters) string {
	return fmt.Sprintf("%d or more within %s, or %d more that %d or more of this account's reporters also complained about in %d days, or one more within %s of their complaint here, as %d or more of them did",
		rs.p.BrigadeTargets, fmtSpan(rs.p.BrigadeSpan), rs.p.BrigadeCoTargets, rs.p.BrigadeShared, int(rs.p.Window/(24*time.Hour)),
		fmtSpan(rs.p.BrigadeSpan), rs.p.BrigadeShared)
}

// BrigadeSignal is the brigade among the account's complainants as a
// signal of its own, for review: its size, its members and the other
// accounts they complained about. ok is false when there is none. No
// policy quotes it to the account's owner.
func (c *ComplaintRate) BrigadeSignal(now int64, rs *Reporters) (s moderation.Signal, ok bool) {
	if c.record == nil || rs == nil {
		return s, false
	}
	cr := c.Credibility(now, rs)
	if cr.Brigade == 0 {
		return s, false
	}
	reporters, targets, moreR, moreT := c.brigade(now, rs, c.record.account.Value(), brigadeListed)
	var b strings.Builder
	fmt.Fprintf(&b, "%s discounted, from %s who complained together about other accounts (%s): %s",
		countNoun(cr.Brigade, "complaint"), countNoun(cr.BrigadeReporters, "reporter"), brigadeRule(rs), strings.Join(reporters, ", "))
	if moreR > 0 {
		fmt.Fprintf(&b, " and %d more", moreR)
	}
	fmt.Fprintf(&b, "; their other targets: %s", strings.Join(targets, ", "))
	if moreT > 0 {
		fmt.Fprintf(&b, " and %d more", moreT)
	}
	return moderation.Signal{Name: "brigade", Evidence: b.String(), Values: map[string]float64{
		"brigade_complaints": cr.Brigade,
		"brigade_reporters":  cr.BrigadeReporters,
		"other_targets":      float64(len(targets) + moreT),
	}}, true
}

// fmtSpan says a span in words: "an hour", "90 minutes".
func fmtSpan(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "an hour"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// brigadeListed is how many of a brigade's reporters and targets evidence
// names.
const brigadeListed = 10

// brigade lists, for review, the brigade's reporters among this account's
// complainants and the other accounts they complained about, each sorted
// and at most limit long; more tells how many were left out of each.
func (c *ComplaintRate) brigade(now int64, rs *Reporters, account string, limit int) (reporters, targets []string, moreReporters, moreTargets int) {
	if c.record == nil || rs == nil {
		return nil, nil, 0, 0
	}
	others := map[string]bool{}
	for id, st := range c.standings(now, rs) {
		if st != Brigade {
			continue
		}
		reporters = append(reporters, id.Value())
		for _, t := range rs.Targets(id, account) {
			others[t] = true
		}
	}
	for t := range others {
		targets = append(targets, t)
	}
	slices.Sort(reporters)
	slices.Sort(targets)
	if len(reporters) > limit {
		moreReporters, reporters = len(reporters)-limit, reporters[:limit]
	}
	if len(targets) > limit {
		moreTargets, targets = len(targets)-limit, targets[:limit]
	}
	return reporters, targets, moreReporters, moreTargets
}
