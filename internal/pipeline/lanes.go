package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Lane tuning. A lane whose instance dies keeps its partition pinned for
// laneTTL after its last pull; the messages it held come back after
// laneAckWait, and the lane that takes over handles them first (takeOver),
// so a partition moves to another instance within about laneTTL plus its
// rebuild.
const (
	laneTTL         = 10 * time.Second
	laneAckWait     = 30 * time.Second
	laneMaxPending  = 1000
	lanePullBatch   = 256
	laneMonitorTick = 5 * time.Second
	laneWorkQueue   = 512
)

// lane processes one partition: the callback of the partition's consumer,
// so one message at a time and in stream order. The consumer pins one
// client of the priority group at a time (JetStream's own coordination),
// so across instances exactly one lane holds a partition; a pin is a
// lease, not a fence, and the compare-and-set on account state is what
// stops a lane that lost its pin from doing harm.
type lane struct {
	p     *Pipeline
	part  int
	cons  jetstream.Consumer
	label string

	// Touched only by the lane's callback (and before it starts).
	owned         bool   // took the partition over: windows rebuilt, held messages handled
	lastDelivered uint64 // consumer sequence of the last message delivered here
	seen          uint64 // stream sequence of the last event counted here

	// The second stage: events counted, waiting for their judging and
	// writes, then acknowledged in order by the lane's worker.
	work    chan item
	quit    chan struct{} // closed when the pipeline stops
	pending sync.WaitGroup
	halted  atomic.Bool // an event was left unacknowledged: acknowledge nothing after it

	pin      atomic.Pointer[string] // the pin id JetStream gave this lane's pulls
	acked    prometheus.Counter
	ownedG   prometheus.Gauge
	lagG     prometheus.Gauge
	lastInfo atomic.Pointer[jetstream.ConsumerInfo]
}

// openLanes declares one durable consumer per partition, pinned to one
// client of the lanes group at a time, and returns a lane for each. An
// existing consumer is used as it is (other instances consume it too). A
// data directory from before partitions had one consumer for all events:
// the partition consumers start after its last acknowledged event, and it
// is deleted once they exist.
func (p *Pipeline) openLanes(ctx context.Context) ([]*lane, error) {
	var floor uint64
	legacy, err := p.events.Consumer(ctx, natsbus.PipelineDurable)
	switch {
	case err == nil:
		info, err := legacy.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("read consumer %s: %w", natsbus.PipelineDurable, err)
		}
		floor = info.AckFloor.Stream
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, fmt.Errorf("look up consumer %s: %w", natsbus.PipelineDurable, err)
	}
	lanes := make([]*lane, natsbus.Partitions)
	for part := range lanes {
		name := natsbus.PartitionConsumer(part)
		cons, err := p.events.Consumer(ctx, name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			cfg := jetstream.ConsumerConfig{
				Durable:        name,
				Description:    fmt.Sprintf("detectors and judge for partition %d; its events are handled in stream order by one lane at a time", part),
				FilterSubject:  natsbus.PartitionFilter(part),
				AckPolicy:      jetstream.AckExplicitPolicy,
				AckWait:        laneAckWait,
				MaxAckPending:  laneMaxPending,
				DeliverPolicy:  jetstream.DeliverAllPolicy,
				PriorityGroups: []string{natsbus.LaneGroup},
				PriorityPolicy: jetstream.PriorityPolicyPinned,
				PinnedTTL:      laneTTL,
			}
			if floor > 0 {
				cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
			}
			cons, err = p.events.CreateConsumer(ctx, cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("declare consumer %s: %w", name, err)
		}
		label := strconv.Itoa(part)
		l := &lane{p: p, part: part, cons: cons, label: label, work: make(chan item, laneWorkQueue), quit: make(chan struct{}),
			acked:  p.metrics.PartitionEvents.WithLabelValues(label),
			ownedG: p.metrics.PartitionOwned.WithLabelValues(label),
			lagG:   p.metrics.PartitionLag.WithLabelValues(label)}
		l.ownedG.Set(0)
		lanes[part] = l
	}
	if legacy != nil {
		if err := p.events.DeleteConsumer(ctx, natsbus.PipelineDurable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("retire consumer %s: %w", natsbus.PipelineDurable, err)
		}
		p.log.Info("partition consumers replace the single pipeline consumer", "from_seq", floor+1)
	}
	return lanes, nil
}

// consume starts the lane's pulls in the lanes group.
func (l *lane) consume(ctx context.Context) (jetstream.ConsumeContext, error) {
	cc, err := l.cons.Consume(func(msg jetstream.Msg) { l.handle(ctx, msg) },
		jetstream.PullMaxMessages(lanePullBatch),
		jetstream.PullPriorityGroup(natsbus.LaneGroup),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrPinIDMismatch) {
				l.p.log.Info("lane unpinned: another instance holds the partition", "partition", l.part)
				return
			}
			if !errors.Is(err, jetstream.ErrNoHeartbeat) || !l.p.stopping.Load() {
				l.p.log.Warn("lane consumer", "partition", l.part, "err", err)
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("consume partition %d: %w", l.part, err)
	}
	return cc, nil
}

