package pipeline

import (
	"context"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// laneQueue is how many crossings a lane holds waiting to be judged; a
// full lane makes the consumer wait.
const laneQueue = 1024

// laneWrites bounds the changes a lane has under way, written or waiting
// behind a change of the same account; at the bound it waits for one to
// be confirmed. Each is two publishes the service's connection has
// outstanding (32 lanes: 2,048, within JetStream's 4,000 by default).
const laneWrites = 32

// laneWritten bounds the accounts a lane remembers its last write of;
// when full it forgets them all: one forgotten costs a conflict, not a
// wrong write.
const laneWritten = 4096

// lane judges the crossings of one partition's accounts, in the order the
// consumer counted them, in parallel with the other lanes: the slow part
// of an event (the policy, the compare-and-set of the account's state and
// the publish of its decision, each a round trip to NATS) no longer holds
// up every other account. Counting stays in one goroutine in stream
// order, so what the cross-account indexes say at each event is the same
// as before.
//
// Acknowledgements then come out of stream order: an event that crossed
// nothing is acknowledged at once, one that crossed a level once judged.
// That loses nothing: a restart rebuilds the windows through the ack
// floor (the earliest event not acknowledged) and reads every event after
// it again, and judging an event twice is a no-op (the account's state
// records the last event applied).
//
// A lane does not wait for NATS on a change (when the store can Begin
// one: enforcement.Store): it sends the state's compare-and-set, goes on
// with its next crossing, and acknowledges the event once the state and
// then the decision are confirmed. An account's crossings stay in order:
// one that comes while the account has a change under way waits, parked,
// until that change is confirmed, and starts from the revision it wrote
// (remembered, since the View may not have seen it yet). A change that
// fails is made again the synchronous way (finish), which reads the
// bucket on a conflict and retries.
type lane struct {
	p      *Pipeline
	part   int
	jobs   chan job
	acked  prometheus.Counter
	queued prometheus.Gauge

	// Owned by the lane's goroutine.
	underWay map[string]*write              // by account: its change not yet confirmed
	parked   map[string][]job               // by account: crossings waiting for that change, in order
	written  map[string]enforcement.StateAt // by account: the state this lane last wrote
	settled  chan *write                    // changes whose writes ended, confirmed or not
	pending  int                            // changes begun and not yet out of settled
	waiting  int                            // crossings parked
}

// write is a crossing whose change is under way.
type write struct {
	j    job
	w    *enforcement.Write
	rule string
}

// beginner is a Store that can make a change without waiting for NATS.
type beginner interface {
	Begin(ctx context.Context, path, account string, from *enforcement.StateAt, fn func(st *moderation.AccountState) (*moderation.Change, error), done func(*enforcement.Write)) (*enforcement.Write, error)
}

// job is an event that crossed a watched level, with what judging reads.
type job struct {
	msg jetstream.Msg
	ev  *moderation.Event
	seq uint64
	in  *judgeInput
}

func (p *Pipeline) newLanes() []*lane {
	lanes := make([]*lane, natsbus.Partitions)
	for i := range lanes {
		label := strconv.Itoa(i)
		lanes[i] = &lane{p: p, part: i, jobs: make(chan job, laneQueue),
			acked:    p.metrics.PartitionEvents.WithLabelValues(label),
			queued:   p.metrics.PartitionLag.WithLabelValues(label),
			underWay: map[string]*write{}, parked: map[string][]job{}, written: map[string]enforcement.StateAt{},
			settled: make(chan *write, laneWrites)}
		p.metrics.PartitionOwned.WithLabelValues(label).Set(1)
	}
	p.metrics.PartitionsUnowned.Set(0)
	return lanes
}

// laneOf is the lane of an account: its partition in the events stream.
func (p *Pipeline) laneOf(account string) *lane { return p.lanes[natsbus.PartitionOf(account)] }

// submit queues a crossing for its lane; false when the pipeline stopped
// first (the event stays unacknowledged for the next start).
func (l *lane) submit(j job, quit <-chan struct{}) bool {
	l.queued.Inc()
	l.p.judging.Add(1)
	select {
	case l.jobs <- j:
		return true
	case <-quit:
		l.queued.Dec()
		l.p.judging.Done()
		return false
	}
}

// run judges the lane's crossings until quit closes; what is still queued
// or parked then stays unacknowledged and is read again at the next
// start, and changes under way are acknowledged if they are confirmed.
func (l *lane) run(ctx context.Context, quit <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case j := <-l.jobs:
			l.queued.Dec()
			l.take(ctx, j)
		case w := <-l.settled:
			l.pending--
			l.outcome(ctx, w)
		case <-quit:
			for {
				select {
				case <-l.jobs:
					l.queued.Dec()
					l.p.judging.Done()
				default:
					for _, js := range l.parked {
						for range js {
							l.p.judging.Done()
						}
					}
					clear(l.parked)
					for ; l.pending > 0; l.pending-- {
						w := <-l.settled
						if _, err := w.w.Result(); err == nil {
							l.confirmed(w)
						}
						l.p.judging.Done()
					}
					return
				}
			}
		}
	}
}

