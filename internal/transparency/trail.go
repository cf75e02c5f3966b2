package transparency

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Filter selects audit entries. Empty fields select everything.
type Filter struct {
	Account string
	// Actor matches an entry's actor whole ("reviewer:alice") or by its
	// subject ("alice"); "policy" matches the policy's decisions.
	Actor string
	// Rule matches the rule an entry names (a decision's first reason).
	Rule string
	// Kind limits the scan to one kind of record (KindOf).
	Kind string
	// Since and Until bound the time the stream stored the record:
	// Since <= time < Until. Zero: unbounded.
	Since, Until time.Time
	// FromSeq, when set, starts the scan at this stream sequence instead
	// of at Since: where an earlier page stopped.
	FromSeq uint64
	// MaxScan, when set, ends the scan after reading this many records,
	// matching or not, so a search for something rare is still bounded.
	MaxScan uint64
}

// Validate names the first field that is wrong.
func (f Filter) Validate() error {
	switch {
	case f.Account != "" && !moderation.ValidAccountID(f.Account):
		return moderation.Invalid("account", "must match [A-Za-z0-9_-]{1,64}")
	case strings.ContainsAny(f.Kind, ".*> "):
		return moderation.Invalid("kind", "must be one word, such as enforcement, manual or appeal")
	case !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since):
		return moderation.Invalid("until", "must be after since")
	}
	return nil
}

// Match reports whether an entry is one f selects; the scan has already
// narrowed by subject and time.
func (f Filter) Match(e Entry) bool {
	if f.Account != "" && e.Account != f.Account {
		return false
	}
	if f.Rule != "" && e.Rule != f.Rule {
		return false
	}
	if f.Actor != "" && e.Actor != f.Actor && !strings.HasSuffix(e.Actor, ":"+f.Actor) {
		return false
	}
	return f.Kind == "" || e.Kind == f.Kind
}

// subjects are the stream subjects that can hold what f selects: one
// account's subjects when it names one, or the whole stream.
func (f Filter) subjects() []string {
	acct := "*"
	if f.Account != "" {
		acct = f.Account
	}
	enforcement, purge, audit := natsbus.EnforcementPrefix+acct, natsbus.PurgePrefix+acct, natsbus.AuditPrefix+"*."+acct
	switch f.Kind {
	case "":
		if f.Account == "" {
			return nil // the whole stream
		}
		return []string{enforcement, purge, audit}
	case KindEnforcement:
		return []string{enforcement}
	case KindPurge:
		return []string{purge}
	}
	if f.Account == "" {
		return []string{natsbus.AuditPrefix + f.Kind + ".>"}
	}
	return []string{natsbus.AuditPrefix + f.Kind + "." + acct}
}

// Progress is how far a scan has gone.
type Progress struct {
	Scanned uint64 // records read
	Matched uint64 // records that matched
	// Total is how many records the scan will read at most: those on its
	// subjects from its start that were stored when it began.
	Total uint64
}

// Trail reads the audit trail: the decisions stream, which holds every
// decision, audit record and purge notice.
type Trail struct {
	stream jetstream.Stream
}

// NewTrail reads the audit trail in the decisions stream.
func NewTrail(decisions jetstream.Stream) *Trail { return &Trail{stream: decisions} }

// ErrStop, returned by a Scan callback, ends the scan without error.
var ErrStop = errors.New("stop scan")

// Scan reads the records f selects, in stream order, calling fn with each
// match, and with a nil entry on progress every so often and once at the
// end with the final counts. The scan is
// bounded: it starts at f.FromSeq or f.Since and ends at f.Until, at the
// last record stored when it began, or after f.MaxScan records, whichever
// comes first, so a busy stream cannot keep it going. It returns the
// sequence where the scan stopped early (fn returned ErrStop, or MaxScan
// was reached), for the next page to start at, or 0 when it read
// everything.
func (t *Trail) Scan(ctx context.Context, f Filter, fn func(e *Entry, p Progress) error) (next uint64, err error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	var p Progress
	if next, err = t.scan(ctx, f, &p, fn); err != nil {
		return 0, err
	}
	// The last call has the final counts, whatever fn saw before.
	if err := fn(nil, p); err != nil && !errors.Is(err, ErrStop) {
		return 0, err
	}
	return next, nil
}

func (t *Trail) scan(ctx context.Context, f Filter, p *Progress, fn func(e *Entry, p Progress) error) (next uint64, err error) {
	info, err := t.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("scan audit trail: %w", err)
	}
	last := info.State.LastSeq
	cfg := jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: time.Minute,
		FilterSubjects:    f.subjects(),
		MemoryStorage:     true,
	}
	switch {
	case f.FromSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, f.FromSeq
	case !f.Since.IsZero():
		since := f.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	if f.FromSeq > last || last == 0 {
		return 0, nil
	}
	cons, err := t.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("scan audit trail: %w", err)
	}
	defer func() {
		// The server removes it after a minute anyway.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = t.stream.DeleteConsumer(dctx, cons.CachedInfo().Name)
	}()
	p.Total = cons.CachedInfo().NumPending
	if p.Total == 0 {
		return 0, nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return 0, fmt.Errorf("scan audit trail: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("scan audit trail: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return 0, fmt.Errorf("scan audit trail: %w", err)
		}
		seq := meta.Sequence.Stream
		if seq > last || !f.Until.IsZero() && !meta.Timestamp.Before(f.Until) {
			return 0, nil
		}
		p.Scanned++
		e, err := Decode(seq, meta.Timestamp, msg.Subject(), msg.Data())
		if err != nil {
			natsbus.Skip(nil, natsbus.SourceDecisions, err, "seq", seq, "subject", msg.Subject())
		} else if f.Match(e) {
			p.Matched++
			if err := fn(&e, *p); errors.Is(err, ErrStop) {
				return nextAfter(seq, meta.NumPending, last), nil
			} else if err != nil {
				return 0, err
			}
		}
		if p.Scanned%1024 == 0 {
			if err := fn(nil, *p); errors.Is(err, ErrStop) {
				return nextAfter(seq, meta.NumPending, last), nil
			} else if err != nil {
				return 0, err
			}
		}
		if meta.NumPending == 0 {
			return 0, nil
		}
		if f.MaxScan > 0 && p.Scanned >= f.MaxScan {
			return nextAfter(seq, meta.NumPending, last), nil
		}
	}
}

// nextAfter is where a scan stopped at seq resumes: the next sequence,
// unless nothing is left to read.
func nextAfter(seq, pending, last uint64) uint64 {
	if pending == 0 || seq >= last {
		return 0
	}
	return seq + 1
}
