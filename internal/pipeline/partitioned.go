package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/events"
	"moderation/internal/natsbus"
)

// Partitioned mode (Config.Partitioned) lets several instances share the
// events. Each instance counts every event, in stream order, on an ordered
// consumer of its own: the windows and the cross-account indexes are then
// the same in every instance, so signals, and decisions, do not depend on
// which instance judges which account. What the instances split is the
// costly part: asking the policy and writing the account's state and
// decision. Each partition has a durable consumer in the priority group
// "lanes" with the pinned policy, so JetStream gives each partition to one
// instance's lane at a time; the lane waits until its instance has counted
// the event, takes what the count recorded for it, judges, and
// acknowledges. When an instance dies its pins lapse after laneTTL and the
// others' waiting pulls take its partitions; instances count one another
// by their counting consumers (which the server removes laneTTL+5 s after
// they go quiet) and one holding more than its share gives the surplus up.
const (
	laneTTL        = 10 * time.Second
	laneAckWait    = 30 * time.Second
	laneMaxPending = 1000
	lanePullBatch  = 256
	countPrefix    = "count-"
	balanceEvery   = 5 * time.Second
	// maxCrossings bounds the count's record of crossings waiting for their
	// lane; the oldest go first (a lane that finds its event's record gone
	// judges from the account's windows as they are then).
	maxCrossings = 200_000
)

// counted is what the instance's count has reached, and the judging input
// it recorded for each event that crossed a level, until a lane takes it.
type counted struct {
	mu        sync.Mutex
	cond      *sync.Cond
	cursor    uint64 // every event at or below is counted
	crossings map[uint64]*judgeInput
	order     []uint64                         // sequences recorded, oldest first, to drop the oldest
	dropped   uint64                           // records below this may have been dropped
	done      bool                             // counting ended: waiters give up
	due       [natsbus.Partitions][]dueJudging // by partition: earlier senders to judge (sendersdue.go)
}

func newCounted() *counted {
	c := &counted{crossings: map[uint64]*judgeInput{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *counted) record(seq uint64, in *judgeInput) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crossings[seq] = in
	c.order = append(c.order, seq)
	for len(c.order) > maxCrossings {
		old := c.order[0]
		c.order = c.order[1:]
		delete(c.crossings, old)
		c.dropped = max(c.dropped, old+1)
	}
}

func (c *counted) advance(seq uint64) {
	c.mu.Lock()
	c.cursor = max(c.cursor, seq)
	c.mu.Unlock()
	c.cond.Broadcast()
}

func (c *counted) stop() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.cond.Broadcast()
}

// wait blocks until seq is counted; false when counting ended first.
func (c *counted) wait(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.cursor < seq && !c.done {
		c.cond.Wait()
	}
	return c.cursor >= seq
}

// take returns the judging input recorded for seq (nil: it crossed
// nothing) and whether that is known: false when its record may have been
// dropped.
func (c *counted) take(seq uint64) (*judgeInput, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.crossings[seq]; ok {
		delete(c.crossings, seq)
		return in, true
	}
	return nil, seq >= c.dropped
}

