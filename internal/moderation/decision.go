package moderation

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Action is a rung of the enforcement ladder, or restore.
type Action string

const (
	ActionAllow   Action = "allow"
	ActionWarn    Action = "warn"
	ActionLimit   Action = "limit"
	ActionSuspend Action = "suspend"
	ActionClose   Action = "close"
	ActionRestore Action = "restore"
)

// Severity orders the ladder allow < warn < limit < suspend < close.
// Restore and unknown actions rank with allow.
func (a Action) Severity() int {
	switch a {
	case ActionWarn:
		return 1
	case ActionLimit:
		return 2
	case ActionSuspend:
		return 3
	case ActionClose:
		return 4
	}
	return 0
}

// Known reports whether a is an action a policy may return.
func (a Action) Known() bool {
	switch a {
	case ActionAllow, ActionWarn, ActionLimit, ActionSuspend, ActionClose:
		return true
	}
	return false
}

// Capability is something an account asks to do.
type Capability string

const (
	CapBroadcast Capability = "broadcast"
	CapFriendAdd Capability = "friend_add"
)

// Reason is one fact behind a decision, in words an owner can read.
type Reason struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Statement is the statement of reasons sent with every action above allow.
type Statement struct {
	Measure            string    `json:"measure"`
	Facts              string    `json:"facts"`
	AutomatedDetection bool      `json:"automated_detection"`
	AutomatedDecision  string    `json:"automated_decision"` // fully, partially, not
	Ground             string    `json:"ground"`
	Explanation        string    `json:"explanation"`
	Redress            string    `json:"redress"`
	AppealDeadline     time.Time `json:"appeal_deadline"`
}

// Decision is a change of an account's enforcement state. Its JSON is the
// enforcement contract published on mod.enforcement.<account>; the fields
// after Statement are additions for the audit record.
type Decision struct {
	Account       string       `json:"account"`
	Action        Action       `json:"action"`
	DecisionID    string       `json:"decision_id"`
	PolicyVersion string       `json:"policy_version"`
	Until         *time.Time   `json:"until,omitempty"`
	Reasons       []Reason     `json:"reasons"`
	Statement     Statement    `json:"statement"`
	Restricts     []Capability `json:"restricts,omitempty"`
	EventID       string       `json:"event_id,omitempty"`
	At            time.Time    `json:"at"`
	Strikes       int          `json:"strikes"`
	// Actor is who took a manual decision ("reviewer:alice"); empty for
	// the policy's own.
	Actor string `json:"actor,omitempty"`
}

// DecisionID derives a decision's id from the event that triggered it, so a
// redelivered event yields the same id and is written once.
func DecisionID(account, eventID string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + eventID))
	return "dec_" + hex.EncodeToString(sum[:12])
}

// AccountState is an account's enforcement, as stored in the account-state
// bucket and answered by Check.
type AccountState struct {
	Account string `json:"account"`
	// Current is the standing decision; nil, or a restore, when the account
	// is clear.
	Current *Decision `json:"current,omitempty"`
	// StrikeTimes are the event times of measures of limit or stronger; a
	// strike escalates later decisions until it expires.
	StrikeTimes []time.Time `json:"strike_times,omitempty"`
	// EventSeq is the events-stream sequence of the last event that took
	// effect here. A redelivered event at or below it has already been
	// applied, which is what keeps a crash from producing a second decision.
	EventSeq  uint64    `json:"event_seq"`
	UpdatedAt time.Time `json:"updated_at"`
	// Basis is what the policy judged when it made Current: the account
	// and its signals then. Re-evaluation under another policy judges the
	// same facts. Nil for a person's decision.
	Basis *Basis `json:"basis,omitempty"`
	// PurgeEligibleAt is when a closure's appeal window passed with no
	// appeal open, and the platform was told it may purge the account.
	PurgeEligibleAt time.Time `json:"purge_eligible_at,omitzero"`
	// Outbox is what the change that wrote this state publishes. It stays
	// after it is published: the last message on its last subject says
	// whether it was (see enforcement.Store.Apply).
	Outbox []Pending `json:"outbox,omitempty"`
}

// Basis is the facts a policy decision rested on.
type Basis struct {
	Account Account           `json:"account"`
	Signals map[string]Signal `json:"signals"`
	// The event that was judged: policies may look at its kind and time.
	EventID   string    `json:"event_id"`
	EventKind Kind      `json:"event_kind"`
	EventAt   time.Time `json:"event_at"`
}

// ActiveStrikes are the strikes not expired at t.
func (s *AccountState) ActiveStrikes(t time.Time, expiry time.Duration) []time.Time {
	if s == nil {
		return nil
	}
	var active []time.Time
	for _, at := range s.StrikeTimes {
		if t.Sub(at) < expiry {
			active = append(active, at)
		}
	}
	return active
}

// StrikesWithout returns the strikes left when measure d is lifted: one
// strike per episode, dated at the episode's first measure of limit or
// stronger, so the strike d carries is the latest one at or before d.At.
// A lifted warning carries none.
func StrikesWithout(strikes []time.Time, d *Decision) []time.Time {
	out := slices.Clone(strikes)
	if d.Action.Severity() < ActionLimit.Severity() {
		return out
	}
	at := -1
	for i, t := range out {
		if !t.After(d.At) && (at < 0 || t.After(out[at])) {
			at = i
		}
	}
	if at >= 0 {
		out = slices.Delete(out, at, at+1)
	}
	return out
}

// Effective is the action in force at now: a timed action that has run out
// is no longer in force.
func (s *AccountState) Effective(now time.Time) Action {
	if s == nil || s.Current == nil || s.Current.Action == ActionRestore {
		return ActionAllow
	}
	if s.Current.Until != nil && !now.Before(*s.Current.Until) {
		return ActionAllow
	}
	return s.Current.Action
}

// Allows reports whether the account may use capability c at now.
func (s *AccountState) Allows(c Capability, now time.Time) bool {
	switch s.Effective(now) {
	case ActionSuspend, ActionClose:
		return false
	case ActionLimit:
		if len(s.Current.Restricts) == 0 {
			return false // a limit that names nothing limits everything
		}
		for _, r := range s.Current.Restricts {
			if r == c {
				return false
			}
		}
	}
	return true
}

// DecisionRecord is a decision with its place in the decisions stream.
type DecisionRecord struct {
	Seq      uint64
	Decision *Decision
}
