// Package moderation holds the domain types of the moderation service:
// events, signals, decisions and account state. It imports nothing outside
// the standard library so detectors, policies, appeals and every transport
// can share it without knowing about each other.
package moderation

import (
	"fmt"
	"time"
)

// Kind is the kind of an event, the third token of its subject.
type Kind string

const (
	KindBroadcast      Kind = "broadcast"
	KindFriendAdd      Kind = "friend_add"
	KindComplaint      Kind = "complaint"
	KindUnfollow       Kind = "unfollow"
	KindFriendResponse Kind = "friend_response"
)

// Known reports whether k is a kind the service accepts.
func (k Kind) Known() bool {
	switch k {
	case KindBroadcast, KindFriendAdd, KindComplaint, KindUnfollow, KindFriendResponse:
		return true
	}
	return false
}

// AccountType is the platform's type of account; quotas and thresholds are
// set per type.
type AccountType string

const (
	AccountPersonal     AccountType = "personal"
	AccountSubscription AccountType = "subscription"
	AccountService      AccountType = "service"
	AccountEnterprise   AccountType = "enterprise"
)

// Known reports whether t is an account type the platform has.
func (t AccountType) Known() bool {
	switch t {
	case AccountPersonal, AccountSubscription, AccountService, AccountEnterprise:
		return true
	}
	return false
}

// AccountInfo describes the acting account. Publishers send it on an
// account's first event and may omit it afterwards.
type AccountInfo struct {
	Type      AccountType `json:"type"`
	Verified  bool        `json:"verified"`
	CreatedAt time.Time   `json:"created_at"`
}

// Event is one thing an account did, in event time.
type Event struct {
	ID          string       `json:"id"`
	Kind        Kind         `json:"kind"`
	Account     string       `json:"account"`
	At          time.Time    `json:"at"`
	AccountInfo *AccountInfo `json:"account_info,omitempty"`

	Broadcast      *Broadcast      `json:"broadcast,omitempty"`
	FriendAdd      *FriendAdd      `json:"friend_add,omitempty"`
	Complaint      *Complaint      `json:"complaint,omitempty"`
	Unfollow       *Unfollow       `json:"unfollow,omitempty"`
	FriendResponse *FriendResponse `json:"friend_response,omitempty"`
}

// Broadcast is a message an official account sent to its followers.
type Broadcast struct {
	ID         string `json:"id"`
	Text       string `json:"text"`
	Recipients int64  `json:"recipients"`
}

// FriendAdd is a friend request the account sent.
type FriendAdd struct {
	Target  string `json:"target"`
	Message string `json:"message,omitempty"`
	Source  Source `json:"source"`
}

// Source is where the requester found the target of a friend request.
type Source string

const (
	SourceSearch  Source = "search"
	SourceGroup   Source = "group"
	SourceContact Source = "contact"
	SourceQR      Source = "qr"
	SourceCard    Source = "card"
	SourceOther   Source = "other"
)

// Known reports whether s is a source the platform reports.
func (s Source) Known() bool {
	switch s {
	case SourceSearch, SourceGroup, SourceContact, SourceQR, SourceCard, SourceOther:
		return true
	}
	return false
}

// Stranger reports whether a request from this source goes to someone the
// requester has no prior tie to. A QR code or a contact card is handed over
// in person or by a friend, so it counts as a tie.
func (s Source) Stranger() bool {
	switch s {
	case SourceSearch, SourceGroup, SourceOther:
		return true
	}
	return false
}

// Complaint is a report against the account, filed by one of its followers.
type Complaint struct {
	Reporter    string `json:"reporter"`
	Reason      string `json:"reason"`
	BroadcastID string `json:"broadcast_id,omitempty"`
}

// Unfollow is a follower leaving an official account.
type Unfollow struct {
	Follower string `json:"follower"`
}

// FriendResponse is the target's answer to one of the account's requests.
type FriendResponse struct {
	Target   string `json:"target"`
	Response string `json:"response"` // accepted, ignored, reported
}

// Limits on what an event may carry. Larger values are refused rather than
// truncated so that nothing is judged on partial data.
const (
	MaxEventBytes = 64 << 10
	MaxTextRunes  = 20000
	MaxIDLen      = 128
)