// Counted is the stream sequence through which this instance has counted
// every event, in partitioned mode; 0 otherwise.
func (p *Pipeline) Counted() uint64 {
	c := p.count.Load()
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// plane is one partition's lane in partitioned mode.
type plane struct {
	p     *Pipeline
	part  int
	cons  jetstream.Consumer
	count *counted

	work          sync.Mutex // held while judging: handle, or judgeDueIdle
	pruneAt       time.Time  // under work: when judgeDueIdle next prunes a partition not held
	mu            sync.Mutex // guards cc and restarting
	cc            jetstream.ConsumeContext
	pin           atomic.Pointer[string]
	owned         bool   // callback only: took the partition over
	lastDelivered uint64 // callback only: consumer sequence of the last delivery here
	acked         prometheus.Counter
	ownedG        prometheus.Gauge
}

// runPartitioned is Run in partitioned mode.
func (p *Pipeline) runPartitioned(ctx context.Context, started chan<- struct{}) error {
	if !p.streams.Partitioned {
		return fmt.Errorf("sharing events between instances needs the events stream to add each event's partition, which needs nats-server 2.10 or later: run one instance, without partitioned mode")
	}
	p.snap.run.Store(&ctx)
	defer close(p.snap.finalDone())
	lanes, floor, err := p.openPartitions(ctx)
	if err != nil {
		return err
	}
	r := &Rebuilt{Through: floor}
	from, err := p.restorePartitioned(ctx, r)
	if err != nil {
		return err
	}
	count := p.newCount()
	p.count.Store(count)
	caughtUp := make(chan struct{})
	countCtx, stopCount := context.WithCancel(ctx)
	countDone := make(chan error, 1)
	go func() { countDone <- p.countAll(countCtx, floor, from, lanes, count, r, caughtUp) }()
	clean := false
	defer func() {
		stopCount()
		if err := <-countDone; err == nil && clean {
			p.snapshotAtPartitionedStop(ctx, lanes)
		}
	}()
	select {
	case <-caughtUp:
	case err := <-countDone:
		countDone <- err
		return fmt.Errorf("count events: %w", err)
	case <-ctx.Done():
		return nil
	}
	for _, l := range lanes {
		l.count = count
		if err := l.start(ctx); err != nil {
			return err
		}
	}
	p.lastProgress.Store(time.Now().UnixNano())
	p.parts.Store(&lanes)
	go p.balance(ctx, lanes)
	go p.judgeIdle(ctx, lanes)
	close(started)
	select {
	case <-ctx.Done():
	case err := <-countDone:
		countDone <- err
		if ctx.Err() == nil {
			// Lanes cannot judge what is not counted: fail, so the
			// service stops and its partitions move to the others.
			p.stopLanes(ctx, lanes, count, false)
			return fmt.Errorf("count events: %w", err)
		}
	}
	p.stopLanes(ctx, lanes, count, true)
	clean = true
	return nil
}

// stopLanes drains the lanes, all at once, and gives their partitions
// back. With counting ended, what waits for it is left unacknowledged for
// the next holder.
func (p *Pipeline) stopLanes(ctx context.Context, lanes []*plane, count *counted, counting bool) {
	p.stopping.Store(true)
	if !counting {
		count.stop()
	}
	var wg sync.WaitGroup
	for _, l := range lanes {
		wg.Add(1)
		go func() { defer wg.Done(); l.drain() }()
	}
	wg.Wait()
	count.stop()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, l := range lanes {
		l.release(rctx)
	}
}

// openPartitions declares one durable consumer per partition, pinned to
// one client of the lanes group at a time (an existing one is used as it
// is: other instances consume it too), and returns the earliest ack floor
// among them: every event at or below it is judged. A data directory that
// ran the single consumer hands over at its ack floor.
func (p *Pipeline) openPartitions(ctx context.Context) ([]*plane, uint64, error) {
	var legacyFloor uint64
	legacy, err := p.events.Consumer(ctx, natsbus.PipelineDurable)
	switch {
	case err == nil:
		info, err := legacy.Info(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("read consumer %s: %w", natsbus.PipelineDurable, err)
		}
		legacyFloor = info.AckFloor.Stream
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, 0, fmt.Errorf("look up consumer %s: %w", natsbus.PipelineDurable, err)
	}
	lanes := make([]*plane, natsbus.Partitions)
	floor := uint64(1<<64 - 1)
	for part := range lanes {
		name := natsbus.PartitionConsumer(part)
		// Retried: instances starting together on a cluster declare the
		// same replicated consumers at once, and a declaration can time
		// out while the cluster places them.
		var cons jetstream.Consumer
		err := p.retry(ctx, func(ctx context.Context) error {
			var err error
			cons, err = p.declarePartition(ctx, part, legacyFloor)
			return err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("declare consumer %s: %w", name, err)
		}
		floor = min(floor, cons.CachedInfo().AckFloor.Stream)
		label := strconv.Itoa(part)
		lanes[part] = &plane{p: p, part: part, cons: cons,
			acked:  p.metrics.PartitionEvents.WithLabelValues(label),
			ownedG: p.metrics.PartitionOwned.WithLabelValues(label)}
		lanes[part].ownedG.Set(0)
		p.metrics.PartitionLag.WithLabelValues(label).Set(0)
	}
	if legacy != nil {
		if err := p.events.DeleteConsumer(ctx, natsbus.PipelineDurable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, 0, fmt.Errorf("retire consumer %s: %w", natsbus.PipelineDurable, err)
		}
	}
	return lanes, floor, nil
}

// declarePartition returns partition part's consumer, declaring it if it
// does not exist yet (from after legacyFloor, when a single consumer ran
// before).
func (p *Pipeline) declarePartition(ctx context.Context, part int, legacyFloor uint64) (jetstream.Consumer, error) {
	name := natsbus.PartitionConsumer(part)
	cons, err := p.events.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cfg := jetstream.ConsumerConfig{
			Durable:        name,
			Description:    fmt.Sprintf("judging of partition %d, by one instance's lane at a time", part),
			FilterSubject:  natsbus.PartitionFilter(part),
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        laneAckWait,
			MaxAckPending:  laneMaxPending,
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			PriorityGroups: []string{natsbus.LaneGroup},
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PinnedTTL:      laneTTL,
		}
		if legacyFloor > 0 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, legacyFloor+1
		}
		cons, err = p.events.CreateConsumer(ctx, cfg)
	}
	return cons, err
}

