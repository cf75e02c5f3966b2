package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"moderation/internal/natsbus"
)

// Snapshots in partitioned mode. Every instance counts every event in
// stream order, so every instance's windows through a sequence S are the
// same function of the events up to S: one snapshot serves them all, and
// one instance writes it. Which one is a once-per-cluster job (the
// service runs WriteSnapshots under a lease, package lease) rather than
// every instance writing an object of its own for readers to pick the
// newest of: encoding pauses the writer's count (1.5 to 2 s for a million
// accounts) and stores as many bytes as there are windows' worth, which N
// instances would each pay for one snapshot that is the same in all of
// them; and a start reads the one object the single consumer writes, so
// switching modes keeps it. The lease moving a moment late, or two
// holders overlapping while it moves, costs nothing: every snapshot
// written is valid, an older one only makes the next start replay more.
//
// What makes one valid here: a start restores the snapshot at S and
// counts from S+1, so it knows nothing of the judging inputs of events at
// or below S, and a lane taking over a partition judges what the last
// holder left unacknowledged from those inputs (counted.take). So a
// snapshot at S is written only once every partition has acknowledged
// every one of its events at or below S: none is left for a takeover to
// judge, and every crossing at or below S is judged. The writer encodes
// its windows between two events, at S, as the single consumer does (that
// is the pause), then waits in the background until each partition's ack
// floor reaches the last of its events at or below S (the counter keeps
// that sequence per partition), and only then stores it. An event a lane
// cannot settle (its holder stuck or dead, until a takeover judges it)
// holds snapshots back, up to snapshotAckWait each; the snapshot waiting
// is then dropped and the next one, Every events later, tries again.
// Acknowledgements never go back, so what was true at the write stays
// true at every later start. (The single consumer's snapshot promises
// less, every crossing at or below S judged, and its restart may find
// events below S unacknowledged; a partitioned start after it acknowledges
// those without judging them, rightly, as the single consumer's own start
// does.)

// snapshotAckWait bounds how long a snapshot waits for the partitions to
// acknowledge the events it holds: a dead holder's partitions move within
// laneTTL and are taken over then.
const snapshotAckWait = time.Minute

// snapshotStopAckWait is that bound at a stop: the lanes of the stopping
// instance have drained, the others keep up within moments.
const snapshotStopAckWait = 5 * time.Second

// WriteSnapshots makes this instance the one that writes the windows'
// snapshots in partitioned mode, until ctx ends; the service runs it
// under a lease, so that one instance at a time does. When ctx ends
// because the pipeline is stopping (Run's context ended too), it returns
// only once Run has written its last snapshot, so the lease is held until
// then. In the single consumer's mode the pipeline writes its snapshots
// without it.
func (p *Pipeline) WriteSnapshots(ctx context.Context) {
	s := &p.snap
	s.writer.Store(true)
	defer s.writer.Store(false)
	p.log.Info("this instance writes the windows snapshots")
	<-ctx.Done()
	if run := s.run.Load(); run != nil && (*run).Err() != nil {
		select {
		case <-s.finalDone():
		case <-time.After(snapshotStopAckWait + 30*time.Second):
		}
	}
}

// finalDone is closed once Run has stopped, with its last snapshot
// written if it wrote one.
func (s *snapshots) finalDone() chan struct{} {
	s.finalOnce.Do(func() { s.final = make(chan struct{}) })
	return s.final
}

// restorePartitioned restores the stored snapshot, if this pipeline can
// use it, before the count starts, and returns its sequence (0: none; r
// says why).
func (p *Pipeline) restorePartitioned(ctx context.Context, r *Rebuilt) (uint64, error) {
	began := time.Now()
	defer func() { r.Took = time.Since(began) }() // the count adds its own
	var last uint64
	err := p.retry(ctx, func(ctx context.Context) error { // a cluster still placing streams may time out
		info, err := p.events.Info(ctx)
		if err != nil {
			return fmt.Errorf("read stream %s: %w", natsbus.EventsStream, err)
		}
		last = info.State.LastSeq
		return nil
	})
	if err != nil {
		return 0, err
	}
	through, why := p.restoreSnapshot(ctx, last)
	if why != nil {
		r.Reason = why.Error()
		p.log.Info("windows rebuilt from the events, not a snapshot", "reason", r.Reason)
		return 0, nil
	}
	s := &p.snap
	r.Snapshot = through
	s.through, s.last, s.taken = through, through, time.Now()
	s.written.Store(through)
	return through, nil
}

