package detectors

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"moderation/detectors/adtext"
	"moderation/internal/moderation"
)

// MaxWindow is the longest window any detector keeps (strangers asked over
// 30 days; complaint rates over 7). Rebuilding state after a restart
// replays at least this much of the events stream, and the stream retains
// at least this much. Dormancy (DormancyGap) is longer than any window and
// is not rebuilt: after a restart, silence counts from what was replayed.
const MaxWindow = max(complaintDays, monthDays) * 24 * time.Hour

// Env is what detectors share across accounts: the platform's time zone
// for calendar quotas, the advertising model, and the campaigns seen across
// all accounts. One pipeline goroutine uses it.
type Env struct {
	Location  *time.Location
	Ads       *adtext.Model
	Campaigns *Campaigns

	// Cross-account indexes, keyed by what accounts share (reporters.go,
	// destinations.go, targets.go); nil turns their signals off.
	Reporters    *Reporters
	Destinations *Destinations
	Targets      *Targets

	// watchedFrom is the earliest event time seen (unix seconds; watching
	// says whether there was one): an account first seen long after it was
	// silent while watched, and dormancy counts that silence (see touch).
	watchedFrom int64
	watching    bool
}

// Account holds every detector's state for one account. The trackers an
// account never needs stay nil (a personal account never broadcasts), so
// the common account costs a few hundred bytes.
type Account struct {
	// Packed into 24 bytes beside the pointers: a million accounts' worth.
	created int64  // unix seconds; kept smaller than a time.Time
	Last    int64  // newest event time seen, unix seconds: "now" for every window
	woke    int32  // unix hour (clamped: ±245,000 years) the current run of activity began, if a dormancy ended it
	dormant uint16 // hours of silence before that run (saturating at 7 years); 0 if none
	typ     uint8  // index in accountTypes; 0 until the platform says (account_info)
	flags   uint8  // verified, hasLast, unrecorded

	BulkAdd    *BulkAdd
	Quota      *BroadcastQuota
	Complaints *ComplaintRate
	Text       *BroadcastText
	Ring       *Ring // shared_targets at the account's latest stranger request, while young
}

// BroadcastText is what an account's broadcasts say: how many read as ads,
// and whether the latest belongs to a campaign across accounts.
type BroadcastText struct {
	Ads         AdContent
	Campaign    Match
	LastAdScore float64
	// Destination is the latest broadcast's most shared destination. The
	// destinations its earlier broadcasts named are in Env.Destinations,
	// with the account's highest ad score among those naming each
	// (Account.WithDestination reads them), so the account keeps none.
	Destination DestinationMatch
}

// campaignMetrics are the value names of the campaign signal.
var campaignMetrics = []string{"accounts", "ad_score"}

// NewAccount returns empty state for an account.
func NewAccount() *Account { return &Account{} }

// Observe feeds one valid event to every detector that reads its kind.
func (a *Account) Observe(ev *moderation.Event, env *Env) {
	if ai := ev.AccountInfo; ai != nil {
		a.typ, a.created = typeIndex(ai.Type), ai.CreatedAt.Unix()
		a.setFlag(flagVerified, ai.Verified)
	}
	a.touch(ev.At.Unix(), env)
	switch ev.Kind {
	case moderation.KindFriendAdd:
		a.bulk().Observe(ev.At, ev.FriendAdd)
		a.observeTarget(ev, env)
	case moderation.KindFriendResponse:
		a.bulk().ObserveAnswer(ev.At, ev.FriendResponse)
	case moderation.KindBroadcast:
		if a.Quota == nil {
			q := NewBroadcastQuota()
			a.Quota = &q
		}
		a.Quota.Observe(ev.At, env.Location)
		a.complaints().ObserveBroadcast(ev.At, ev.Broadcast.Recipients)
		a.observeText(ev, env)
	case moderation.KindComplaint:
		a.complaints().ObserveComplaint(ev.At, ev.Complaint.Reason)
		if env.Reporters != nil {
			id := env.Reporters.Observe(ev.Complaint.Reporter, ev.Account, ev.At)
			a.Complaints.ObserveReporter(ev.Account, id, ev.At, ev.Complaint.Reason, env.Reporters)
		}
	case moderation.KindUnfollow:
		a.complaints().ObserveUnfollow(ev.At)
	}
	a.refreshShared(ev, env)
}