// countAll counts every event in stream order, from the event after the
// snapshot restored (from; partsnap.go) or, without one, from
// RebuildWindow before floor (the windows need that much history),
// recording what judging needs for each event after floor that crossed a
// level. It closes caughtUp, and records in r how the windows were brought
// back, once it has counted every event stored when it began; when this
// instance writes the snapshots it takes them between two events.
func (p *Pipeline) countAll(ctx context.Context, floor, from uint64, lanes []*plane, count *counted, r *Rebuilt, caughtUp chan<- struct{}) error {
	// A prefix of its own: the ordered consumer numbers the consumers it
	// (re)creates after it, and two instances sharing one would take over
	// each other's.
	cfg := jetstream.OrderedConsumerConfig{NamePrefix: countPrefix + nuid.Next(), InactiveThreshold: laneTTL + 5*time.Second}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	} else if floor > 0 {
		start, err := p.rebuildStart(ctx, floor)
		if err != nil {
			return err
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	var target uint64
	var oc jetstream.Consumer
	err := p.retry(ctx, func(ctx context.Context) error { // a cluster still placing streams may time out
		info, err := p.events.Info(ctx)
		if err != nil {
			return fmt.Errorf("read stream %s: %w", natsbus.EventsStream, err)
		}
		target = info.State.LastSeq
		if oc, err = p.events.OrderedConsumer(ctx, cfg); err != nil {
			return fmt.Errorf("open counting consumer: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	began := time.Now()
	signalled := false
	caught := func() {
		signalled = true
		r.Took += time.Since(began)
		p.snap.rebuilt.Store(r)
		close(caughtUp)
	}
	if target <= from {
		caught()
	}
	// The callback runs outside this goroutine and may still be running
	// when Stop returns: the stop's snapshot waits for it (ended).
	var mu sync.Mutex
	ended := false
	defer func() {
		mu.Lock()
		ended = true
		mu.Unlock()
	}()
	cc, err := oc.Consume(func(msg jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		meta, err := msg.Metadata()
		if ended || err != nil {
			return
		}
		seq := meta.Sequence.Stream
		if ev, err := p.decode(msg, meta); err == nil { // a bad one is its lane's to dead-letter
			if seq <= floor {
				p.recount(ev, seq) // judged before: its windows only, as a rebuild does
			} else {
				if in, crossed := p.step(ev, seq); crossed {
					count.record(seq, in)
				}
				p.queueSenders(count, seq) // for their partitions' lanes to judge
			}
		}
		count.advance(seq)
		if !signalled {
			r.Replayed++
			if seq >= target {
				caught()
				p.log.Info("events counted", "through_seq", seq, "snapshot_seq", r.Snapshot, "events", r.Replayed, "took", r.Took.Round(time.Millisecond).String())
			}
		}
		p.countedSnapshot(ctx, lanes, seq, events.Partition(msg.Subject()))
	}, jetstream.PullMaxMessages(p.cfg.FetchBatch), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if ctx.Err() == nil {
			p.log.Warn("counting consumer", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("open counting consumer: %w", err)
	}
	defer cc.Stop()
	select {
	case <-ctx.Done():
		return nil
	case <-cc.Closed():
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("the counting consumer ended and could not be recreated")
	}
}

// start begins the lane's pulls in the lanes group.
func (l *plane) start(ctx context.Context) error {
	cc, err := l.cons.Consume(func(msg jetstream.Msg) { l.handle(ctx, msg) },
		jetstream.PullMaxMessages(lanePullBatch),
		jetstream.PullPriorityGroup(natsbus.LaneGroup),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrPinIDMismatch) || errors.Is(err, jetstream.ErrNoHeartbeat) && l.p.stopping.Load() {
				return // another instance holds the partition; or stopping
			}
			l.p.log.Warn("partition consumer", "partition", l.part, "err", err)
		}))
	if err != nil {
		return fmt.Errorf("consume partition %d: %w", l.part, err)
	}
	l.mu.Lock()
	l.cc = cc
	l.mu.Unlock()
	return nil
}

// drain stops the lane's pulls and lets what was already delivered to it
// be judged and acknowledged, rather than left to come back after its ack
// wait. It reports false when the lane was not pulling.
func (l *plane) drain() bool {
	l.mu.Lock()
	cc := l.cc
	l.cc = nil
	l.mu.Unlock()
	if cc == nil {
		return false
	}
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(5 * time.Second):
		cc.Stop()
	}
	return true
}

// handle judges one event of the partition once the instance has counted
// it, and acknowledges it. The first message after the lane got the
// partition, or after a gap in its deliveries (another instance held the
// partition meanwhile), makes it first judge the events the previous
// holder was given and did not acknowledge.
func (l *plane) handle(ctx context.Context, msg jetstream.Msg) {
	p := l.p
	meta, err := msg.Metadata()
	if err != nil {
		p.log.Error("event without JetStream metadata", "subject", msg.Subject(), "err", err)
		return
	}
	if pin := msg.Headers().Get("Nats-Pin-Id"); pin != "" {
		if cur := l.pin.Load(); cur == nil || *cur != pin {
			l.pin.Store(&pin)
		}
	}
	seq := meta.Sequence.Stream
	if !l.count.wait(seq) {
		return // stopping: left for whoever holds the partition next
	}
	l.work.Lock()
	defer l.work.Unlock()
	if !l.owned || meta.Sequence.Consumer != l.lastDelivered+1 {
		if err := l.takeOver(ctx, seq); err != nil {
			p.log.Warn("take partition over", "partition", l.part, "err", err)
			return // redelivered after its ack wait
		}
	}
	l.lastDelivered = meta.Sequence.Consumer
	if !l.judgeDue(ctx, seq) {
		return // stopping
	}
	if l.judgeOne(ctx, msg, msg, meta) {
		l.acked.Inc()
	}
}

// judgeOne dead-letters a bad event, judges one that crossed a level, and
// then acknowledges delivery, the message as delivered: nil for one read
// from the stream by sequence (a takeover's), which its own delivery
// settles. It reports whether it settled the event (false: stopping, left
// unacknowledged).
func (l *plane) judgeOne(ctx context.Context, msg eventMsg, delivery jetstream.Msg, meta *jetstream.MsgMetadata) bool {
	p := l.p
	live := delivery != nil
	seq := meta.Sequence.Stream
	in, known := l.count.take(seq)
	ev, err := p.decode(msg, meta)
	if err != nil {
		if !live {
			return true // its own delivery dead-letters it
		}
		return p.settle(ctx, delivery, seq, events.Reason(err), err)
	}
	if !known { // its record was dropped: judge from the windows as they are now
		in = p.inputNow(ev.Account)
	}
	if in != nil {
		if err := p.retry(ctx, func(ctx context.Context) error { return p.judge(ctx, in, ev, seq) }); err != nil {
			reason := permanentReason(err)
			if reason == "" {
				return false
			}
			p.metrics.permanent(reason)
			p.log.Error("event dead-lettered: judging it failed for good", "seq", seq, "account", ev.Account, "event", ev.ID, "reason", reason, "err", err)
			if live {
				return p.settle(ctx, delivery, seq, reason, err)
			}
			return true
		}
	}
	if live {
		p.metrics.event(ev.Kind)
		p.ack(delivery)
	}
	return true
}

// inputNow is the judging input of an account from its windows as they
// are now; nil when it has none.
func (p *Pipeline) inputNow(account string) *judgeInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.windows.Get(account)
	if !ok {
		return nil
	}
	return p.inputOf(account, w)
}

// takeOver judges, in order, the partition's events after its ack floor
// and before first: those a previous holder was given and did not
// acknowledge. They come back to this lane after their ack wait and are
// then acknowledged (judging them again changes nothing).
func (l *plane) takeOver(ctx context.Context, first uint64) error {
	p := l.p
	info, err := l.cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read consumer of partition %d: %w", l.part, err)
	}
	floor := info.AckFloor.Stream
	l.count.dueBefore(l.part, floor) // the last holder judged them before the event it acknowledged last
	handled := 0
	// Read by sequence, each the next of the partition's (a get per event,
	// each with a time of its own), rather than through an ordered
	// consumer: its reset after a failed fetch retries without end, and a
	// takeover right after a member died then hung (100k-event cluster run).
	for next := floor + 1; next < first; {
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		raw, err := p.events.GetMsg(gctx, next, jetstream.WithGetMsgSubject(natsbus.PartitionFilter(l.part)))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("read partition %d at %d: %w", l.part, next, err)
		}
		if raw.Sequence >= first {
			break
		}
		meta := &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: raw.Sequence}, Timestamp: raw.Time}
		if !l.judgeDue(ctx, raw.Sequence) || !l.judgeOne(ctx, storedMsg{raw}, nil, meta) {
			return errors.New("stopping")
		}
		handled++
		next = raw.Sequence + 1
	}
	l.owned = true
	l.ownedG.Set(1)
	p.log.Info("lane took partition over", "partition", l.part, "ack_floor", floor, "first_seq", first, "held_events", handled)
	return nil
}

