package pipeline

import (
	"context"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// laneQueue is how many crossings a lane holds waiting to be judged; a
// full lane makes the consumer wait.
const laneQueue = 1024

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
type lane struct {
	p      *Pipeline
	part   int
	jobs   chan job
	acked  prometheus.Counter
	queued prometheus.Gauge
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
			acked:  p.metrics.PartitionEvents.WithLabelValues(label),
			queued: p.metrics.PartitionLag.WithLabelValues(label)}
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
// then stays unacknowledged and is read again at the next start.
func (l *lane) run(ctx context.Context, quit <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case j := <-l.jobs:
			l.queued.Dec()
			l.finish(ctx, j)
			l.p.judging.Done()
		case <-quit:
			for {
				select {
				case <-l.jobs:
					l.queued.Dec()
					l.p.judging.Done()
				default:
					return
				}
			}
		}
	}
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