// refreshShared reads again what the account shares with others, as it
// stands now: a ring's first members and a campaign's first senders saw
// small counts, and their later events (answers to their requests,
// reactions to their broadcasts) are when the pipeline can judge them
// again (movedBy).
func (a *Account) refreshShared(ev *moderation.Event, env *Env) {
	switch ev.Kind {
	case moderation.KindComplaint, moderation.KindUnfollow:
		if a.Text != nil && a.Text.Destination.Destination != "" && env.Destinations != nil {
			a.Text.Destination, _ = env.Destinations.Match(ev.Account, a.Text.Destination.Destination)
		}
	case moderation.KindFriendResponse:
		if a.Ring != nil && env.Targets != nil {
			a.Ring = env.Targets.Refresh(a.Ring, ev.Account, ev.At)
		}
	}
}

func (a *Account) observeText(ev *moderation.Event, env *Env) {
	if a.Text == nil {
		a.Text = &BroadcastText{Ads: NewAdContent()}
	}
	score, features := 0.0, adtext.Features{}
	if env.Ads != nil {
		score, features = env.Ads.Analyze(ev.Broadcast.Text)
	}
	a.Text.Ads.ObserveText(ev.At, ev.Broadcast.Text, score, features)
	a.Text.LastAdScore = score
	if env.Campaigns == nil && env.Destinations == nil {
		return
	}
	// Normalised once for both the fingerprint and the destinations; the
	// model folds the text further and normalises in its own pass.
	normal := adtext.NormalText(ev.Broadcast.Text)
	if env.Campaigns != nil {
		a.Text.Campaign = env.Campaigns.observeNormal(ev.Account, ev.At, normal)
	}
	if env.Destinations != nil {
		a.Text.Destination = env.Destinations.ObserveScored(ev.Account, ev.At, destinationKeys(normal), a.Text.LastAdScore)
	}
}

// WithDestination is account a (whose id is account) as it is judged when
// destination, which one of its broadcasts within the window named, has
// grown more shared, or was named by an ad of the account's, than the
// match it kept from its latest broadcast: a copy, with destination's
// match as it stands now and the account's highest ad score among its
// broadcasts naming it (DestinationMatch.OwnAdScore). Any of them counts,
// not only the latest: a ring member that follows its ad with an
// ordinary post is still judged with the ring, by its ad. ok is false,
// and the account is judged as it is, when none of its broadcasts in the
// window named destination or the copy would hold nothing new. The
// account itself is not changed, so what it keeps is a function of its
// own events and a restart's replay keeps the same.
func (a *Account) WithDestination(account, destination string, env *Env) (c *Account, ok bool) {
	if a.Text == nil || env.Destinations == nil {
		return nil, false
	}
	m, named := env.Destinations.Match(account, destination)
	kept := a.Text.Destination
	if !named || kept.Destination == destination && m.Accounts <= kept.Accounts && m.OwnAdScore <= kept.OwnAdScore {
		return nil, false
	}
	copied, text := *a, *a.Text
	text.Destination = m
	copied.Text = &text
	copied.setFlag(flagEarlierDestination, kept.Destination != destination)
	return &copied, true
}

// youngDays: an account younger than this (by its effective age) takes
// part in the shared-targets index.
const youngDays = 30

// observeTarget feeds a young account's stranger request to the shared
// targets index and keeps the account's ring as it stands then. An
// account of unknown age is left out: the platform always says.
func (a *Account) observeTarget(ev *moderation.Event, env *Env) {
	if env.Targets == nil || !ev.FriendAdd.Source.Stranger() {
		return
	}
	if age := a.AgeDays(); age < 0 || age >= youngDays {
		a.Ring = nil
		return
	}
	a.Ring = env.Targets.Update(a.Ring, ev.Account, ev.At, ev.FriendAdd.Target)
}

func (a *Account) bulk() *BulkAdd {
	if a.BulkAdd == nil {
		b := NewBulkAdd()
		a.BulkAdd = &b
	}
	return a.BulkAdd
}

func (a *Account) complaints() *ComplaintRate {
	if a.Complaints == nil {
		c := NewComplaintRate()
		a.Complaints = &c
	}
	return a.Complaints
}

