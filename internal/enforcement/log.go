package enforcement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Log reads the decisions published on mod.enforcement.<account>.
type Log struct {
	stream jetstream.Stream
}

// NewLog reads decisions from the decisions stream.
func NewLog(decisions jetstream.Stream) *Log { return &Log{stream: decisions} }

func enforcementSubject(account string) string {
	if account == "" {
		return natsbus.EnforcementPrefix + "*"
	}
	return natsbus.EnforcementPrefix + account
}

// decodeDecision reads the decision stored on subject. Anything that is
// not one (not JSON, or JSON without a decision id, or for another account
// than its subject names: "null" decodes without error) is
// moderation.ErrCorrupt, which readers skip and report.
func decodeDecision(subject string, b []byte) (*moderation.Decision, error) {
	var d moderation.Decision
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode decision: %w (%v)", moderation.ErrCorrupt, err)
	}
	if d.DecisionID == "" || natsbus.EnforcementPrefix+d.Account != subject {
		return nil, fmt.Errorf("decode decision: %w (decision id %q, account %q on %s)", moderation.ErrCorrupt, d.DecisionID, d.Account, subject)
	}
	return &d, nil
}

// List returns up to limit decisions at or after sequence from, oldest
// first: one account's, or every account's when account is empty. next is
// where the following page starts; 0 when there is none. A record that is
// not a decision is skipped and reported (natsbus.Skip): the stream denies
// deletes, so failing on it would fail every listing that reaches it.
func (l *Log) List(ctx context.Context, account string, from uint64, limit int) (page []moderation.DecisionRecord, next uint64, err error) {
	subject := enforcementSubject(account)
	seq := max(from, 1)
	for {
		msg, err := l.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return page, 0, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read decisions on %s from %d: %w", subject, seq, err)
		}
		if len(page) == limit {
			return page, msg.Sequence, nil // one more exists: it starts the next page
		}
		seq = msg.Sequence + 1
		d, err := decodeDecision(msg.Subject, msg.Data)
		if err != nil {
			natsbus.Skip(nil, natsbus.SourceDecisions, err, "seq", msg.Sequence, "subject", msg.Subject)
			continue
		}
		page = append(page, moderation.DecisionRecord{Seq: msg.Sequence, Decision: d})
	}
}

// Get returns one decision on an account.
func (l *Log) Get(ctx context.Context, account, decisionID string) (*moderation.DecisionRecord, error) {
	var from uint64 = 1
	for {
		page, next, err := l.List(ctx, account, from, 100)
		if err != nil {
			return nil, err
		}
		for i := range page {
			if page[i].Decision.DecisionID == decisionID {
				return &page[i], nil
			}
		}
		if next == 0 {
			return nil, fmt.Errorf("decision %s on %s: %w", decisionID, account, moderation.ErrNotFound)
		}
		from = next
	}
}

// Watch calls fn with each decision published from sequence from on (0:
// only those published from now), for one account or every account, until
// ctx ends or fn fails. An ordered consumer resumes by itself across NATS
// outages. Records that are not decisions are skipped and reported, as in
// List.
func (l *Log) Watch(ctx context.Context, account string, from uint64, fn func(moderation.DecisionRecord) error) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{enforcementSubject(account)}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := l.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("watch decisions on %s: %w", cfg.FilterSubjects[0], err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("watch decisions on %s: %w", cfg.FilterSubjects[0], err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch decisions: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("watch decisions: %w", err)
		}
		d, err := decodeDecision(msg.Subject(), msg.Data())
		if err != nil {
			natsbus.Skip(nil, natsbus.SourceDecisions, err, "seq", meta.Sequence.Stream, "subject", msg.Subject())
			continue
		}
		if err := fn(moderation.DecisionRecord{Seq: meta.Sequence.Stream, Decision: d}); err != nil {
			return err
		}
	}
}
