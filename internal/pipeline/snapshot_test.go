package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"moderation/detectors"
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

// TestSnapshotDecodes: the pipeline's snapshot decodes to the same windows
// and indexes; one cut anywhere, or with a byte changed in its header, is
// an error, never a panic.
func TestSnapshotDecodes(t *testing.T) {
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	for i, ev := range accountMix(2000) {
		p.observe(ev, uint64(i+1))
	}
	data, accounts := p.encodeSnapshot(2000)
	if accounts != 2000 {
		t.Fatalf("snapshot of %d windows, want 2000", accounts)
	}
	env, windows, through, err := p.decodeSnapshot(data, 2000)
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
	if _, _, _, err := p.decodeSnapshot(data, 1999); err == nil || !strings.Contains(err.Error(), "beyond") {
		t.Errorf("snapshot beyond the stream's last sequence: %v, want refused", err)
	}
	for _, n := range []int{0, 3, 7, len(data) / 3, len(data) - 1} {
		if _, _, _, err := p.decodeSnapshot(data[:n], 2000); err == nil {
			t.Errorf("snapshot cut to %d of %d bytes decoded", n, len(data))
		}
	}
	other := append([]byte(nil), data...)
	other[len(snapshotMagic)]++
	if _, _, _, err := p.decodeSnapshot(other, 2000); !errors.Is(err, detectors.ErrSnapshotFormat) {
		t.Errorf("snapshot of another layout: %v, want ErrSnapshotFormat", err)
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
	data, _ := p.encodeSnapshot(20)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _, _ = p.decodeSnapshot(data, 1<<40)
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
		data, accounts := p.encodeSnapshot(n)
		encode += time.Since(began)
		if accounts != n {
			b.Fatalf("snapshot of %d windows, want %d", accounts, n)
		}
		size = len(data)
		began = time.Now()
		if _, windows, _, err := p.decodeSnapshot(data, n); err != nil || windows.Len() != n {
			b.Fatalf("decode: %v", err)
		}
		decode += time.Since(began)
	}
	b.ReportMetric(encode.Seconds()/float64(b.N), "encode-s")
	b.ReportMetric(decode.Seconds()/float64(b.N), "decode-s")
	b.ReportMetric(float64(size)/(1<<20), "MB")
	b.ReportMetric(float64(size)/n, "bytes/account")
}
