package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// rebuild restores detector windows after a restart by feeding the
// detectors the events the consumer had already acknowledged, from
// RebuildWindow before the last of them. Nothing is judged: those events'
// decisions are already stored. Live processing starts after it, so windows
// are whole before the first new event is judged.
func (p *Pipeline) rebuild(ctx context.Context, floor uint64) error {
	if floor == 0 {
		return nil
	}
	start := time.Now().Add(-p.cfg.RebuildWindow)
	if last, err := p.events.GetMsg(ctx, floor); err == nil {
		start = last.Time.Add(-p.cfg.RebuildWindow)
	} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("read event %d: %w", floor, err)
	}
	oc, err := p.events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
	})
	if err != nil {
		return fmt.Errorf("open rebuild consumer: %w", err)
	}
	began := time.Now()
	n, err := p.replayThrough(ctx, oc, floor, began)
	if err != nil {
		return fmt.Errorf("rebuild windows: %w", err)
	}
	p.log.Info("windows rebuilt", "events", n, "through_seq", floor, "took", time.Since(began).Round(time.Millisecond).String())
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
