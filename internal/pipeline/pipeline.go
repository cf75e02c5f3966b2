// Package pipeline runs events from the events stream through the
// detectors and the judge into enforcement. It owns ordering and
// exactly-once effects: one durable consumer delivers events in stream
// order, an event is acknowledged only once its effects are stored, and a
// redelivered event never produces a second decision.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/detectors"
	"moderation/detectors/adtext"
	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Config tunes the pipeline.
type Config struct {
	MaxStateBytes int64          // bound on per-account detector memory
	RebuildWindow time.Duration  // how far back, in stream time, windows are rebuilt on start
	FetchBatch    int            // messages pulled at once
	Location      *time.Location // platform time zone for calendar quotas
	AdModel       *adtext.Model  // scores broadcast text; nil: the model built into the binary
	// MaxClockSkew is how far ahead of the time the events stream stored
	// an event its own time may be (events.CheckClock); 0: the default.
	MaxClockSkew time.Duration
	// Partitioned shares the events with other instances (partitioned.go):
	// each counts every event, and judges the partitions JetStream pins to
	// it. All instances on one events stream must run the same mode.
	Partitioned bool
	// StallAfter is how long events may wait with none acknowledged before
	// Stalled reports the pipeline stuck; 0: 30 seconds.
	StallAfter time.Duration
	// Snapshots says how often the windows are written to the SNAPSHOTS
	// bucket, so a restart replays only what came after (snapshot.go).
	Snapshots SnapshotConfig
}