// Value returns a metric by its watch name ("bulk_add.hour_strangers") at
// the newest event time. It is called after every event for each metric a
// policy watches, so it must stay cheap; ok is false for unknown names. A
// tracker the account never needed reports zero.
func (a *Account) Value(metric string, env *Env) (v float64, ok bool) {
	detector, name, found := strings.Cut(metric, ".")
	if !found {
		return 0, false
	}
	switch detector {
	case "bulk_add":
		switch name {
		case "dormant_days":
			return a.DormantDays(), true
		case "unrecorded":
			return a.Unrecorded(), true
		case "woken_outside_groups":
			return a.wokenOutsideGroups(), true
		}
		if a.BulkAdd == nil {
			return 0, slices.Contains(bulkMetrics, name)
		}
		return a.BulkAdd.Value(name, a.Last)
	case "broadcast_quota":
		if a.Quota == nil {
			return 0, name == "day" || name == "month"
		}
		switch name {
		case "day":
			return a.Quota.Day(a.Last, env.Location), true
		case "month":
			return a.Quota.Month(a.Last, env.Location), true
		}
	case "ad_content":
		if a.Text == nil {
			return 0, slices.Contains(adMetrics, name)
		}
		return a.Text.Ads.Value(name)
	case "campaign":
		if a.Text == nil {
			return 0, slices.Contains(campaignMetrics, name)
		}
		switch name {
		case "accounts":
			return float64(a.Text.Campaign.Accounts), true
		case "ad_score":
			return a.Text.LastAdScore, true
		}
	case "complaint_rate":
		var t ComplaintTotals
		if a.Complaints != nil {
			if credibilityMetric(name) {
				t = a.Complaints.Judge(a.Last, env.Reporters)
			} else {
				t = a.Complaints.Totals(a.Last)
			}
		}
		return t.value(name)
	case "destination_campaign":
		var m DestinationMatch
		if a.Text != nil {
			m = a.Text.Destination
		}
		switch name {
		case "accounts":
			return float64(m.Accounts), true
		case "ad_score":
			if a.Text == nil {
				return 0, true
			}
			return a.Text.destinationAdScore(), true
		case "campaign_ad_score":
			return m.AdScore, true
		}
	case "shared_targets":
		var r Ring
		if a.Ring != nil {
			r = *a.Ring
		}
		return r.value(name)
	}
	return 0, false
}

// Metrics lists the names Value answers, so a policy that watches a metric
// no detector reports is caught when it is loaded.
func Metrics() []string {
	var names []string
	for _, n := range bulkMetrics {
		names = append(names, "bulk_add."+n)
	}
	names = append(names, "bulk_add.dormant_days", "bulk_add.unrecorded", "bulk_add.woken_outside_groups")
	names = append(names, "broadcast_quota.day", "broadcast_quota.month")
	for _, n := range complaintMetrics() {
		names = append(names, "complaint_rate."+n)
	}
	for _, n := range adMetrics {
		names = append(names, "ad_content."+n)
	}
	for _, n := range campaignMetrics {
		names = append(names, "campaign."+n)
	}
	for _, n := range destinationMetrics {
		names = append(names, "destination_campaign."+n)
	}
	for _, n := range ringMetrics {
		names = append(names, "shared_targets."+n)
	}
	return names
}

// Signals reports the signal of every tracker the account has, at the
// newest event time.
func (a *Account) Signals(env *Env) map[string]moderation.Signal {
	out := make(map[string]moderation.Signal, 3)
	if a.BulkAdd != nil {
		out["bulk_add"] = withDormancy(a.BulkAdd.Signal(a.Last), a.DormantDays(), a.Unrecorded(), a.wokenOutsideGroups())
	}
	if a.Quota != nil {
		out["broadcast_quota"] = a.Quota.Signal(a.Last, env.Location)
	}
	if a.Complaints != nil {
		out["complaint_rate"] = a.Complaints.Signal(a.Last, env.Reporters)
		if s, ok := a.Complaints.BrigadeSignal(a.Last, env.Reporters); ok {
			out["brigade"] = s
		}
	}
	if a.Text != nil {
		out["ad_content"] = a.Text.Ads.Signal(a.Last)
		out["campaign"] = a.Text.campaignSignal()
		if env.Destinations != nil {
			out["destination_campaign"] = a.Text.destinationSignal(env.Destinations, a.flags&flagEarlierDestination != 0)
		}
	}
	if a.Ring != nil && env.Targets != nil {
		out["shared_targets"] = a.Ring.signal(env.Targets)
	}
	return out
}