// release gives the partition back if this lane holds it, so the next
// holder need not wait out the pin's TTL.
func (l *plane) release(ctx context.Context) {
	mine := l.pin.Load()
	if mine == nil {
		return
	}
	info, err := l.cons.Info(ctx)
	if err != nil || pinnedID(info) != *mine {
		return
	}
	if err := l.p.events.UnpinConsumer(ctx, natsbus.PartitionConsumer(l.part), natsbus.LaneGroup); err != nil {
		l.p.log.Debug("release partition", "partition", l.part, "err", err)
	}
	l.ownedG.Set(0)
}

// pinnedID is the pin of the lanes group on a partition consumer, empty
// when no lane holds it.
func pinnedID(info *jetstream.ConsumerInfo) string {
	for _, g := range info.PriorityGroups {
		if g.Group == natsbus.LaneGroup {
			return g.PinnedClientID
		}
	}
	return ""
}

// balance keeps this instance's share of the partitions: every
// balanceEvery it counts the instances (their counting consumers), and
// if it holds more than its share it gives the surplus up, pausing its
// pulls on each for two pin TTLs so that another instance takes it. It
// also keeps the partition metrics.
func (p *Pipeline) balance(ctx context.Context, lanes []*plane) {
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		instances := 0
		names := p.events.ConsumerNames(ctx)
		for name := range names.Name() {
			if strings.HasPrefix(name, countPrefix) {
				instances++
			}
		}
		var held []*plane
		unowned := 0
		for _, l := range lanes {
			info, err := l.cons.Info(ctx)
			if err != nil {
				continue
			}
			waiting := info.NumPending + uint64(max(info.NumAckPending, 0))
			p.metrics.PartitionLag.WithLabelValues(strconv.Itoa(l.part)).Set(float64(waiting))
			holder := pinnedID(info)
			if mine := l.pin.Load(); mine != nil && holder == *mine {
				held = append(held, l)
				l.ownedG.Set(1)
			} else {
				l.ownedG.Set(0)
			}
			if holder == "" && waiting > 0 {
				unowned++
			}
		}
		p.metrics.PartitionsUnowned.Set(float64(unowned))
		share := (len(lanes) + max(instances, 1) - 1) / max(instances, 1)
		for _, l := range held[min(share, len(held)):] {
			go l.yield(ctx)
		}
	}
}

// yield gives the partition up for a while: its pulls stop, its pin is
// released, and it pulls again after two pin TTLs, by when another
// instance holds it (or none wanted it, and it comes back here).
func (l *plane) yield(ctx context.Context) {
	if !l.drain() {
		return
	}
	l.release(ctx)
	l.p.log.Info("lane gave partition up to balance instances", "partition", l.part)
	select {
	case <-ctx.Done():
		return
	case <-time.After(2 * laneTTL):
	}
	if err := l.start(ctx); err != nil {
		l.p.log.Warn("resume partition", "partition", l.part, "err", err)
	}
}

// storedMsg is an event read from the stream by sequence, as decoding
// reads it; it has no acknowledgements to make.
type storedMsg struct {
	raw *jetstream.RawStreamMsg
}

func (m storedMsg) Subject() string      { return m.raw.Subject }
func (m storedMsg) Headers() nats.Header { return m.raw.Header }
func (m storedMsg) Data() []byte         { return m.raw.Data }