func (c Config) withDefaults() Config {
	if c.MaxStateBytes <= 0 {
		c.MaxStateBytes = 400 << 20
	}
	if c.RebuildWindow <= 0 {
		c.RebuildWindow = detectors.MaxWindow + time.Hour // slack for events published late
	}
	if c.FetchBatch <= 0 {
		c.FetchBatch = 1000
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.AdModel == nil {
		c.AdModel = adtext.Default()
	}
	if c.MaxClockSkew <= 0 {
		c.MaxClockSkew = events.DefaultMaxClockSkew
	}
	if c.StallAfter <= 0 {
		c.StallAfter = 30 * time.Second
	}
	c.Snapshots = c.Snapshots.withDefaults()
	return c
}

// Pipeline is the event consumer.
type Pipeline struct {
	cfg     Config
	env     *detectors.Env
	js      jetstream.JetStream
	events  jetstream.Stream
	streams *natsbus.Streams
	store   Store
	shadow  atomic.Pointer[judge.Policy]
	policy  atomic.Pointer[judge.Policy]
	// suppressedRules are rules in shadow: evaluated and recorded, not
	// enforced (see suppress.go).
	suppressedRules atomic.Pointer[ruleSet]
	watch           atomic.Pointer[watchSet]
	windows         *windowStore
	metrics         *Metrics
	log             *slog.Logger

	mu        sync.Mutex               // held while an event is counted, so windows can be read from outside
	lanes     []*lane                  // judge crossings, by partition, once Run has started them
	parts     atomic.Pointer[[]*plane] // partitioned mode: the partitions\' lanes, once started
	count     atomic.Pointer[counted]  // partitioned mode: how far this instance has counted
	judging   sync.WaitGroup           // crossings handed to a lane and not yet finished
	stopping  atomic.Bool
	halted    atomic.Bool // a message was left unacknowledged: process nothing after it
	processed atomic.Uint64
	senders   []senderJudging // found by the last step, for its caller to judge (rejudge.go); under mu

	cons         atomic.Pointer[jetstream.Consumer] // the live consumer, once Run has opened it
	lastProgress atomic.Int64                       // unix nanoseconds of the last acknowledgement (or of the start)
	stall        stallCheck
	snap         snapshots
}

// stallCheck is what Stalled remembers between calls, so a readiness probe
// asks the server about the consumer at most every stallCheckEvery.
type stallCheck struct {
	mu           sync.Mutex
	checkedAt    time.Time
	waiting      uint64    // events pending or unacknowledged at checkedAt
	waitingSince time.Time // first check that found events waiting, after one that found none
}

// stallCheckEvery bounds how often Stalled asks the server.
const stallCheckEvery = 2 * time.Second

// window is one account's detector state. It is kept small, since a
// million of them must fit in memory: whether an event crossed a level the
// policy watches is worked out from the metrics just before and after it,
// so no per-account record of levels is needed.
type window struct {
	det  detectors.Account
	seq  uint64 // last stream sequence observed: redeliveries are not counted twice
	cost int64
}

// Campaigns are near-duplicate broadcasts by many accounts within a day;
// the index of recent broadcast texts is bounded (about 90 bytes each).
const (
	campaignWindow  = 24 * time.Hour
	campaignEntries = 500_000
)

// The other cross-account indexes (docs/DESIGN.md, "Cross-account
// signals"), each bounded: destinations named by broadcasts over three days
// (300,000 mentions, about 33 MB), young accounts' stranger requests over a
// week (250,000, about 65 MB), and reporters over the complaint window
// (detectors.DefaultReporterParams: 100,000, about 45 MB).
const (
	destinationWindow  = 72 * time.Hour
	destinationEntries = 300_000
	targetWindow       = 7 * 24 * time.Hour
	targetEntries      = 250_000
)

// cacheOverhead is what the window store spends per account besides the
// window and the id's bytes: the map's slot (id header and pointer) at the
// load a growing map runs at, the id's allocation rounding. It is counted
// in each window's cost so the bound holds (TestWindowCostIsHonest).
const cacheOverhead = 64

// New builds a pipeline; Run starts it.
func New(cfg Config, js jetstream.JetStream, streams *natsbus.Streams, store Store, policy *judge.Policy, metrics *Metrics, log *slog.Logger) (*Pipeline, error) {
	cfg = cfg.withDefaults()
	cache := newWindowStore(cfg.MaxStateBytes)
	p := &Pipeline{cfg: cfg, env: newEnv(cfg), js: js, events: streams.Events, streams: streams, store: store, windows: cache, metrics: metrics, log: log}
	p.policy.Store(policy)
	return p, nil
}

// newEnv is what detectors share across accounts: the time zone, the ad
// model and the cross-account indexes, each bounded. cfg has its defaults.
func newEnv(cfg Config) *detectors.Env {
	return &detectors.Env{Location: cfg.Location, Ads: cfg.AdModel, Campaigns: detectors.NewCampaigns(campaignWindow, campaignEntries),
		Reporters:    detectors.NewReporters(detectors.DefaultReporterParams),
		Destinations: detectors.NewDestinations(destinationWindow, destinationEntries),
		Targets:      detectors.NewTargets(targetWindow, targetEntries)}
}

// SetPolicy replaces the policy for the next evaluations.
func (p *Pipeline) SetPolicy(pol *judge.Policy) { p.policy.Store(pol) }

// SetShadow sets the policy evaluated beside the live one and never
// enforced; nil stops shadowing.
func (p *Pipeline) SetShadow(pol *judge.Policy) { p.shadow.Store(pol) }

// Policy is the policy in force.
func (p *Pipeline) Policy() *judge.Policy { return p.policy.Load() }

// Signals reports an account's current signals from its detector window;
// ok is false when the account has no window (never seen, or evicted).
func (p *Pipeline) Signals(account string) (signals map[string]moderation.Signal, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.windows.Get(account)
	if !ok {
		return nil, false
	}
	return w.det.Signals(p.env), true
}

// Processed counts events acknowledged since start, dead letters included.
func (p *Pipeline) Processed() uint64 { return p.processed.Load() }

// Run rebuilds the detector windows, closes started, consumes events until
// ctx ends, and then stops taking messages and finishes the one in hand.
func (p *Pipeline) Run(ctx context.Context, started chan<- struct{}) error {
	if p.cfg.Partitioned {
		return p.runPartitioned(ctx, started)
	}
	cons, err := p.resume(ctx)
	if err != nil {
		return err
	}
	p.lanes = p.newLanes()
	quit := make(chan struct{})
	var lanes sync.WaitGroup
	for _, l := range p.lanes {
		lanes.Add(1)
		go l.run(ctx, quit, &lanes)
	}
	consumed := false // the consumer's last callback has returned
	defer func() {
		// The consumer has stopped: let the lanes finish what they were
		// given, for a while, so a clean stop leaves little to read again.
		drained := make(chan struct{})
		go func() { p.judging.Wait(); close(drained) }()
		judged := false
		select {
		case <-drained:
			judged = true
		case <-time.After(5 * time.Second):
		}
		close(quit)
		lanes.Wait()
		p.snapshotAtStop(ctx, consumed && judged)
	}()
	cc, err := cons.Consume(func(msg jetstream.Msg) { p.handle(ctx, msg, quit) },
		jetstream.PullMaxMessages(p.cfg.FetchBatch),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrNoHeartbeat) || !p.stopping.Load() {
				p.log.Warn("event consumer", "err", err)
			}
		}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", natsbus.EventsStream, err)
	}
	p.lastProgress.Store(time.Now().UnixNano())
	p.cons.Store(&cons)
	close(started)
	<-ctx.Done()
	p.stopping.Store(true)
	cc.Drain()
	select {
	case <-cc.Closed():
		consumed = true
	case <-time.After(5 * time.Second):
		cc.Stop()
	}
	return nil
}

