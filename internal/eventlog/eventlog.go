// Package eventlog stores events handed over the API in the events stream,
// exactly as if a platform service had published them, and reads an
// account's retained events back for its timeline. It knows NATS and the
// domain types, not gRPC.
package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/moderation"
)

// Log is the events stream.
type Log struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// New returns a log over the events stream.
func New(js jetstream.JetStream, stream jetstream.Stream) *Log { return &Log{js: js, stream: stream} }

// Ingest validates every event first, so a batch with a bad one stores
// nothing, then publishes them in order to mod.events.<kind>.<account>
// with the event id as Nats-Msg-Id, and waits until each is stored.
//
// Storing is per event, not atomic: if NATS fails part way, the events
// before the failure are stored and the call fails. Retrying the whole
// call is safe within the de-duplication window, because an event id is
// stored once. (JetStream's atomic batches refuse a batch that repeats a
// stored id, which would turn that safe retry into an error, and the
// external servers the service supports need not have them.)
func (l *Log) Ingest(ctx context.Context, evs []*moderation.Event) ([]moderation.EventRecord, error) {
	msgs := make([]*nats.Msg, len(evs))
	for i, ev := range evs {
		if err := events.Validate(ev); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		b, err := events.EncodeJSON(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
		}
		msgs[i] = &nats.Msg{Subject: "mod.events." + string(ev.Kind) + "." + ev.Account, Data: b, Header: nats.Header{}}
		msgs[i].Header.Set(nats.MsgIdHdr, ev.ID)
		msgs[i].Header.Set("Content-Type", "application/json")
	}
	acks := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		f, err := l.js.PublishMsgAsync(m)
		if err != nil {
			return nil, fmt.Errorf("store event %s: %w", evs[i].ID, err)
		}
		acks[i] = f
	}
	out := make([]moderation.EventRecord, len(evs))
	for i, f := range acks {
		select {
		case ack := <-f.Ok():
			out[i] = moderation.EventRecord{Seq: ack.Sequence, Duplicate: ack.Duplicate, Event: evs[i]}
		case err := <-f.Err():
			return nil, fmt.Errorf("store event %s: %w", evs[i].ID, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("store event %s: %w", evs[i].ID, ctx.Err())
		}
	}
	return out, nil
}

// History returns an account's latest limit retained events stored at or
// after since (zero: all retained), oldest first. Events that do not
// decode (they went to the dead-letter stream) are left out.
func (l *Log) History(ctx context.Context, account string, since time.Time, limit int) ([]moderation.EventRecord, error) {
	// As stored (with the partition token), and as stored before the events
	// stream added it.
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{"mod.events.*." + account + ".*", "mod.events.*." + account}}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := l.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", account, err)
	}
	pending := cons.CachedInfo().NumPending
	ring := make([]moderation.EventRecord, 0, min(uint64(limit), pending))
	next := 0
	for got := uint64(0); got < pending; {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read events of %s: %w", account, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			got++
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			ev, err := events.Decode(msg.Subject(), msg.Headers().Get("Content-Type"), msg.Data())
			if err != nil {
				continue
			}
			s := moderation.EventRecord{Seq: meta.Sequence.Stream, Event: ev}
			if len(ring) < limit {
				ring = append(ring, s)
			} else if limit > 0 {
				ring[next] = s
				next = (next + 1) % limit
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read events of %s: %w", account, err)
		}
		if n == 0 {
			break // the rest aged out while reading
		}
	}
	return append(ring[next:], ring[:next]...), nil
}