// take judges a crossing: at once, or parked behind its account's change
// under way.
func (l *lane) take(ctx context.Context, j job) {
	acct := j.ev.Account
	if l.underWay[acct] != nil {
		l.parked[acct] = append(l.parked[acct], j)
		l.waiting++
	} else {
		l.begin(ctx, j)
	}
	for l.pending+l.waiting >= laneWrites {
		w := <-l.settled
		l.pending--
		l.outcome(ctx, w)
	}
}

// begin judges a crossing whose account has no change under way, and
// sends the change without waiting for it. Without a store that can, or
// when Begin fails, it judges the synchronous way.
func (l *lane) begin(ctx context.Context, j job) {
	p := l.p
	b, ok := p.store.(beginner)
	if !ok || p.halted.Load() {
		l.finish(ctx, j)
		p.judging.Done()
		return
	}
	acct := j.ev.Account
	var from *enforcement.StateAt
	if at, ok := l.written[acct]; ok {
		from = &at
	}
	w := &write{j: j}
	ew, err := b.Begin(ctx, moderation.PathJudge, acct, from, p.decide(ctx, j.in, j.ev, j.seq, &w.rule), func(*enforcement.Write) { l.settled <- w })
	if err != nil {
		p.log.Debug("change not begun; judging again", "account", acct, "event", j.ev.ID, "err", err)
		l.finish(ctx, j)
		p.judging.Done()
		return
	}
	w.w = ew
	if ew.Change == nil || ew.Change.State == nil { // nothing to write
		p.ack(j.msg)
		l.acked.Inc()
		p.judging.Done()
		return
	}
	l.underWay[acct] = w
	l.pending++
}

// outcome acknowledges a crossing whose change is confirmed, or judges it
// again the synchronous way, and then starts the account's parked
// crossings, up to the next that writes.
func (l *lane) outcome(ctx context.Context, w *write) {
	acct := w.j.ev.Account
	delete(l.underWay, acct)
	if _, err := w.w.Result(); err != nil {
		delete(l.written, acct)
		l.p.log.Debug("change not confirmed; judging again", "account", acct, "event", w.j.ev.ID, "err", err)
		l.finish(ctx, w.j)
	} else {
		l.confirmed(w)
	}
	l.p.judging.Done()
	for l.underWay[acct] == nil && len(l.parked[acct]) > 0 {
		next := l.parked[acct][0]
		if l.parked[acct] = l.parked[acct][1:]; len(l.parked[acct]) == 0 {
			delete(l.parked, acct)
		}
		l.waiting--
		l.begin(ctx, next)
	}
}

// confirmed acknowledges a crossing whose change is stored and published,
// and remembers the state written for the account's next change.
func (l *lane) confirmed(w *write) {
	at, _ := w.w.Result()
	if len(l.written) >= laneWritten {
		clear(l.written)
	}
	l.written[w.j.ev.Account] = at
	l.p.decided(w.w.Change, w.rule)
	l.p.ack(w.j.msg)
	l.acked.Inc()
}

// finish judges one crossing and acknowledges its event, or dead-letters
// it when judging failed for good. Stopping leaves it unacknowledged.
func (l *lane) finish(ctx context.Context, j job) {
	p := l.p
	if p.halted.Load() {
		return
	}
	err := p.retry(ctx, func(ctx context.Context) error { return p.judge(ctx, j.in, j.ev, j.seq) })
	if err == nil {
		p.ack(j.msg)
		l.acked.Inc()
		return
	}
	reason := permanentReason(err)
	if reason == "" { // stopping: leave it for the next start
		p.halted.Store(true)
		return
	}
	// The event counted in the account's windows (it is a valid event);
	// only its judgement is given up.
	p.metrics.permanent(reason)
	p.log.Error("event dead-lettered: judging it failed for good", "seq", j.seq, "account", j.ev.Account, "event", j.ev.ID, "reason", reason, "err", err)
	if !p.settle(ctx, j.msg, j.seq, reason, err) {
		p.halted.Store(true)
	}
}