// resume opens the durable consumer exactly after the last event
// acknowledged, and rebuilds the detector windows up to it.
//
// The consumer is recreated rather than reused: events a previous process
// had pulled but not acknowledged (it crashed, or stopped mid-batch) would
// otherwise stay pending until their ack wait ran out, while newer events
// of the same accounts went ahead of them. Recreating it from the ack floor
// keeps every account's events in order. This assumes one pipeline
// instance per consumer, as the service runs today.
func (p *Pipeline) resume(ctx context.Context) (jetstream.Consumer, error) {
	var floor uint64
	if old, err := p.events.Consumer(ctx, natsbus.PipelineDurable); err == nil {
		info, err := old.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("read consumer %s: %w", natsbus.PipelineDurable, err)
		}
		floor = info.AckFloor.Stream
		if err := p.events.DeleteConsumer(ctx, natsbus.PipelineDurable); err != nil {
			return nil, fmt.Errorf("reset consumer %s: %w", natsbus.PipelineDurable, err)
		}
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("look up consumer %s: %w", natsbus.PipelineDurable, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       natsbus.PipelineDurable,
		Description:   "detectors and judge; events of one account are handled in stream order",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       5 * time.Minute,
		MaxAckPending: 20_000,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: natsbus.EventsSubjects,
	}
	if floor > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
	}
	cons, err := p.events.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("declare consumer %s: %w", natsbus.PipelineDurable, err)
	}
	if err := p.rebuild(ctx, floor); err != nil {
		return nil, err
	}
	return cons, nil
}

// handle counts one message's event in its account's windows, in stream
// order, and acknowledges it, or, when it crossed a level the policy
// watches, hands it to its account's lane, which judges and then
// acknowledges it. On a failure it cannot get past (NATS gone while
// stopping) it leaves the message unacknowledged, and every later one
// too, for the next start.
func (p *Pipeline) handle(ctx context.Context, msg jetstream.Msg, quit <-chan struct{}) {
	if p.halted.Load() {
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		p.log.Error("event without JetStream metadata", "subject", msg.Subject(), "err", err)
		return
	}
	seq := meta.Sequence.Stream
	ev, decodeErr := p.decode(msg, meta)
	if decodeErr != nil {
		if !p.settle(ctx, msg, seq, events.Reason(decodeErr), decodeErr) {
			p.halted.Store(true)
		}
		return
	}
	p.metrics.event(ev.Kind)
	l := p.laneOf(ev.Account)
	in, crossed := p.step(ev, seq)
	senders := p.takeSenders()
	if len(senders) > 0 {
		// The senders' lanes first finish the crossings handed to them
		// before this event, so a sender is judged at this event after its
		// own earlier crossings, as one consumer judging in stream order
		// would: judged out of order, the sender's state would record this
		// later event, and its earlier crossing would then be skipped as
		// already applied. Rare: a destination's count reaching a level.
		p.judging.Wait()
	}
	if err := p.judgeSenders(ctx, senders, seq); err != nil { // stopping: left for the next start
		p.halted.Store(true)
		return
	}
	if !crossed {
		p.ack(msg)
		l.acked.Inc()
	} else if !l.submit(job{msg: msg, ev: ev, seq: seq, in: in}, quit) {
		p.halted.Store(true)
		return
	}
	p.snapshotAfter(ctx, seq)
}

// judgeInput is what judging reads of an account's windows, taken at the
// event that crossed a level, so the lane asks the policy later.
type judgeInput struct {
	account moderation.Account // id, type, verification and age; strikes and status come from the state
	signals map[string]moderation.Signal
}

