package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// rebuild restores detector windows after a restart, through the ack
// floor: from the last snapshot (snapshot.go) and the events after it, or,
// without a usable snapshot, by feeding the detectors the events the
// consumer had already acknowledged, from RebuildWindow before the last of
// them. Nothing is judged: those events' decisions are already stored.
// Live processing starts after it, so windows are whole before the first
// new event is judged.
func (p *Pipeline) rebuild(ctx context.Context, floor uint64) error {
	began := time.Now()
	r := Rebuilt{Through: floor}
	defer func() {
		r.Took = time.Since(began)
		p.snap.rebuilt.Store(&r)
	}()
	if floor == 0 {
		r.Reason = "nothing acknowledged yet"
		return nil
	}
	info, err := p.events.Info(ctx)
	if err != nil {
		return fmt.Errorf("read stream %s: %w", natsbus.EventsStream, err)
	}
	through, why := p.restoreSnapshot(ctx, info.State.LastSeq)
	if why != nil {
		r.Reason = why.Error()
		p.log.Info("windows rebuilt from the events, not a snapshot", "reason", r.Reason)
		return p.rebuildFromEvents(ctx, floor, &r)
	}
	r.Snapshot = through
	p.snap.written.Store(through)
	p.snap.taken = time.Now()
	if through < floor {
		oc, err := p.events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   through + 1,
		})
		if err != nil {
			return fmt.Errorf("open rebuild consumer: %w", err)
		}
		if r.Replayed, err = p.replayThrough(ctx, oc, floor, began); err != nil {
			return fmt.Errorf("replay events after the snapshot: %w", err)
		}
	}
	// Every event at or below both is counted; when the snapshot is the
	// later, (floor, through] comes again from the consumer and is skipped
	// (see snapshot.go).
	p.snap.through, p.snap.last = max(through, floor), max(through, floor)
	p.log.Info("windows restored from a snapshot", "snapshot_seq", through, "ack_floor", floor, "replayed", r.Replayed,
		"accounts", p.windows.Len(), "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// rebuildStart is where windows whole at event floor begin: RebuildWindow
// before the time the stream stored floor (before now when it aged out).
func (p *Pipeline) rebuildStart(ctx context.Context, floor uint64) (time.Time, error) {
	m, err := p.events.GetMsg(ctx, floor)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return time.Now().Add(-p.cfg.RebuildWindow), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read event %d: %w", floor, err)
	}
	return m.Time.Add(-p.cfg.RebuildWindow), nil
}

// rebuildFromEvents replays the events from RebuildWindow before floor
// through floor.
func (p *Pipeline) rebuildFromEvents(ctx context.Context, floor uint64, r *Rebuilt) error {
	start, err := p.rebuildStart(ctx, floor)
	if err != nil {
		return err
	}
	oc, err := p.events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
	})
	if err != nil {
		return fmt.Errorf("open rebuild consumer: %w", err)
	}
	began := time.Now()
	if r.Replayed, err = p.replayThrough(ctx, oc, floor, began); err != nil {
		return fmt.Errorf("rebuild windows: %w", err)
	}
	p.snap.through, p.snap.last = floor, floor
	p.log.Info("windows rebuilt", "events", r.Replayed, "through_seq", floor, "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// replayThrough observes events from oc up to and including seq floor,
// logging progress every few seconds: on a large stream this takes minutes.
func (p *Pipeline) replayThrough(ctx context.Context, oc jetstream.Consumer, floor uint64, began time.Time) (int, error) {
	n := 0
	lastLog := began
	err := natsbus.ReadThrough(ctx, oc, floor, func(msg jetstream.Msg, meta *jetstream.MsgMetadata) (bool, error) {
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			p.log.Info("rebuilding windows", "events", n, "through_seq", floor, "elapsed", time.Since(began).Round(time.Second).String())
		}
		if ev, err := p.decode(msg, meta); err == nil {
			p.observe(ev, meta.Sequence.Stream) // windows only: these events were judged before
			n++
		}
		return true, nil
	})
	return n, err
}