func (t *BroadcastText) campaignSignal() moderation.Signal {
	evidence := "the latest broadcast matches no other account's recent text"
	if t.Campaign.Accounts > 1 {
		evidence = fmt.Sprintf("the latest broadcast is, with small changes, the same text %d accounts broadcast in the last 24 hours (campaign %s)", t.Campaign.Accounts, t.Campaign.ID)
	}
	return moderation.Signal{Name: "campaign", Evidence: evidence,
		Values: map[string]float64{"accounts": float64(t.Campaign.Accounts), "ad_score": t.LastAdScore}}
}

// DormancyGap is the silence after which an account's next event starts
// it over: from then on it is judged as if created when it woke. A bought
// or stolen account that slept for months has earned nothing by being old;
// standing is earned by activity, not by created_at alone. The contract
// with the policy fixes it here (the policy reads the effective age); the
// silence itself is reported as bulk_add.dormant_days for policies that
// want their own level.
const DormancyGap = 60 * 24 * time.Hour

// RecordedAge is the age from which an account first seen by a service
// that has watched for less than DormancyGap counts as having a past with
// no record (see unrecorded): the age at which the embedded policy stops
// judging an account as new (bulk_add.new_account_days). A younger one is
// new by its creation date anyway, and stays judged as new, not by the
// answers to its requests; an older one, 45 days old say, would otherwise
// count as established on a service watching for a week.
const RecordedAge = 30 * 24 * time.Hour

// touch records activity at unix time t: it moves Last forward and, when
// t ends a silence of at least DormancyGap, starts a new run of activity.
// Only silence that was watched counts: since the account's previous event,
// or, for its first event here, since the later of its creation and the
// earliest event the service has seen from anyone (before that the service
// may simply not have been watching). An event older than Last moves
// nothing.
func (a *Account) touch(t int64, env *Env) {
	if !env.watching || t < env.watchedFrom {
		env.watchedFrom, env.watching = t, true
	}
	switch {
	case a.flags&flagHasLast == 0:
		a.Last = t
		a.setFlag(flagHasLast, true)
		if a.typ != 0 && t > env.watchedFrom { // known creation: silent since the later of the two
			a.wake(t, max(a.created, env.watchedFrom))
		}
		a.unrecorded(t, env)
	case t > a.Last:
		a.wake(t, a.Last)
		a.Last = t
	}
}

// wake starts a new run of activity at t if the account was silent since
// since, for DormancyGap or longer.
func (a *Account) wake(t, since int64) {
	if t <= since {
		return
	}
	if gap := uint64(t) - uint64(since); gap >= uint64(DormancyGap/time.Second) { // t > since: the unsigned difference is exact
		a.woke = wokeHour(t)
		a.dormant = uint16(min(gap/3600, math.MaxUint16))
		a.setFlag(flagUnrecorded, false)
	}
}

// wokeHour is t as the unix hour a run of activity began, clamped.
func wokeHour(t int64) int32 { return int32(min(max(floorDiv(t, 3600), math.MinInt32), math.MaxInt32)) }

// unrecorded handles an account first seen at t, created at least
// RecordedAge before, while the service has watched for less than
// DormancyGap: whether it was silent cannot be told, and a bought account
// looks like any other old account on a service that has just started. Standing is
// earned by activity on record, so its current run of activity starts at
// first sight, as a woken account's does, and it is reported as
// bulk_add.unrecorded rather than as a silence: a policy judges it by how
// the strangers it asks answer, as it judges a woken account. A flag, not
// a count of days: every old account a new service sees is one, and
// inputs that differ in nothing the policy reads share its memo.
func (a *Account) unrecorded(t int64, env *Env) {
	if a.typ == 0 || a.dormant > 0 || t < a.created || uint64(t)-uint64(a.created) < uint64(RecordedAge/time.Second) ||
		uint64(t)-uint64(env.watchedFrom) >= uint64(DormancyGap/time.Second) {
		return
	}
	a.woke = wokeHour(t)
	a.setFlag(flagUnrecorded, true)
}

// wokeUp reports whether the current run of activity began after a
// dormancy or at first sight with no record of the past: then it, not the
// account's creation, is when its standing starts.
func (a *Account) wokeUp() bool { return a.dormant > 0 || a.flags&flagUnrecorded != 0 }

// Account flags.
const (
	flagVerified = 1 << iota
	flagHasLast  // Last is set: before the first event it is no time at all, not 1970
	// flagUnrecorded: the current run of activity began at first sight,
	// the account's past before it having no record (see unrecorded).
	flagUnrecorded
	// flagEarlierDestination marks a copy read with a destination that
	// its latest broadcast's match is not (WithDestination); never kept.
	flagEarlierDestination
)