// step counts the event in its account's windows and, when it crossed a
// watched level, returns what judging the account needs. The other
// accounts it makes to be judged, it keeps for judgeSenders.
func (p *Pipeline) step(ev *moderation.Event, seq uint64) (*judgeInput, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.env.Destinations != nil {
		p.env.Destinations.TakeRisen() // what an earlier observation raised
	}
	w, crossed := p.observe(ev, seq)
	p.findSenders(ev)
	if !crossed {
		return nil, false
	}
	return p.inputOf(ev.Account, w), true
}

// recount counts an event judged before (at or below the ack floor) in
// its account's windows, without what judging it would read.
func (p *Pipeline) recount(ev *moderation.Event, seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.env.Destinations != nil {
		p.env.Destinations.TakeRisen() // nothing is judged again at it
	}
	p.observe(ev, seq)
}

// inputOf is what judging reads of an account's window. Callers hold mu.
func (p *Pipeline) inputOf(account string, w *window) *judgeInput {
	return &judgeInput{
		account: moderation.Account{ID: account, Type: w.det.Type(), Verified: w.det.Verified(), AgeDays: wholeDays(w.det.AgeDays())},
		signals: w.det.Signals(p.env),
	}
}

// eventMsg is what decoding reads of a message: a delivery, or an event
// read from the stream by sequence (storedMsg).
type eventMsg interface {
	Subject() string
	Headers() nats.Header
	Data() []byte
}

// decode reads an event and checks its time against the time the events
// stream stored it (not the wall clock), so a rebuild or a replay accepts
// exactly the events accepted live.
func (p *Pipeline) decode(msg eventMsg, meta *jetstream.MsgMetadata) (*moderation.Event, error) {
	ev, err := events.Decode(msg.Subject(), msg.Headers().Get("Content-Type"), msg.Data())
	if err != nil {
		return nil, err
	}
	if err := events.CheckClock(ev, meta.Timestamp, p.cfg.MaxClockSkew); err != nil {
		return nil, err
	}
	// Only a writer that bypassed the stream's transform stores an event
	// under another partition than its account's: its lane would be wrong.
	if part := events.Partition(msg.Subject()); part >= 0 && part != natsbus.PartitionOf(ev.Account) {
		return nil, &events.DecodeError{Reason: events.ReasonSubjectMismatch,
			Err: fmt.Errorf("stored in partition %d, but account %s belongs to partition %d", part, ev.Account, natsbus.PartitionOf(ev.Account))}
	}
	return ev, nil
}

func (p *Pipeline) ack(msg jetstream.Msg) {
	if err := msg.Ack(); err != nil {
		p.log.Warn("ack event", "subject", msg.Subject(), "err", err) // redelivered, and then skipped as already applied
	}
	p.processed.Add(1)
	p.lastProgress.Store(time.Now().UnixNano())
}

// Stalled reports an error when events have been waiting for the pipeline
// for StallAfter and none was acknowledged meanwhile: a readiness probe
// then says so instead of answering ready while every account waits. It is
// cheap while events flow (a clock read) and asks the server about the
// consumer at most every two seconds otherwise.
func (p *Pipeline) Stalled(ctx context.Context) error {
	now := time.Now()
	last := time.Unix(0, p.lastProgress.Load())
	if now.Sub(last) < p.cfg.StallAfter {
		return nil
	}
	var consumers []jetstream.Consumer
	if cons := p.cons.Load(); cons != nil {
		consumers = []jetstream.Consumer{*cons}
	} else if parts := p.parts.Load(); parts != nil {
		for _, l := range *parts {
			consumers = append(consumers, l.cons)
		}
	}
	if consumers == nil {
		return nil // not consuming yet: the service reports the rebuild
	}
	s := &p.stall
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.checkedAt) >= stallCheckEvery {
		var waiting uint64
		for _, cons := range consumers {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			info, err := cons.Info(ctx)
			cancel()
			if err != nil {
				return fmt.Errorf("pipeline progress unknown: read consumer %s: %w", cons.CachedInfo().Name, err)
			}
			waiting += info.NumPending + uint64(max(info.NumAckPending, 0))
		}
		if waiting > 0 && s.waiting == 0 {
			s.waitingSince = now
		}
		s.checkedAt, s.waiting = now, waiting
	}
	if s.waiting == 0 {
		return nil
	}
	since := last
	if s.waitingSince.After(since) {
		since = s.waitingSince
	}
	if stuck := now.Sub(since); stuck >= p.cfg.StallAfter {
		return fmt.Errorf("pipeline has not advanced for %s; events waiting: %d", stuck.Round(time.Second), s.waiting)
	}
	return nil
}

