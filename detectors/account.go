package detectors

import (
	"slices"
	"strings"
	"time"

	"moderation/internal/moderation"
)

// Env is what detectors share across accounts: the platform's time zone for
// calendar quotas. It is fixed for the life of a pipeline.
type Env struct {
	Location *time.Location
}

// Account holds every detector's state for one account. The trackers an
// account never needs stay nil (a personal account never broadcasts), so
// the common account costs a few hundred bytes.
type Account struct {
	Info    moderation.AccountInfo
	HasInfo bool
	Last    int64 // newest event time seen, unix seconds: "now" for every window

	BulkAdd    *BulkAdd
	Quota      *BroadcastQuota
	Complaints *ComplaintRate
}

// NewAccount returns empty state for an account.
func NewAccount() *Account { return &Account{} }

// Observe feeds one valid event to every detector that reads its kind.
func (a *Account) Observe(ev *moderation.Event, env *Env) {
	if ev.AccountInfo != nil {
		a.Info, a.HasInfo = *ev.AccountInfo, true
	}
	if t := ev.At.Unix(); t > a.Last {
		a.Last = t
	}
	switch ev.Kind {
	case moderation.KindFriendAdd:
		a.bulk().Observe(ev.At, ev.FriendAdd)
	case moderation.KindFriendResponse:
		a.bulk().ObserveAnswer(ev.At, ev.FriendResponse)
	case moderation.KindBroadcast:
		if a.Quota == nil {
			q := NewBroadcastQuota()
			a.Quota = &q
		}
		a.Quota.Observe(ev.At, env.Location)
		a.complaints().ObserveBroadcast(ev.At, ev.Broadcast.Recipients)
	case moderation.KindComplaint:
		a.complaints().ObserveComplaint(ev.At, ev.Complaint.Reason)
	case moderation.KindUnfollow:
		a.complaints().ObserveUnfollow(ev.At)
	}
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
	case "complaint_rate":
		var t ComplaintTotals
		if a.Complaints != nil {
			t = a.Complaints.Totals(a.Last)
		}
		return t.value(name)
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
	names = append(names, "broadcast_quota.day", "broadcast_quota.month")
	for _, n := range complaintMetrics() {
		names = append(names, "complaint_rate."+n)
	}
	return names
}

// Signals reports the signal of every tracker the account has, at the
// newest event time.
func (a *Account) Signals(env *Env) map[string]moderation.Signal {
	out := make(map[string]moderation.Signal, 3)
	if a.BulkAdd != nil {
		out["bulk_add"] = a.BulkAdd.Signal(a.Last)
	}
	if a.Quota != nil {
		out["broadcast_quota"] = a.Quota.Signal(a.Last, env.Location)
	}
	if a.Complaints != nil {
		out["complaint_rate"] = a.Complaints.Signal(a.Last)
	}
	return out
}

// AgeDays is the account's age at the newest event, in days; -1 when the
// platform never said when it was created.
func (a *Account) AgeDays() float64 {
	if !a.HasInfo {
		return -1
	}
	return time.Unix(a.Last, 0).Sub(a.Info.CreatedAt).Hours() / 24
}

// Bytes estimates the account's memory, as its cost in a bounded cache.
func (a *Account) Bytes() int64 {
	n := int64(112)
	if a.BulkAdd != nil {
		n += a.BulkAdd.Bytes()
	}
	if a.Quota != nil {
		n += a.Quota.Bytes()
	}
	if a.Complaints != nil {
		n += a.Complaints.Bytes()
	}
	return n
}