// handle is the lane's first stage, run for each message in order: it
// counts the event in its account's windows, in stream order with the
// other lanes (gate), and hands it to the lane's worker, which judges,
// writes and acknowledges. The first message after the lane got the
// partition, or after a gap in what was delivered to it (another lane held
// the partition meanwhile), makes it take the partition over first.
func (l *lane) handle(ctx context.Context, msg jetstream.Msg) {
	if l.halted.Load() {
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		l.p.log.Error("event without JetStream metadata", "subject", msg.Subject(), "err", err)
		return
	}
	if pin := msg.Headers().Get("Nats-Pin-Id"); pin != "" {
		if cur := l.pin.Load(); cur == nil || *cur != pin {
			l.pin.Store(&pin)
		}
	}
	if !l.owned || meta.Sequence.Consumer != l.lastDelivered+1 {
		l.pending.Wait() // what the worker holds comes first
		if err := l.takeOver(ctx, meta.Sequence.Stream); err != nil {
			l.p.log.Error("take over partition", "partition", l.part, "err", err)
			l.halted.Store(true) // redelivered to whoever holds the partition next
			return
		}
	}
	l.lastDelivered = meta.Sequence.Consumer
	l.p.gate.enter(l.part, meta.Sequence.Stream)
	it := l.prepare(msg, meta)
	l.p.gate.leave(l.part)
	l.pending.Add(1)
	select {
	case l.work <- it:
	case <-l.quit: // stopped: left for the next holder
		l.pending.Done()
	}
}

// item is an event between the lane's two stages.
type item struct {
	msg jetstream.Msg
	seq uint64
	ev  *moderation.Event
	in  *judgeInput // set when the event crossed a watched level
	err error       // not an event: dead-letter it
}

// prepare decodes an event and counts it in its account's windows.
func (l *lane) prepare(msg jetstream.Msg, meta *jetstream.MsgMetadata) item {
	p := l.p
	it := item{msg: msg, seq: meta.Sequence.Stream}
	l.seen = max(l.seen, it.seq)
	ev, err := p.decode(msg, meta)
	if err == nil && natsbus.PartitionOf(ev.Account) != l.part {
		// Only a writer that bypassed the stream's transform stores one.
		err = &events.DecodeError{Reason: events.ReasonSubjectMismatch,
			Err: fmt.Errorf("stored in partition %d, but account %s belongs to partition %d", l.part, ev.Account, natsbus.PartitionOf(ev.Account))}
	}
	if err != nil {
		it.err = err
		return it
	}
	it.ev = ev
	it.in, _ = p.step(ev, it.seq)
	return it
}

// work is the lane's second stage: items in order, each judged and written
// if it crossed a level, then acknowledged. Once one is left
// unacknowledged (stopping), so is every later one.
// When quit closes, what is still queued stays unacknowledged and comes
// back to whoever holds the partition next.
func (l *lane) runWorker(ctx context.Context) {
	for {
		select {
		case it := <-l.work:
			if !l.halted.Load() && !l.finish(ctx, it, true) {
				l.halted.Store(true)
			}
			l.pending.Done()
		case <-l.quit:
			l.halted.Store(true)
			for {
				select {
				case <-l.work:
					l.pending.Done()
				default:
					return
				}
			}
		}
	}
}

// finish takes a prepared event to a stored outcome: dead-letters it if it
// is not one, judges the account when it crossed a watched level; live
// events are then acknowledged. It reports false when it had to leave the
// event for the next start (the service is stopping).
func (l *lane) finish(ctx context.Context, it item, live bool) bool {
	p := l.p
	if it.err != nil {
		return p.settle(ctx, it.msg, it.seq, events.Reason(it.err), it.err, live)
	}
	if it.in != nil {
		ev := it.ev
		if err := p.retry(ctx, func(ctx context.Context) error { return p.judge(ctx, it.in, ev, it.seq) }); err != nil {
			reason := permanentReason(err)
			if reason == "" { // stopping: leave it for the next start
				return false
			}
			// The event counted in the account's windows (it is a valid
			// event); only its judgement is given up.
			p.metrics.permanent(reason)
			p.log.Error("event dead-lettered: judging it failed for good", "seq", it.seq, "account", ev.Account, "event", ev.ID, "reason", reason, "err", err)
			return p.settle(ctx, it.msg, it.seq, reason, err, live)
		}
	}
	if live {
		p.metrics.event(it.ev.Kind)
		p.ack(it.msg)
		l.acked.Inc()
	}
	return true
}

