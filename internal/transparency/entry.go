package transparency

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Kinds of audit entry, named by the subject they are stored on: a
// decision (mod.enforcement.<account>), a purge notice
// (mod.purge.<account>), or an audit record (mod.audit.<kind>.<id>:
// manual, appeal, reevaluate, batch, token, shadow, suppressed, brigade).
const (
	KindEnforcement = "enforcement"
	KindPurge       = "purge"
	// KindBrigade is a brigade of reporters found among an account's
	// complainants (pipeline.BrigadeRecord): a review work item naming
	// the reporters and their other targets, for reviewers only. Neither
	// owners (who read their decisions) nor the statements export (which
	// reads decisions) ever read one.
	KindBrigade = "brigade"
)

// ActorPolicy is the actor of a decision the policy made.
const ActorPolicy = "policy"

// Entry is one record of the audit trail, with the fields search and
// export filter and show, and the record itself as stored.
type Entry struct {
	Seq        uint64          `json:"seq"`
	Time       time.Time       `json:"time"` // when the stream stored it
	Subject    string          `json:"subject"`
	Kind       string          `json:"kind"`
	Account    string          `json:"account,omitempty"`
	Actor      string          `json:"actor,omitempty"`
	Rule       string          `json:"rule,omitempty"`
	Action     string          `json:"action,omitempty"`
	DecisionID string          `json:"decision_id,omitempty"`
	Summary    string          `json:"summary,omitempty"`
	Record     json.RawMessage `json:"record"`
	// Decision is an enforcement record as decoded, so the statements
	// export does not decode it again; nil for other kinds.
	Decision *moderation.Decision `json:"-"`
}

// KindOf is the kind of record a subject of the decisions stream holds;
// empty for a subject outside it.
func KindOf(subject string) string {
	switch {
	case strings.HasPrefix(subject, natsbus.EnforcementPrefix):
		return KindEnforcement
	case strings.HasPrefix(subject, natsbus.PurgePrefix):
		return KindPurge
	case strings.HasPrefix(subject, natsbus.AuditPrefix):
		kind, _, _ := strings.Cut(strings.TrimPrefix(subject, natsbus.AuditPrefix), ".")
		return kind
	}
	return ""
}

// record is the union of the fields the stream's records use for the same
// things: every writer names the account, actor, rule and decision alike
// (enforcement.ManualRecord, appeals.Record, appeals.BatchRecord,
// auth.TokenRecord, pipeline.ShadowRecord, SuppressedRecord and
// BrigadeRecord, appeals.PurgeNotice), so one decoding reads them all.
type record struct {
	moderation.Decision
	Rule      string `json:"rule"`
	Note      string `json:"note"`
	Reply     string `json:"reply"`
	State     string `json:"state"`
	AppealID  string `json:"appeal_id"`
	RestoreID string `json:"restore_id"`
	Lifted    string `json:"lifted"`
	Op        string `json:"op"`
	TokenID   string `json:"token_id"`
	Role      string `json:"role"`
	Whom      string `json:"subject"` // a token's subject
	BatchID   string `json:"batch_id"`
	Restored  []struct {
		Account string `json:"account"`
	} `json:"restored"`
	Was, Would, Why string
	Agreement       string `json:"agreement"`
	Shadow          struct {
		Action moderation.Action `json:"action"`
		Rule   string            `json:"rule"`
	} `json:"shadow"`
	EligibleAt time.Time `json:"eligible_at"`
	// A brigade's.
	ReporterCount float64  `json:"reporter_count"`
	Reporters     []string `json:"reporters"`
	Targets       []string `json:"targets"`
	TargetCount   float64  `json:"target_count"`
}

// Decode reads one stored record into an entry. A record that is not
// JSON is moderation.ErrCorrupt, which readers skip and report.
func Decode(seq uint64, stored time.Time, subject string, data []byte) (Entry, error) {
	e := Entry{Seq: seq, Time: stored.UTC(), Subject: subject, Kind: KindOf(subject), Record: json.RawMessage(data)}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return e, fmt.Errorf("decode audit record %d on %s: %w (%v)", seq, subject, moderation.ErrCorrupt, err)
	}
	e.Account, e.Actor, e.DecisionID, e.Rule = r.Account, r.Actor, r.DecisionID, r.Rule
	e.Action = string(r.Action)
	switch e.Kind {
	case KindEnforcement:
		e.Decision = &r.Decision
		e.Rule = Rule(&r.Decision)
		if e.Actor == "" {
			e.Actor = ActorPolicy
		}
		e.Summary = r.Statement.Measure
		if len(r.Reasons) > 0 {
			e.Summary = r.Reasons[0].Detail
		}
	case KindPurge:
		e.Action = "purge"
		e.Summary = "eligible for purge from " + r.EligibleAt.UTC().Format(time.RFC3339)
	case "appeal":
		e.Action = r.State
		e.Summary = strings.TrimSpace("appeal " + r.AppealID + " " + r.State + ": " + r.Reply)
	case "manual":
		e.Summary = r.Note
		if r.Lifted != "" {
			e.Summary += " (lifts " + r.Lifted + ")"
		}
	case "token":
		e.Action = r.Op
		e.Summary = fmt.Sprintf("token %s (%s %s)", r.TokenID, r.Role, r.Whom)
	case "batch":
		e.Action = "reevaluate"
		e.Summary = fmt.Sprintf("batch %s: %d restored under %s; %s", r.BatchID, len(r.Restored), r.PolicyVersion, r.Note)
	case "reevaluate":
		e.Action = "restore"
		e.Summary = fmt.Sprintf("batch %s: %s would be %s: %s", r.BatchID, r.Was, r.Would, r.Why)
	case "shadow":
		e.Actor, e.Rule, e.Action = ActorPolicy, r.Shadow.Rule, string(r.Shadow.Action)
		e.Summary = "shadow policy " + r.Agreement + " than live"
	case KindBrigade:
		e.Actor, e.Action = ActorPolicy, "review"
		e.Summary = fmt.Sprintf("brigade of %s discounted (%s); their other targets: %s",
			plural(r.ReporterCount, "reporter"), listed(r.Reporters, r.ReporterCount), listed(r.Targets, r.TargetCount))
	case "suppressed":
		e.Actor = ActorPolicy
		e.Summary = "not enforced: the rule is suppressed"
	}
	return e, nil
}

// plural is "1 reporter", "3 reporters".
func plural(n float64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%g %ss", n, noun)
}

// listed is names, and how many of total they leave out.
func listed(names []string, total float64) string {
	s := strings.Join(names, ", ")
	if s == "" {
		s = "none named"
	}
	if more := int(total) - len(names); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}
