package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/detectors"
	"moderation/detectors/adtext"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
	"moderation/internal/traffic"
	"moderation/policies"
)

// TestSnapshotCountedSkipped: an event at or below the sequence a restored
// snapshot is complete through was counted before the snapshot was taken;
// delivered again (the ack floor was below it), it is counted nowhere,
// not even for an account whose window had been evicted, where the
// account's own last sequence cannot tell.
func TestSnapshotCountedSkipped(t *testing.T) {
	p := &Pipeline{windows: newWindowStore(1 << 20), env: newEnv(Config{}.withDefaults())}
	p.snap.through = 10
	ev := accountMix(1)[0]
	if _, crossed := p.observe(ev, 10); crossed {
		t.Error("an event the snapshot counted crossed a level again")
	}
	if p.windows.Len() != 0 {
		t.Fatal("an event the snapshot counted made a window")
	}
	p.observe(ev, 11)
	if p.windows.Len() != 1 {
		t.Fatal("the first event after the snapshot made no window")
	}
}

// TestSnapshotDue: snapshots are at least Every events apart and, with
// more windows than that, at least as many events as there are windows
// (so encoding costs at most one window per event), unless Interval has
// passed.
func TestSnapshotDue(t *testing.T) {
	cfg := Config{Snapshots: SnapshotConfig{Every: 10, Interval: time.Hour}}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	p.snap.taken = time.Now()
	for i, ev := range accountMix(5) {
		p.observe(ev, uint64(i+1))
	}
	for since, due := range map[int]bool{9: false, 10: true} {
		if p.snap.since = since; p.snapshotDue() != due {
			t.Errorf("%d events after a snapshot, 5 windows, every 10: due %v, want %v", since, !due, due)
		}
	}
	for i, ev := range accountMix(30) {
		p.observe(ev, uint64(i+100))
	}
	n := p.windows.Len()
	if n <= 10 {
		t.Fatalf("%d windows, want more than Every", n)
	}
	for since, due := range map[int]bool{10: false, n - 1: false, n: true} {
		if p.snap.since = since; p.snapshotDue() != due {
			t.Errorf("%d events after a snapshot, %d windows, every 10: due %v, want %v", since, n, !due, due)
		}
	}
	p.snap.since, p.snap.taken = 1, time.Now().Add(-time.Hour)
	if !p.snapshotDue() {
		t.Error("an Interval after the last snapshot: not due")
	}
}

// TestSnapshotDecodes: the pipeline's snapshot decodes to the same windows
// and indexes; one cut anywhere, or with a byte changed in its header, is
// an error, never a panic.
func TestSnapshotDecodes(t *testing.T) {
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	for i, ev := range accountMix(2000) {
		p.observe(ev, uint64(i+1))
	}
	parts, accounts := p.encodeSnapshot(2000)
	data := bytes.Join(parts, nil)
	if accounts != 2000 {
		t.Fatalf("snapshot of %d windows, want 2000", accounts)
	}
	rs, err := p.decodeSnapshot(data, 2000)
	env, windows, through := rs.env, rs.windows, rs.through
	if err != nil || through != 2000 {
		t.Fatalf("decode: through %d, %v", through, err)
	}
	for _, ev := range accountMix(2000) {
		w, ok := windows.Get(ev.Account)
		want, _ := p.windows.Get(ev.Account)
		if !ok || w.seq != want.seq {
			t.Fatalf("window of %s: restored %v, seq %d; want seq %d", ev.Account, ok, w.seq, want.seq)
		}
		if diff := cmp.Diff(want.det.Signals(p.env), w.det.Signals(env)); diff != "" {
			t.Fatalf("signals of %s (-taken +restored):\n%s", ev.Account, diff)
		}
	}
	if _, err := p.decodeSnapshot(data, 1999); err == nil || !strings.Contains(err.Error(), "beyond") {
		t.Errorf("snapshot beyond the stream's last sequence: %v, want refused", err)
	}
	for _, n := range []int{0, 3, 7, len(data) / 3, len(data) - 1} {
		if _, err := p.decodeSnapshot(data[:n], 2000); err == nil {
			t.Errorf("snapshot cut to %d of %d bytes decoded", n, len(data))
		}
	}
	other := append([]byte(nil), data...)
	other[len(snapshotMagic)]++
	if _, err := p.decodeSnapshot(other, 2000); !errors.Is(err, detectors.ErrSnapshotFormat) {
		t.Errorf("snapshot of another layout: %v, want ErrSnapshotFormat", err)
	}
}

// TestSnapshotOfOtherWorld: a snapshot taken with another ad model (every
// broadcast's score differs), or of an events stream since deleted and
// declared again (its sequences name other events), is refused, as the
// README says; the same pipeline reads it back.
func TestSnapshotOfOtherWorld(t *testing.T) {
	srv := natstest.Start(t)
	_, js := srv.Connect(t, natsbus.RoleService)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streams, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg), events: streams.Events}
	for i, ev := range accountMix(50) {
		p.observe(ev, uint64(i+1))
	}
	parts, _ := p.encodeSnapshot(50)
	data := bytes.Join(parts, nil)
	if _, err := p.decodeSnapshot(data, 50); err != nil {
		t.Fatalf("the pipeline that took it: %v", err)
	}

	// The built-in model with its bias moved: another model.
	var saved bytes.Buffer
	if err := cfg.AdModel.Save(&saved); err != nil {
		t.Fatal(err)
	}
	raw := saved.Bytes()
	const bias = len("ADTEXTM\x00") + 2 + 1 + 1 // after the magic, version, hash bits and hand inputs
	binary.LittleEndian.PutUint32(raw[bias:], math.Float32bits(math.Float32frombits(binary.LittleEndian.Uint32(raw[bias:]))+0.5))
	binary.LittleEndian.PutUint32(raw[len(raw)-4:], crc32.ChecksumIEEE(raw[:len(raw)-4]))
	model, err := adtext.Load(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	otherCfg := cfg
	otherCfg.AdModel = model
	other := &Pipeline{cfg: otherCfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(otherCfg), events: streams.Events}
	if _, err := other.decodeSnapshot(data, 50); err == nil || !strings.Contains(err.Error(), "ad model") {
		t.Errorf("snapshot taken with another ad model: %v, want refused for the model", err)
	}

	if err := js.DeleteStream(ctx, natsbus.EventsStream); err != nil {
		t.Fatal(err)
	}
	again, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	other = &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg), events: again.Events}
	if _, err := other.decodeSnapshot(data, 50); err == nil || !strings.Contains(err.Error(), "events stream created") {
		t.Errorf("snapshot of the events stream before it was declared again: %v, want refused for the stream", err)
	}
}

