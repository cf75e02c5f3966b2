package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/detectors"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// A brigade (reporters who complain together about many accounts) has its
// complaints discounted, so it never limits the account it aims at; what
// is left is for a person to look at: who the reporters are and whom else
// they hit. The account's judging records it as a review work item in the
// decisions stream, which the audit trail and the console's Flagged queue
// read; the policy watches brigade_reporters, so the account is judged
// when a brigade first shows among its complainants.

// BrigadeRecord is what the decisions stream keeps of a brigade against an
// account, for review: subject mod.audit.brigade.<account>. It names the
// reporters, which only reviewers read (the audit trail); an owner's
// statement of reasons and the transparency exports carry counts only.
type BrigadeRecord struct {
	Account       string    `json:"account"`
	EventID       string    `json:"event_id"`
	At            time.Time `json:"at"`
	Rule          string    `json:"rule"` // "brigade", the signal's name
	PolicyVersion string    `json:"policy_version"`
	Complaints    float64   `json:"complaints"` // the brigade's complaints discounted
	// ReporterCount is how many reporters are in the brigade; Reporters
	// and Targets (the other accounts they complained about) list at most
	// the first ten of each, sorted, as the signal's evidence names them.
	ReporterCount float64  `json:"reporter_count"`
	Reporters     []string `json:"reporters"`
	Targets       []string `json:"targets"`
	TargetCount   float64  `json:"target_count"`
	Evidence      string   `json:"evidence"`
}

// reviewBrigade records the brigade the judged input carries, if any, once
// per account per complaint window, and again as it grows: not when the
// account's last brigade record is of an event within the window of this
// one (the reporters stay brigade members that long) and named at least
// half as many reporters. A brigade shows one settled reporter at a time,
// so its first record may name few; the policy watches brigade_reporters
// at 1, 5 and 25 so that the account is judged again as it grows. The lane that judges the account
// writes it and reads it back, so in partitioned mode only the instance
// owning the account does, and the answer is the same whichever instance
// that is; the message id comes from the event, so a redelivery or a retry
// writes it once.
func (p *Pipeline) reviewBrigade(ctx context.Context, jin *judgeInput, ev *moderation.Event, version string) error {
	s, ok := jin.signals["brigade"]
	if !ok || s.Values["brigade_reporters"] <= 0 {
		return nil
	}
	subject := natsbus.AuditPrefix + "brigade." + ev.Account
	if recorded, err := p.brigadeRecorded(ctx, subject, ev.At, s.Values["brigade_reporters"]); err != nil || recorded {
		return err
	}
	reporters, targets := BrigadeNames(s.Evidence)
	rec := BrigadeRecord{Account: ev.Account, EventID: ev.ID, At: ev.At.UTC(), Rule: "brigade", PolicyVersion: version,
		Complaints: s.Values["brigade_complaints"], ReporterCount: s.Values["brigade_reporters"],
		Reporters: reporters, Targets: targets, TargetCount: s.Values["other_targets"], Evidence: s.Evidence}
	return p.store.Audit(ctx, subject, "brigade-"+moderation.DecisionID(ev.Account, ev.ID), rec)
}

// brigadeWindow is how long one record stands for an account's brigade:
// the complaint window, over which the detector weighs its reporters.
var brigadeWindow = detectors.DefaultReporterParams.Window

// brigadeRecorded reports whether the account's last brigade record is of
// an event within brigadeWindow of at and names at least half as many
// reporters. Without a decisions stream (a backtest, which sees no
// brigades) there is none.
func (p *Pipeline) brigadeRecorded(ctx context.Context, subject string, at time.Time, reporters float64) (bool, error) {
	if p.streams == nil || p.streams.Decisions == nil {
		return false, nil
	}
	msg, err := p.streams.Decisions.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read last %s: %w", subject, err)
	}
	var last BrigadeRecord
	if json.Unmarshal(msg.Data, &last) != nil {
		return false, nil // unreadable: a fresh record replaces it
	}
	return at.Sub(last.At).Abs() < brigadeWindow && reporters < 2*last.ReporterCount, nil
}

// BrigadeNames reads the reporters and the other targets a brigade
// signal's evidence names (detectors.ComplaintRate.BrigadeSignal: "…
// accounts (<rule>): r1, r2 and 3 more; their other targets: t1, t2").
func BrigadeNames(evidence string) (reporters, targets []string) {
	_, rest, ok := strings.Cut(evidence, "): ")
	if !ok {
		return nil, nil
	}
	reps, tgts, _ := strings.Cut(rest, "; their other targets: ")
	return namesIn(reps), namesIn(tgts)
}

// namesIn splits "a, b and 3 more" into a and b.
func namesIn(list string) []string {
	list, _, _ = strings.Cut(list, " and ")
	var out []string
	for _, n := range strings.Split(list, ", ") {
		if n = strings.TrimSpace(n); moderation.ValidAccountID(n) {
			out = append(out, n)
		}
	}
	return out
}
