package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/enforcement"
	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// partWorld is one embedded NATS with the service's streams, as the
// instances of a partitioned cluster share them.
type partWorld struct {
	ctx     context.Context
	js      jetstream.JetStream
	pub     jetstream.JetStream
	streams *natsbus.Streams
	pol     *judge.Policy
	log     *slog.Logger
}

func newPartWorld(t *testing.T, ctx context.Context) *partWorld {
	t.Helper()
	srv := natstest.Start(t)
	_, js := srv.Connect(t, natsbus.RoleService)
	_, pub := srv.Connect(t, natsbus.RolePublisher)
	streams, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !streams.Partitioned {
		t.Fatal("the events stream does not add partitions")
	}
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	return &partWorld{ctx: ctx, js: js, pub: pub, streams: streams, pol: pol, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// partRun is one partitioned instance, writing the snapshots as the lease
// holder does.
type partRun struct {
	p      *Pipeline
	stop   context.CancelFunc
	ran    chan error
	writer chan struct{}
}

func (w *partWorld) start(t *testing.T, store Store, cfg Config) *partRun {
	t.Helper()
	cfg.Partitioned = true
	p, err := New(cfg, w.js, w.streams, store, w.pol, NewMetrics(prometheus.NewRegistry()), w.log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(w.ctx)
	r := &partRun{p: p, stop: stop, ran: make(chan error, 1), writer: make(chan struct{})}
	go func() { defer close(r.writer); p.WriteSnapshots(runCtx) }()
	started := make(chan struct{})
	go func() { r.ran <- p.Run(runCtx, started) }()
	select {
	case <-started:
	case err := <-r.ran:
		t.Fatalf("partitioned pipeline did not start: %v", err)
	}
	return r
}

// halt stops the instance as a service stop does.
func (r *partRun) halt(t *testing.T) {
	t.Helper()
	r.stop()
	if err := <-r.ran; err != nil {
		t.Fatal(err)
	}
	<-r.writer
}

// storedSnapshot is the sequence the stored snapshot is complete through;
// 0: none stored.
func (w *partWorld) storedSnapshot(t *testing.T) uint64 {
	t.Helper()
	data, err := w.streams.Snapshots.GetBytes(w.ctx, snapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	h, err := readSnapshotHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	return h.through
}

// partitionInfo is partition part's consumer.
func (w *partWorld) partitionInfo(t *testing.T, part int) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := w.streams.Events.Consumer(w.ctx, natsbus.PartitionConsumer(part))
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// settled reports whether every partition but skip (-1: none) has
// nothing pending or unacknowledged.
func (w *partWorld) settled(t *testing.T, skip int) bool {
	t.Helper()
	for part := range natsbus.Partitions {
		if part == skip {
			continue
		}
		if info := w.partitionInfo(t, part); info.NumPending > 0 || info.NumAckPending > 0 {
			return false
		}
	}
	return true
}

func (w *partWorld) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if w.ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, w.ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// decided is every decision stored, as "decision_id action" by account,
// failing on one stored twice.
func (w *partWorld) decided(t *testing.T) map[string][]string {
	t.Helper()
	decisions, err := w.js.Stream(w.ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := decisions.Info(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	seen := map[string]bool{}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		msg, err := decisions.GetMsg(w.ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var d moderation.Decision
		if err := json.Unmarshal(msg.Data, &d); err != nil || d.DecisionID == "" || !strings.HasPrefix(msg.Subject, natsbus.EnforcementPrefix) {
			continue // not a decision
		}
		if seen[d.DecisionID] {
			t.Errorf("decision %s stored twice", d.DecisionID)
		}
		seen[d.DecisionID] = true
		got[d.Account] = append(got[d.Account], d.DecisionID+" "+string(d.Action))
	}
	return got
}

// simulated runs recs through one instance alone, one event at a time,
// and returns it with its decisions as decided gives them.
func simulated(t *testing.T, ctx context.Context, pol *judge.Policy, recs []replay.Record) (*Simulator, map[string][]string) {
	t.Helper()
	sim, err := NewSimulator(Config{Location: time.UTC}, pol)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := sim.Feed(ctx, ev, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{}
	for _, d := range sim.Decisions() {
		want[d.Account] = append(want[d.Account], d.DecisionID+" "+string(d.Action))
	}
	return sim, want
}

// sameWindows fails unless p holds, for every account of recs, the
// signals the simulator holds.
func sameWindows(t *testing.T, p *Pipeline, sim *Simulator, recs []replay.Record) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		a := strings.Split(r.Subject, ".")[3]
		if seen[a] {
			continue
		}
		seen[a] = true
		want, wok := sim.p.Signals(a)
		got, ok := p.Signals(a)
		if ok != wok {
			t.Fatalf("window of %s: held %v, alone %v", a, ok, wok)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("signals of %s (-alone +restored):\n%s", a, diff)
		}
	}
}

// TestPartitionedRestartFromSnapshot: a partitioned instance that writes
// the snapshots leaves one at its stop, complete through every event it
// counted; the next start restores it and reads only the events published
// after it (the count of events read on start says so), and then makes,
// with the windows it restored, exactly the decisions, and holds exactly
// the windows, of one instance alone that read every event. A start with
// another configuration (here the time zone) refuses the snapshot, as the
// single consumer does, and counts every event again.
func TestPartitionedRestartFromSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := newPartWorld(t, ctx)
	recs, err := traffic.Attack(6_000, 11)
	if err != nil {
		t.Fatal(err)
	}
	sim, want := simulated(t, ctx, w.pol, recs)
	first, second := recs[:4_000], recs[4_000:]
	cfg := Config{Location: time.UTC, Snapshots: SnapshotConfig{Every: 1_000, Interval: time.Hour}}
	store := func() Store { return enforcement.NewStore(w.js, w.streams.Accounts) }

	a := w.start(t, store(), cfg)
	if r := a.p.Rebuilt(); r.Snapshot != 0 || r.Replayed != 0 {
		t.Errorf("first start: snapshot %d, %d events read; want none", r.Snapshot, r.Replayed)
	}
	if _, err := replay.Publish(ctx, w.pub, first, nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "the first events acknowledged", func() bool { return a.p.Counted() == uint64(len(first)) && w.settled(t, -1) })
	periodic := w.storedSnapshot(t)
	a.halt(t)
	if got := w.storedSnapshot(t); got != uint64(len(first)) {
		t.Fatalf("snapshot through %d after a clean stop, want %d (a periodic one was through %d)", got, len(first), periodic)
	}
	t.Logf("periodic snapshot through %d while counting, the stop's through %d", periodic, len(first))

	if _, err := replay.Publish(ctx, w.pub, second, nil); err != nil { // nothing running
		t.Fatal(err)
	}
	b := w.start(t, store(), cfg)
	r := b.p.Rebuilt()
	if r.Snapshot != uint64(len(first)) || r.Replayed != len(second) {
		t.Errorf("restart: snapshot %d (%s), %d events read on start; want snapshot %d, %d events read", r.Snapshot, r.Reason, r.Replayed, len(first), len(second))
	}
	w.waitFor(t, "every event acknowledged", func() bool { return w.settled(t, -1) })
	sameWindows(t, b.p, sim, recs)
	got := w.decided(t)
	if len(want) < 50 {
		t.Fatalf("one instance alone decided about %d accounts; the wave should make many change", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions by account (-one instance alone +restarted from the snapshot):\n%s", diff)
	}
	t.Logf("restart read %d events after the snapshot at %d, in %s; %d accounts decided, as alone", r.Replayed, r.Snapshot, r.Took.Round(time.Millisecond), len(got))
	b.halt(t)

	other := cfg
	other.Location = time.FixedZone("UTC+8", 8*3600)
	c := w.start(t, store(), other)
	if r := c.p.Rebuilt(); r.Snapshot != 0 || !strings.Contains(r.Reason, "zone UTC+8") || r.Replayed != len(recs) {
		t.Errorf("snapshot of another zone: restored %d (%q), %d events read; want none, for the zone, and all %d read", r.Snapshot, r.Reason, r.Replayed, len(recs))
	}
	c.halt(t)
}

// heldStore is the JetStream store with one account's changes held, once
// armed, as a lane stuck on a slow or dead NATS node would be: the
// account's event waits unacknowledged. After fail, its changes fail
// without being made, as a dying instance's do.
type heldStore struct {
	*enforcement.Store
	account string
	armed   chan struct{}
	fail    chan struct{}
	once    sync.Once
	held    chan struct{} // closed at the first change held
}

func (s *heldStore) Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error) {
	if account == s.account {
		select {
		case <-s.armed:
			s.once.Do(func() { close(s.held) })
			select {
			case <-s.fail:
			case <-ctx.Done():
			}
			return nil, errors.New("held")
		default:
		}
	}
	return s.Store.Apply(ctx, path, account, fn)
}

// TestPartitionedSnapshotLeavesTakeoverItsInputs: a restart counts from
// the snapshot, so it knows the judging inputs only of the events after
// it, and a lane taking a partition over judges from those inputs what
// the last holder left unacknowledged. So while an event waits
// unacknowledged in its partition no snapshot reaches it, though
// snapshots keep being due and the other partitions settle; the instance
// holding it stops (dies) without settling it; the next start restores
// the snapshot from before it, takes the partition over at its next event
// and judges the waiting event: the decisions are exactly those of one
// instance alone.
func TestPartitionedSnapshotLeavesTakeoverItsInputs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := newPartWorld(t, ctx)
	recs, err := traffic.Attack(4_000, 12)
	if err != nil {
		t.Fatal(err)
	}
	half := len(recs) / 2
	// Held: an account decided about only in the second half, that only
	// adds friends (a broadcaster may be judged by the count itself, as a
	// destination's earlier sender, and the count must go on).
	_, decidedEarly := simulated(t, ctx, w.pol, recs[:half])
	_, decided := simulated(t, ctx, w.pol, recs)
	adds := map[string]bool{} // every event of the account is a friend request
	for _, r := range recs {
		tok := strings.Split(r.Subject, ".") // mod.events.<kind>.<account>
		add := tok[2] == string(moderation.KindFriendAdd)
		if prev, ok := adds[tok[3]]; ok {
			add = add && prev
		}
		adds[tok[3]] = add
	}
	var held string
	for _, r := range recs[half:] {
		a := strings.Split(r.Subject, ".")[3]
		if _, early := decidedEarly[a]; !early && held == "" && adds[a] && len(decided[a]) > 0 {
			held = a
		}
	}
	if held == "" {
		t.Fatal("no account that only adds friends is decided about in the second half")
	}
	// Its partition's next event, published once the next instance runs.
	part := natsbus.PartitionOf(held)
	var probe replay.Record
	for _, r := range recs {
		if natsbus.PartitionOf(strings.Split(r.Subject, ".")[3]) == part {
			probe = r
		}
	}
	ev, err := events.Decode(probe.Subject, probe.Header.Get("Content-Type"), probe.Data)
	if err != nil {
		t.Fatal(err)
	}
	ev.ID += "-next"
	ev.At = ev.At.Add(time.Second)
	if probe.Data, err = events.EncodeJSON(ev); err != nil {
		t.Fatal(err)
	}
	probe.Header = nats.Header{"Content-Type": {"application/json"}, nats.MsgIdHdr: {ev.ID}}
	all := append(recs[:len(recs):len(recs)], probe)
	sim, want := simulated(t, ctx, w.pol, all)
	if len(want[held]) == 0 {
		t.Fatalf("account %s held: one instance alone decides nothing about it", held)
	}

	cfg := Config{Location: time.UTC, Snapshots: SnapshotConfig{Every: 1, Interval: time.Millisecond}}
	store := &heldStore{Store: enforcement.NewStore(w.js, w.streams.Accounts), account: held,
		armed: make(chan struct{}), fail: make(chan struct{}), held: make(chan struct{})}
	a := w.start(t, store, cfg)
	if _, err := replay.Publish(ctx, w.pub, recs[:half], nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "the first half acknowledged", func() bool { return a.p.Counted() == uint64(half) && w.settled(t, -1) })
	w.waitFor(t, "a snapshot written", func() bool { return w.storedSnapshot(t) > 0 })
	close(store.armed)
	if _, err := replay.Publish(ctx, w.pub, recs[half:], nil); err != nil {
		t.Fatal(err)
	}
	<-store.held
	w.waitFor(t, "the other partitions settled", func() bool { return a.p.Counted() == uint64(len(recs)) && w.settled(t, part) })
	info := w.partitionInfo(t, part)
	first, err := w.streams.Events.GetMsg(ctx, info.AckFloor.Stream+1, jetstream.WithGetMsgSubject(natsbus.PartitionFilter(part)))
	if err != nil {
		t.Fatal(err)
	}
	waiting := first.Sequence
	time.Sleep(time.Second) // snapshots due after every event, and the writer waiting for the held one
	snap := w.storedSnapshot(t)
	if snap >= waiting || snap == 0 {
		t.Fatalf("snapshot through %d while the event at %d waits unacknowledged in partition %d (want one before it)", snap, waiting, part)
	}
	close(store.fail)
	a.halt(t) // the held event left unacknowledged
	if got := w.storedSnapshot(t); got >= waiting {
		t.Fatalf("the stop wrote a snapshot through %d, past the event at %d left unacknowledged", got, waiting)
	}
	if info := w.partitionInfo(t, part); info.AckFloor.Stream >= waiting {
		t.Fatalf("partition %d acknowledged through %d: the held event at %d was settled", part, info.AckFloor.Stream, waiting)
	}

	b := w.start(t, enforcement.NewStore(w.js, w.streams.Accounts), cfg)
	r := b.p.Rebuilt()
	if r.Snapshot != snap || r.Replayed != len(recs)-int(snap) {
		t.Errorf("restart: snapshot %d (%s), %d events read; want snapshot %d, %d read", r.Snapshot, r.Reason, r.Replayed, snap, len(recs)-int(snap))
	}
	if _, err := replay.Publish(ctx, w.pub, []replay.Record{probe}, nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "every event acknowledged", func() bool { return w.settled(t, -1) })
	sameWindows(t, b.p, sim, all)
	if diff := cmp.Diff(want, w.decided(t)); diff != "" {
		t.Errorf("decisions by account (-one instance alone +taken over after a snapshot):\n%s", diff)
	}
	t.Logf("event %d of %s waited in partition %d; the snapshot stayed at %d; the next start read %d events and judged it on taking the partition over",
		waiting, held, part, snap, r.Replayed)
	b.halt(t)
}