// FuzzSnapshotDecode: whatever is stored under the snapshot's name, a
// start decodes it or refuses it; it never panics.
func FuzzSnapshotDecode(f *testing.F) {
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	for i, ev := range accountMix(20) {
		p.observe(ev, uint64(i+1))
	}
	parts, _ := p.encodeSnapshot(20)
	data := bytes.Join(parts, nil)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = p.decodeSnapshot(data, 1<<40)
	})
}

// BenchmarkSnapshotMillion measures a snapshot of a million accounts'
// windows: how long the consumer pauses to encode it (under the lock),
// its size, and how long a start takes to decode it:
// go test -run ^$ -bench SnapshotMillion -benchtime 3x ./internal/pipeline
func BenchmarkSnapshotMillion(b *testing.B) {
	const n = 1_000_000
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	for i, ev := range accountMix(n) {
		p.observe(ev, uint64(i+1))
	}
	var encode, decode time.Duration
	var size int
	for range b.N {
		began := time.Now()
		parts, accounts := p.encodeSnapshot(n)
		encode += time.Since(began)
		data := bytes.Join(parts, nil)
		if accounts != n {
			b.Fatalf("snapshot of %d windows, want %d", accounts, n)
		}
		size = len(data)
		began = time.Now()
		if rs, err := p.decodeSnapshot(data, n); err != nil || rs.windows.Len() != n {
			b.Fatalf("decode: %v", err)
		}
		decode += time.Since(began)
	}
	b.ReportMetric(encode.Seconds()/float64(b.N), "encode-s")
	b.ReportMetric(decode.Seconds()/float64(b.N), "decode-s")
	b.ReportMetric(float64(size)/(1<<20), "MB")
	b.ReportMetric(float64(size)/n, "bytes/account")
}

// gatedStore holds the first change that decides something until
// released, as a slow write would: its event's crossing is then in its
// lane, not yet judged.
type gatedStore struct {
	*MemoryStore
	once    sync.Once
	held    chan uint64 // the stream sequence of the event held
	release chan struct{}
}

func (s *gatedStore) Apply(ctx context.Context, path, account string, fn func(st *moderation.AccountState) (*moderation.Change, error)) (*moderation.Change, error) {
	ch, err := s.MemoryStore.Apply(ctx, path, account, fn)
	if ch != nil && ch.State != nil {
		s.once.Do(func() {
			s.held <- ch.State.EventSeq
			<-s.release
		})
	}
	return ch, err
}

// TestSnapshotWaitsForJudging: a snapshot says every event through its
// sequence was counted and every crossing through it judged, since a
// start skips those events as done. While a crossing waits in its lane no
// snapshot reaches past it, though one is due after every event and
// events keep coming; once it is judged, they are snapshotted too.
func TestSnapshotWaitsForJudging(t *testing.T) {
	srv := natstest.Start(t)
	_, js := srv.Connect(t, natsbus.RoleService)
	_, pubJS := srv.Connect(t, natsbus.RolePublisher)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streams, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	store := &gatedStore{MemoryStore: NewMemoryStore(), held: make(chan uint64, 1), release: make(chan struct{})}
	p, err := New(Config{Location: time.UTC, Snapshots: SnapshotConfig{Every: 1}}, js, streams, store, pol,
		NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	started := make(chan struct{})
	go func() { ran <- p.Run(runCtx, started) }()
	stopped, released := false, false
	defer func() {
		if !released { // before stopping: a stop waits for the lanes
			close(store.release)
		}
		if !stopped {
			stop()
			<-ran
		}
	}()
	<-started

	adder, err := replay.ReadFile("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	others, err := traffic.Synthetic(20, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Publish(ctx, pubJS, adder, nil); err != nil {
		t.Fatal(err)
	}
	stored := func() uint64 {
		data, err := streams.Snapshots.GetBytes(ctx, snapshotObject)
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
	var held uint64
	select {
	case held = <-store.held:
	case <-ctx.Done():
		t.Fatal("no decision made")
	}
	// Other accounts' events, one at a time: each makes a snapshot due.
	for _, r := range others {
		if _, err := replay.Publish(ctx, pubJS, []replay.Record{r}, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if s := stored(); s >= held {
			t.Fatalf("snapshot through %d written while the crossing at %d was being judged", s, held)
		}
	}
	close(store.release)
	released = true
	total := uint64(len(adder) + len(others))
	for p.Processed() < total && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	stop() // a clean stop writes the last snapshot, if the last event's was not
	stopped = true
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if s := stored(); s != total {
		t.Errorf("snapshot through %d after a clean stop, want %d", s, total)
	}
}
