package moderation

import "encoding/json"

// Change is what one change of an account does: the state after it, and
// the messages that announce and record it, in the order they are
// published. Every change of an account (the policy's judgement, a
// person's action, a granted appeal, a re-evaluation, a purge mark) is
// made as a Change through one function, so each is written the same
// durable way.
type Change struct {
	State     *AccountState // the state after; nil when there is nothing to change
	Decisions []*Decision   // published on mod.enforcement.<account>
	Records   []Record      // audit records and notices, published after the decisions
}

// Paths that change an account, named in logs and metrics. Each is also a
// place where a crash can be rehearsed (enforcement.Store.CrashAfterWrite).
const (
	PathJudge      = "judge"
	PathManual     = "manual"
	PathAppeal     = "appeal"
	PathReevaluate = "reevaluate"
	PathPurge      = "purge"
)

// Record is one message a change publishes beside its decisions: an audit
// record (mod.audit.*) or a notice (mod.purge.<account>).
type Record struct {
	Subject string
	MsgID   string // de-duplicates: a record published twice is stored once
	Body    any    // encoded as JSON
}

// Pending is a message of a change as the account state carries it, in
// its outbox: written in the same compare-and-set as the change, so that a
// crash between the write and the publish leaves the message in the store,
// to be published by whoever next finds it.
type Pending struct {
	Subject string          `json:"subject"`
	MsgID   string          `json:"msg_id"`
	Data    json.RawMessage `json:"data"`
}