// retry runs op until it succeeds, backing off on transient failures so a
// NATS outage pauses the pipeline in order rather than skipping events. It
// gives up on a permanent failure (see failures.go), returning it, and when
// the service is stopping. A failure that may mean a stream is missing is
// checked with the server: a dead-letter or decisions stream is declared
// again, once, and op retried at once.
func (p *Pipeline) retry(ctx context.Context, op func(context.Context) error) error {
	backoff := 50 * time.Millisecond
	redeclared := map[string]bool{}
	for {
		opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := op(opCtx)
		cancel()
		if err == nil {
			return nil
		}
		if mayBeMissingStream(err) {
			probeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			missing := p.missingStream(probeCtx, redeclared)
			cancel()
			if missing == nil {
				continue
			}
			if permanentReason(missing) != "" {
				return fmt.Errorf("%w (after: %v)", missing, err)
			}
		} else if permanentReason(err) != "" {
			return err
		}
		p.metrics.Errors.Inc()
		if p.stopping.Load() || ctx.Err() != nil {
			return err
		}
		p.log.Warn("pipeline step failed; retrying", "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// observe feeds the event to the account's detectors, once per stream
// sequence, and reports whether one of the metrics the policy watches
// reached a level it had not reached just before. Only then can the
// policy's answer change, so only then is it asked: that keeps OPA off the
// hot path.
func (p *Pipeline) observe(ev *moderation.Event, seq uint64) (w *window, crossed bool) {
	w, ok := p.windows.Get(ev.Account)
	if !ok {
		w = &window{}
	}
	if seq <= w.seq || seq <= p.snap.through { // counted already, in this window or in the snapshot restored
		return w, false
	}
	watched := p.watching(ev.Kind)
	var stack [64]uint8 // levels reached before the event, without allocating for any sane policy
	before := stack[:0]
	if len(watched) > len(stack) {
		before = make([]uint8, 0, len(watched))
	}
	for _, m := range watched {
		v, _ := w.det.Value(m.Name, p.env)
		before = append(before, uint8(min(m.Reached(v), 255)))
	}
	w.seq = seq
	w.det.Observe(ev, p.env)
	for i, m := range watched {
		v, _ := w.det.Value(m.Name, p.env)
		if uint8(min(m.Reached(v), 255)) > before[i] {
			crossed = true
			break
		}
	}
	if cost := windowCost(ev.Account, w); !ok || cost > w.cost+w.cost/2 {
		p.windows.Set(ev.Account, w, cost)
	}
	return w, crossed
}

// wholeDays is the age the policy is told: whole days (-1, unknown, stays),
// as its levels are set in days, so that accounts of the same age in days
// that crossed the same levels ask the same question (judge's memo).
func wholeDays(age float64) float64 {
	if age < 0 {
		return age
	}
	return math.Floor(age)
}

// watchSet is the watched metrics of the live and shadow policies, merged
// and split by the kinds of event that can raise them.
type watchSet struct {
	live, shadow *judge.Policy
	byKind       map[moderation.Kind][]judge.Watched
}

// watching returns the watched metrics an event of kind k can raise,
// recomputed when either policy changes. The shadow's levels count too:
// a stricter shadow must be asked at its own levels to show what it would
// do.
func (p *Pipeline) watching(k moderation.Kind) []judge.Watched {
	live, shadow := p.policy.Load(), p.shadow.Load()
	if live == nil {
		return nil
	}
	ws := p.watch.Load()
	if ws == nil || ws.live != live || ws.shadow != shadow {
		ws = &watchSet{live: live, shadow: shadow, byKind: map[moderation.Kind][]judge.Watched{}}
		for _, m := range judge.MergeWatched(live, shadow) {
			for _, kind := range []moderation.Kind{moderation.KindBroadcast, moderation.KindFriendAdd, moderation.KindComplaint, moderation.KindUnfollow, moderation.KindFriendResponse} {
				if detectors.MovedBy(kind, m.Name) {
					ws.byKind[kind] = append(ws.byKind[kind], m)
				}
			}
		}
		p.watch.Store(ws)
	}
	return ws.byKind[k]
}

// refuse drops a decision the policy could not justify; enforcing it would
// leave the owner without reasons.
func (p *Pipeline) refuse(ev *moderation.Event, err error) {
	p.metrics.Refused.Inc()
	p.log.Error("decision refused", "account", ev.Account, "event", ev.ID, "err", err)
}
