package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// A destination's earlier senders in partitioned mode (see rejudge.go for
// why they are judged again). Every instance counts every event and so
// finds the same senders at the same event, but a sender must be judged
// by the lane that holds its partition, in order with the partition's own
// events: judged by the counting consumer, it could be judged at a later
// event before its lane judged its own earlier crossing, which its state
// would then record as already passed, and the decisions would depend on
// timing and on how accounts are split. So counting queues each sender
// under its partition, and the lane holding the partition judges the ones
// due before each event it handles, in stream order, or, when the
// partition is idle, once the partition's consumer has nothing
// undelivered or unacknowledged (every event of the partition before
// them judged). Judging a sender twice at the same event (a lane that
// lost its partition meanwhile) is a no-op: the state records the event.

// maxDue bounds the senders queued under one partition. Instances that do
// not hold a partition keep its queue only for a takeover, and drop what
// the holder has acknowledged past; the bound drops the oldest beyond it.
const maxDue = 512

// dueJudging is a sender to judge at the event (stream sequence seq) that
// raised its destination's count.
type dueJudging struct {
	seq uint64
	s   senderJudging
}

// queueSenders takes the senders the last step found and queues each
// under its partition.
func (p *Pipeline) queueSenders(count *counted, seq uint64) {
	todo := p.takeSenders()
	if len(todo) == 0 {
		return
	}
	count.mu.Lock()
	defer count.mu.Unlock()
	for _, s := range todo {
		count.enqueue(dueJudging{seq: seq, s: s})
	}
}

// enqueue queues d under its sender's partition, dropping the oldest past
// maxDue. Callers hold mu.
func (c *counted) enqueue(d dueJudging) {
	part := natsbus.PartitionOf(d.s.ev.Account)
	q := append(c.due[part], d)
	if len(q) > maxDue {
		q = q[len(q)-maxDue:]
	}
	c.due[part] = q
}

// newCount is the record of counting for a run in partitioned mode, with
// the senders the restored snapshot held queued again.
func (p *Pipeline) newCount() *counted {
	c := newCounted()
	c.mu.Lock()
	for _, d := range p.snap.due {
		c.enqueue(d)
	}
	c.mu.Unlock()
	p.snap.due = nil
	return c
}

// dueBefore removes and returns the senders queued under part at events
// before seq, oldest first.
func (c *counted) dueBefore(part int, seq uint64) []dueJudging {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.due[part]
	n := 0
	for n < len(q) && q[n].seq < seq {
		n++
	}
	if n == 0 {
		return nil
	}
	out := slices.Clone(q[:n])
	c.due[part] = q[n:]
	return out
}

// lastDue is the event the newest sender queued under part is due at; 0
// when none is queued.
func (c *counted) lastDue(part int) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.due[part]; len(q) > 0 {
		return q[len(q)-1].seq
	}
	return 0
}

// judgeDue judges, in order, the senders queued under the lane's
// partition at events before seq. False: stopping, the rest left for
// whoever holds the partition next (its own counting queued them too).
func (l *plane) judgeDue(ctx context.Context, seq uint64) bool {
	p := l.p
	for _, d := range l.count.dueBefore(l.part, seq) {
		if p.judgeSender(ctx, d.s, d.seq) != nil {
			return false
		}
	}
	return true
}

// judgeDueIdle judges the senders queued under the lane's partition when
// no event of the partition waits: the partition's consumer has delivered
// and had acknowledged every event stored, so every event before them is
// judged. Instances that do not hold the partition drop what its holder
// acknowledged past. Called from the lane's ticker; handle excludes it.
func (l *plane) judgeDueIdle(ctx context.Context) {
	if l.count.lastDue(l.part) == 0 {
		return
	}
	l.work.Lock()
	defer l.work.Unlock()
	if !l.owned { // only pruning: seldom, since a partition may stay idle for long
		if time.Now().Before(l.pruneAt) {
			return
		}
		l.pruneAt = time.Now().Add(duePruneEvery)
	}
	// What is queued now: a sender queued after the consumer is read may
	// follow an event of the partition not yet delivered.
	last := l.count.lastDue(l.part)
	if last == 0 {
		return
	}
	info, err := l.cons.Info(ctx)
	if err != nil {
		return
	}
	if !l.owned {
		l.count.dueBefore(l.part, info.AckFloor.Stream) // the holder judged them before it judged the event acknowledged last
		return
	}
	if info.NumPending == 0 && info.NumAckPending == 0 {
		l.judgeDue(ctx, last+1)
	}
}