func (a *Account) setFlag(f uint8, on bool) {
	if on {
		a.flags |= f
	} else {
		a.flags &^= f
	}
}

// AgeDays is the account's effective age at the newest event, in days: from
// its creation, or, if it woke from a dormancy (see DormancyGap), from its
// waking. It is -1 when the platform never said when it was created, so an
// account without account_info is judged as new.
func (a *Account) AgeDays() float64 {
	if a.typ == 0 {
		return -1
	}
	from := a.created
	if woke := int64(a.woke) * 3600; a.wokeUp() && woke > from {
		from = woke
	}
	return (float64(a.Last) - float64(from)) / 86400 // in floats: no wrap whatever the times
}

// wokenOutsideGroups counts the requests an account that woke from a
// silence has sent since, to strangers not found in a group (by search or
// otherwise); 0 for an account that never slept. A group's admin adds its
// group's members; a bought account asks whomever it finds.
func (a *Account) wokenOutsideGroups() float64 {
	if !a.wokeUp() || a.BulkAdd == nil {
		return 0
	}
	return float64(a.BulkAdd.strangersOutsideGroups(int64(a.woke) * 3600))
}

// DormantDays is the silence, in whole days, before the account's current
// run of activity; 0 if it never slept DormancyGap or longer while watched.
// Whole days, because an owner reads it in a statement of reasons.
func (a *Account) DormantDays() float64 { return float64(a.dormant / 24) }

// Unrecorded is 1 for an account whose current run of activity began at
// first sight because nothing of its past is on record (see unrecorded),
// 0 for any other.
func (a *Account) Unrecorded() float64 {
	if a.flags&flagUnrecorded == 0 {
		return 0
	}
	return 1
}

// accountTypes are the account types, stored as an index: a byte per
// account rather than a string header.
var accountTypes = [...]moderation.AccountType{"", moderation.AccountPersonal, moderation.AccountSubscription, moderation.AccountService, moderation.AccountEnterprise}

func typeIndex(t moderation.AccountType) uint8 {
	for i, k := range accountTypes {
		if k == t {
			return uint8(i)
		}
	}
	return 0 // validation lets only known types through
}

// Type is the account's type as the platform last reported it; empty if
// it never did.
func (a *Account) Type() moderation.AccountType { return accountTypes[a.typ] }

// Verified reports whether the platform says the account is verified.
func (a *Account) Verified() bool { return a.flags&flagVerified != 0 }

// movedBy lists, per event kind, the detectors whose metrics that kind of
// event can raise. Counts elsewhere only fall as event time moves on. A
// rate can also rise when old deliveries leave its window; that rise is
// judged at the account's next event of a kind that moves the rate.
// Cross-account counts rise with other accounts' events; they are read
// again, and judged, at this account's next event of a kind listed for
// them (refreshShared).
var movedBy = map[moderation.Kind][]string{
	moderation.KindFriendAdd:      {"bulk_add", "shared_targets"},
	moderation.KindFriendResponse: {"bulk_add", "shared_targets"},
	moderation.KindBroadcast:      {"broadcast_quota", "ad_content", "campaign", "complaint_rate", "destination_campaign"},
	moderation.KindComplaint:      {"complaint_rate", "destination_campaign"},
	moderation.KindUnfollow:       {"complaint_rate", "destination_campaign"},
}

// MovedBy reports whether an event of kind k can raise metric (a watch name
// such as "bulk_add.hour").
func MovedBy(k moderation.Kind, metric string) bool {
	detector, _, _ := strings.Cut(metric, ".")
	return slices.Contains(movedBy[k], detector)
}

// Bytes estimates the account's memory, as its cost in a bounded cache.
func (a *Account) Bytes() int64 {
	n := int64(unsafe.Sizeof(*a))
	if a.BulkAdd != nil {
		n += a.BulkAdd.Bytes()
	}
	if a.Quota != nil {
		n += a.Quota.Bytes()
	}
	if a.Complaints != nil {
		n += a.Complaints.Bytes()
	}
	if a.Text != nil {
		n += int64(unsafe.Sizeof(*a.Text)) + int64(len(a.Text.Campaign.ID))
	}
	if a.Ring != nil {
		n += int64(unsafe.Sizeof(*a.Ring))
	}
	return n
}
