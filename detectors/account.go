package detectors

import (
	"time"

	"moderation/internal/moderation"
)

// Account holds every detector's state for one account.
type Account struct {
	Info    moderation.AccountInfo
	HasInfo bool
	Last    int64 // newest event time seen, unix seconds: "now" for every window
	BulkAdd BulkAdd
}

// NewAccount returns empty state for an account.
func NewAccount() *Account {
	return &Account{BulkAdd: NewBulkAdd()}
}

// Observe feeds one valid event to every detector that reads its kind.
func (a *Account) Observe(ev *moderation.Event) {
	if ev.AccountInfo != nil {
		a.Info, a.HasInfo = *ev.AccountInfo, true
	}
	if t := ev.At.Unix(); t > a.Last {
		a.Last = t
	}
	switch ev.Kind {
	case moderation.KindFriendAdd:
		a.BulkAdd.Observe(ev.At, ev.FriendAdd)
	}
}

// Value returns a metric by its watch name ("bulk_add.hour_strangers") at
// the newest event time. It is called after every event for each metric a
// policy watches, so it must stay cheap; ok is false for unknown names.
func (a *Account) Value(metric string) (v float64, ok bool) {
	switch metric {
	case "bulk_add.hour":
		return a.BulkAdd.Hour(a.Last), true
	case "bulk_add.hour_strangers":
		return a.BulkAdd.HourStrangers(a.Last), true
	}
	return 0, false
}

// Metrics lists the names Value answers, so a policy that watches a metric
// no detector reports is caught when it is loaded.
func Metrics() []string {
	return []string{"bulk_add.hour", "bulk_add.hour_strangers"}
}

// Signals reports every detector's signal at the newest event time.
func (a *Account) Signals() map[string]moderation.Signal {
	return map[string]moderation.Signal{
		"bulk_add": a.BulkAdd.Signal(a.Last),
	}
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
	return 96 + a.BulkAdd.Bytes()
}