var complaintReasons = map[string]bool{"spam": true, "ads": true, "fraud": true, "porn": true, "harassment": true, "other": true}
var friendResponses = map[string]bool{"accepted": true, "ignored": true, "reported": true}

// ValidAccountID reports whether id is a subject-safe account id:
// [A-Za-z0-9_-]{1,64}.
func ValidAccountID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks the event against the events contract. The error names
// the offending field.
func (e *Event) Validate() error {
	switch {
	case e.ID == "":
		return Invalid("id", "is required")
	case len(e.ID) > MaxIDLen:
		return Invalid("id", fmt.Sprintf("is longer than %d bytes", MaxIDLen))
	case e.Kind == "":
		return Invalid("kind", "is required")
	case !e.Kind.Known():
		return Invalid("kind", fmt.Sprintf("%q is not a known kind", e.Kind))
	case e.Account == "":
		return Invalid("account", "is required")
	case !ValidAccountID(e.Account):
		return Invalid("account", "must match [A-Za-z0-9_-]{1,64}")
	case e.At.IsZero():
		return Invalid("at", "is required (RFC 3339)")
	}
	if ai := e.AccountInfo; ai != nil {
		if !ai.Type.Known() {
			return Invalid("account_info.type", fmt.Sprintf("%q is not a known account type", ai.Type))
		}
		if ai.CreatedAt.IsZero() {
			return Invalid("account_info.created_at", "is required (RFC 3339)")
		}
	}
	return e.validateBody()
}

func (e *Event) validateBody() error {
	bodies := 0
	for _, present := range []bool{e.Broadcast != nil, e.FriendAdd != nil, e.Complaint != nil, e.Unfollow != nil, e.FriendResponse != nil} {
		if present {
			bodies++
		}
	}
	if bodies > 1 {
		return Invalid(string(e.Kind), "event carries more than one body")
	}
	switch e.Kind {
	case KindBroadcast:
		b := e.Broadcast
		switch {
		case b == nil:
			return Invalid("broadcast", "body is required for kind broadcast")
		case b.ID == "":
			return Invalid("broadcast.id", "is required")
		case b.Recipients < 0:
			return Invalid("broadcast.recipients", "must not be negative")
		case len([]rune(b.Text)) > MaxTextRunes:
			return Invalid("broadcast.text", fmt.Sprintf("is longer than %d characters", MaxTextRunes))
		}
	case KindFriendAdd:
		f := e.FriendAdd
		switch {
		case f == nil:
			return Invalid("friend_add", "body is required for kind friend_add")
		case f.Target == "":
			return Invalid("friend_add.target", "is required")
		case !f.Source.Known():
			return Invalid("friend_add.source", fmt.Sprintf("%q is not one of search, group, contact, qr, card, other", f.Source))
		}
	case KindComplaint:
		c := e.Complaint
		switch {
		case c == nil:
			return Invalid("complaint", "body is required for kind complaint")
		case c.Reporter == "":
			return Invalid("complaint.reporter", "is required")
		case !complaintReasons[c.Reason]:
			return Invalid("complaint.reason", fmt.Sprintf("%q is not one of spam, ads, fraud, porn, harassment, other", c.Reason))
		}
	case KindUnfollow:
		if e.Unfollow == nil || e.Unfollow.Follower == "" {
			return Invalid("unfollow.follower", "is required")
		}
	case KindFriendResponse:
		r := e.FriendResponse
		switch {
		case r == nil || r.Target == "":
			return Invalid("friend_response.target", "is required")
		case !friendResponses[r.Response]:
			return Invalid("friend_response.response", fmt.Sprintf("%q is not one of accepted, ignored, reported", r.Response))
		}
	}
	return nil
}

// Subject is the NATS subject an event is published on.
func (e *Event) Subject() string {
	return EventSubject(e.Kind, e.Account)
}

// EventSubject is mod.events.<kind>.<account>.
func EventSubject(k Kind, account string) string {
	return "mod.events." + string(k) + "." + account
}

// EventRecord is an event with its place in the events stream.
type EventRecord struct {
	Seq       uint64
	Duplicate bool // already stored under the same id; not stored again
	Event     *Event
}