// countedSnapshot is called by the counting consumer after it has counted
// the event at seq, of partition part, and judged the senders it raised.
// When this instance writes the snapshots and one is due, it encodes the
// windows, complete through seq, and stores them in the background once
// every partition has acknowledged its events up to there.
func (p *Pipeline) countedSnapshot(ctx context.Context, lanes []*plane, seq uint64, part int) {
	s := &p.snap
	s.last = max(s.last, seq)
	s.since++
	if part >= 0 && part < len(s.lastIn) {
		s.lastIn[part] = seq
	}
	if !s.writer.Load() || !p.snapshotsOn() || s.busy.Load() || s.unsafe.Load() || !p.snapshotDue() {
		return
	}
	began := time.Now()
	data, accounts := p.encodeSnapshot(s.last)
	paused, through, last := time.Since(began), s.last, slices.Clone(s.lastIn[:])
	s.since, s.taken = 0, time.Now()
	s.busy.Store(true)
	s.writing.Add(1)
	go func() {
		defer s.writing.Done()
		defer s.busy.Store(false)
		if err := p.storeWhenAcked(ctx, lanes, last, snapshotAckWait, data, through, accounts, paused, 2*time.Minute); err != nil && ctx.Err() == nil {
			p.log.Warn("windows snapshot dropped: its events are not all acknowledged", "through_seq", through, "err", err)
		}
	}()
}

// storeWhenAcked stores a snapshot of the windows through seq through once
// every partition has acknowledged its events up to there (last), waiting
// at most ackWait for that and writeWait for the store; the error says
// which events were not acknowledged in time.
func (p *Pipeline) storeWhenAcked(ctx context.Context, lanes []*plane, last []uint64, ackWait time.Duration,
	data snapshotData, through uint64, accounts int, paused, writeWait time.Duration) error {
	actx, cancel := context.WithTimeout(ctx, ackWait)
	err := p.waitAcked(actx, lanes, last)
	cancel()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeWait)
	defer cancel()
	p.writeSnapshot(wctx, data, through, accounts, paused)
	return nil
}

// snapshotAtPartitionedStop writes a last snapshot when this instance
// writes them and its count ended cleanly, once the partitions have
// acknowledged everything it counted (its own lanes have drained).
func (p *Pipeline) snapshotAtPartitionedStop(ctx context.Context, lanes []*plane) {
	s := &p.snap
	s.writing.Wait()
	if !s.writer.Load() || !p.snapshotsOn() || s.unsafe.Load() || s.written.Load() == s.last || s.last == 0 {
		return
	}
	began := time.Now()
	data, accounts := p.encodeSnapshot(s.last)
	paused := time.Since(began)
	if err := p.storeWhenAcked(context.WithoutCancel(ctx), lanes, s.lastIn[:], snapshotStopAckWait, data, s.last, accounts, paused, 30*time.Second); err != nil {
		p.log.Info("no windows snapshot at the stop: its events are not all acknowledged", "through_seq", s.last, "err", err)
	}
}

// waitAcked waits until every partition's ack floor has reached last[part],
// the last of its events a snapshot holds: then none of them waits for a
// lane.
func (p *Pipeline) waitAcked(ctx context.Context, lanes []*plane, last []uint64) error {
	todo := make([]*plane, 0, len(lanes))
	for _, l := range lanes {
		if l.part < len(last) && last[l.part] > 0 {
			todo = append(todo, l)
		}
	}
	for {
		var err error
		waiting := todo[:0]
		for _, l := range todo {
			info, ierr := l.cons.Info(ctx)
			switch {
			case ierr != nil:
				err = fmt.Errorf("read consumer of partition %d: %w", l.part, ierr)
			case info.AckFloor.Stream < last[l.part]:
				err = fmt.Errorf("partition %d acknowledged through %d, its events through %d", l.part, info.AckFloor.Stream, last[l.part])
			default:
				continue
			}
			waiting = append(waiting, l)
		}
		if todo = waiting; len(todo) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