// dueIdleEvery is how often lanes look for queued senders in partitions
// with no event waiting; duePruneEvery how often a lane that does not hold
// its partition drops what the holder acknowledged past.
const (
	dueIdleEvery  = 200 * time.Millisecond
	duePruneEvery = 5 * time.Second
)

// judgeIdle runs judgeDueIdle on every lane until ctx ends.
func (p *Pipeline) judgeIdle(ctx context.Context, lanes []*plane) {
	t := time.NewTicker(dueIdleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.stopping.Load() {
				return
			}
			for _, l := range lanes {
				l.judgeDueIdle(ctx)
			}
		}
	}
}

// appendDue writes into a snapshot through seq through the senders queued
// for judging at events at or below it, oldest first within a partition:
// a lane that has not judged them yet when the snapshot is stored (an
// idle partition's, within a fraction of a second) would otherwise lose
// them to a start from it. Judging one again after a start is a no-op if
// it was judged before: the sender's state records the event.
func (p *Pipeline) appendDue(b []byte, through uint64) []byte {
	var due []dueJudging
	if c := p.count.Load(); c != nil {
		c.mu.Lock()
		for _, q := range c.due {
			for _, d := range q {
				if d.seq <= through {
					due = append(due, d)
				}
			}
		}
		c.mu.Unlock()
	}
	b = binary.AppendUvarint(b, uint64(len(due)))
	for _, d := range due {
		a, ev := d.s.in.account, d.s.ev
		b = binary.AppendUvarint(b, d.seq)
		b = appendString(b, a.ID)
		b = appendString(b, string(a.Type))
		b = binary.AppendUvarint(b, boolByte(a.Verified))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.AgeDays))
		b = appendString(b, ev.ID)
		b = appendString(b, string(ev.Kind))
		b = binary.AppendVarint(b, ev.At.UnixNano())
		b = binary.AppendUvarint(b, uint64(len(d.s.in.signals)))
		for _, name := range slices.Sorted(maps.Keys(d.s.in.signals)) {
			s := d.s.in.signals[name]
			b = appendString(b, name)
			b = appendString(b, s.Name)
			b = appendString(b, s.Evidence)
			b = binary.AppendUvarint(b, uint64(len(s.Values)))
			for _, k := range slices.Sorted(maps.Keys(s.Values)) {
				b = appendString(b, k)
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Values[k]))
			}
		}
	}
	return b
}

func boolByte(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

// decodeDue reads what appendDue wrote, each sender at an event at or
// below through and an account id valid for its partition.
func decodeDue(data []byte, through uint64) ([]dueJudging, error) {
	r := snapReader{b: data}
	str := func() string { return string(r.bytes(int(r.uvarint()))) }
	num := func() float64 {
		b := r.bytes(8)
		if b == nil {
			return 0
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: %d queued senders in %d bytes", errSnapshot, n, len(r.b))
	}
	due := make([]dueJudging, 0, n)
	for range n {
		seq := r.uvarint()
		a := moderation.Account{ID: str(), Type: moderation.AccountType(str()), Verified: r.uvarint() == 1, AgeDays: num()}
		ev := &moderation.Event{ID: str(), Kind: moderation.Kind(str()), Account: a.ID}
		ev.At = time.Unix(0, r.varint()).UTC()
		signals := r.uvarint()
		if signals > uint64(len(r.b)) {
			r.fail()
		}
		in := &judgeInput{account: a, signals: make(map[string]moderation.Signal, min(signals, 16))}
		for range signals {
			name := str()
			s := moderation.Signal{Name: str(), Evidence: str()}
			values := r.uvarint()
			if values > uint64(len(r.b)) {
				r.fail()
			}
			s.Values = make(map[string]float64, min(values, 32))
			for range values {
				s.Values[str()] = num()
			}
			if r.err != nil {
				break
			}
			in.signals[name] = s
		}
		if r.err != nil {
			return nil, r.err
		}
		if seq > through || !moderation.ValidAccountID(a.ID) {
			return nil, fmt.Errorf("%w: a sender queued at sequence %d (through %d) for account %q", errSnapshot, seq, through, a.ID)
		}
		due = append(due, dueJudging{seq: seq, s: senderJudging{in: in, ev: ev}})
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the queued senders", errSnapshot, len(r.b))
	}
	return due, nil
}