// rebuildIdle rebuilds, before consuming, the windows of every partition
// no lane holds: at a start, those are the ones this instance will most
// likely be given, and rebuilding them here keeps Signals whole from the
// moment the service is ready. A partition given to another instance
// after all costs only memory; one this instance gets later replays from
// where this left off.
func (p *Pipeline) rebuildIdle(ctx context.Context, lanes []*lane) error {
	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(lanes))
	sem := make(chan struct{}, 4)
	for i, l := range lanes {
		info, err := l.cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("read consumer of partition %d: %w", l.part, err)
		}
		if pinned(info) != "" || info.AckFloor.Stream == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, _, errs[i] = l.replay(ctx, info.AckFloor.Stream, info.AckFloor.Stream)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	p.log.Info("windows rebuilt", "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// pinned is the pin id of the lanes group on a partition consumer, empty
// when no lane holds it.
func pinned(info *jetstream.ConsumerInfo) string {
	for _, g := range info.PriorityGroups {
		if g.Group == natsbus.LaneGroup {
			return g.PinnedClientID
		}
	}
	return ""
}

// release gives the partition back at a clean stop, if this lane still
// holds it, so the next holder need not wait out the pin's TTL.
func (l *lane) release(ctx context.Context) {
	mine := l.pin.Load()
	if mine == nil {
		return
	}
	info, err := l.cons.Info(ctx)
	if err != nil || pinned(info) != *mine {
		return
	}
	if err := l.p.events.UnpinConsumer(ctx, natsbus.PartitionConsumer(l.part), natsbus.LaneGroup); err != nil {
		l.p.log.Debug("release partition", "partition", l.part, "err", err)
	}
	l.ownedG.Set(0)
}

// takeOver makes the lane ready to handle the partition from stream
// sequence first on: it rebuilds the windows of the partition's accounts
// from the events acknowledged before (observed, not judged: their
// decisions are stored), then handles, in order, the events after the ack
// floor and before first: those a lane that held the partition before had
// been given and not acknowledged (it died or was cut off). They come back
// to this lane later, after their ack wait, and are then acknowledged as
// already applied.
func (l *lane) takeOver(ctx context.Context, first uint64) error {
	p := l.p
	var info *jetstream.ConsumerInfo
	err := p.retry(ctx, func(ctx context.Context) error {
		var err error
		info, err = l.cons.Info(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("read consumer of partition %d: %w", l.part, err)
	}
	floor := info.AckFloor.Stream
	began := time.Now()
	var observed, handled int
	if first > 1 && l.seen < first-1 {
		if observed, handled, err = l.replay(ctx, floor, first-1); err != nil {
			return err
		}
	}
	l.owned = true
	l.ownedG.Set(1)
	p.log.Info("lane took partition over", "partition", l.part, "ack_floor", floor, "first_seq", first,
		"rebuilt_events", observed, "held_events", handled, "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// replay reads the partition's stored events up to seq last, from after
// the last one this lane counted or, the first time, from RebuildWindow
// before floor: those at or below floor into the windows only, those after
// it handled as live ones are, without acknowledging them.
func (l *lane) replay(ctx context.Context, floor, last uint64) (observed, handled int, err error) {
	p := l.p
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{natsbus.PartitionFilter(l.part)}}
	switch {
	case l.seen > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, l.seen+1
	case floor > 0:
		start := time.Now().Add(-p.cfg.RebuildWindow)
		if m, err := p.events.GetMsg(ctx, floor); err == nil {
			start = m.Time.Add(-p.cfg.RebuildWindow)
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, 0, fmt.Errorf("read event %d: %w", floor, err)
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	if l.seen >= last {
		return 0, 0, nil
	}
	oc, err := p.events.OrderedConsumer(ctx, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("open rebuild consumer of partition %d: %w", l.part, err)
	}
	remaining := oc.CachedInfo().NumPending
	lastLog := time.Now()
	for remaining > 0 {
		batch, err := oc.Fetch(int(min(remaining, 1000)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return observed, handled, fmt.Errorf("rebuild partition %d: %w", l.part, err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			remaining--
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := meta.Sequence.Stream
			if seq > last {
				return observed, handled, nil
			}
			it := l.prepare(msg, meta)
			if seq <= floor {
				observed++ // windows only: judged before
				continue
			}
			if !l.finish(ctx, it, false) {
				return observed, handled, errors.New("stopping")
			}
			handled++
		}
		if err := batch.Error(); err != nil {
			return observed, handled, fmt.Errorf("rebuild partition %d: %w", l.part, err)
		}
		if got == 0 || ctx.Err() != nil {
			return observed, handled, ctx.Err()
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			p.log.Info("rebuilding partition", "partition", l.part, "events", observed+handled, "left", remaining)
		}
	}
	return observed, handled, nil
}

// monitor reads every partition consumer now and then for the metrics:
// lag, whether this instance's lane holds it, and partitions with events
// waiting that no lane holds.
func (p *Pipeline) monitor(ctx context.Context, lanes []*lane) {
	t := time.NewTicker(laneMonitorTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		unowned := 0
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, l := range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
				info, err := l.cons.Info(ictx)
				cancel()
				if err != nil {
					return
				}
				l.lastInfo.Store(info)
				waiting := info.NumPending + uint64(max(info.NumAckPending, 0))
				l.lagG.Set(float64(waiting))
				holder := pinned(info)
				mine := l.pin.Load()
				if mine != nil && holder == *mine {
					l.ownedG.Set(1)
				} else {
					l.ownedG.Set(0)
				}
				if holder == "" && waiting > 0 {
					mu.Lock()
					unowned++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		p.metrics.PartitionsUnowned.Set(float64(unowned))
	}
}
