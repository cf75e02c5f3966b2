package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/detectors"
	"moderation/internal/natsbus"
)

// Snapshots of the detector windows (issue 12). Every so many events, and
// at a clean stop, the consumer writes every account's window and the
// cross-account indexes, with the stream sequence S they are complete
// through, to the SNAPSHOTS object store. A start restores the snapshot
// and replays only the events after S instead of a month of them
// (rebuild.go).
//
// The rule that makes this exact: a snapshot is written only once every
// event at or below S has been counted (the consumer counts in stream
// order, and takes the snapshot itself, between two events) and every
// crossing at or below S has been judged (it waits for the lanes to
// finish what they were given). A restart's ack floor F may still be below
// S (acknowledgements are sent without waiting, and a crash can lose the
// last of them): the events (F, S] are then delivered again, and are
// neither counted again (observe skips every event at or below the
// restored S, as the account's own window already does) nor judged again
// (none of them crossed a level that was not judged). When S is below F,
// the events (S, F] are replayed into the windows, as a rebuild does.
//
// A snapshot that is missing, unreadable, from another format or another
// configuration (the detectors' format, the time zone, the ad model, the
// indexes' bounds) is not used: the windows are rebuilt from the events,
// as before, and the reason is logged.

// SnapshotConfig says how often the windows are written.
type SnapshotConfig struct {
	// Every is how many events are counted between snapshots, at least;
	// 0: 200,000. Encoding a window costs about what counting an event
	// does (1.5 to 2 µs against 1.2), so the pipeline also waits for as many
	// events as it holds windows: snapshots then cost at most one window's
	// encoding per event, and a crash replays at most that many events.
	Every int
	// Interval is how long, at most, events are counted without a
	// snapshot; 0: 5 minutes.
	Interval time.Duration
	// Off writes no snapshots and reads none.
	Off bool
}

func (c SnapshotConfig) withDefaults() SnapshotConfig {
	if c.Every <= 0 {
		c.Every = 200_000
	}
	if c.Interval <= 0 {
		c.Interval = 5 * time.Minute
	}
	return c
}

// snapshotObject is the name of the snapshot in the bucket: one, replaced
// by each new one (the object store swaps it whole).
const snapshotObject = "windows"

// snapshotMagic opens a snapshot; the byte after it is the layout of what
// follows (the detectors' own state carries detectors.SnapshotFormat).
const (
	snapshotMagic  = "MODWIN"
	snapshotLayout = 2 // 2: the senders queued for judging (sendersdue.go)
)

// snapshots is the pipeline's record of its snapshots. All of it but
// rebuilt is the consumer goroutine's (and Run's, once that has stopped).
type snapshots struct {
	// through: every event at or below it is counted in the windows, by a
	// restored snapshot or a rebuild; observe skips such events.
	through uint64
	// due: the senders the restored snapshot held queued for judging, for
	// partitioned mode's count to queue again (sendersdue.go).
	due     []dueJudging
	last    uint64 // highest stream sequence handled
	since   int    // events handled since the last snapshot
	taken   time.Time
	size    int            // bytes of the last one, to size the next buffer
	writing sync.WaitGroup // the snapshot being written, if any
	busy    atomic.Bool
	written atomic.Uint64 // sequence of the snapshot stored last

	fingerprintOnce sync.Once
	fingerprint     string

	rebuilt atomic.Pointer[Rebuilt]

	// Partitioned mode (partsnap.go). writer: this instance holds the
	// snapshot lease (WriteSnapshots). lastIn: the counting consumer's last
	// event counted of each partition. unsafe: the windows hold an event
	// whose judging at the count was left undone (stopping), so no
	// snapshot may claim it. run: Run's context; final: closed once Run
	// has stopped.
	writer    atomic.Bool
	lastIn    [natsbus.Partitions]uint64
	unsafe    atomic.Bool
	run       atomic.Pointer[context.Context]
	finalOnce sync.Once
	final     chan struct{}
}

// Rebuilt is how the windows were brought back at the last start.
type Rebuilt struct {
	// Snapshot is the stream sequence of the snapshot restored; 0: none
	// was, and Reason says why.
	Snapshot uint64
	Reason   string
	// Through is the ack floor at the start: every event at or below it
	// (and, from a later snapshot, at or below Snapshot) was counted
	// before consuming began.
	Through  uint64
	Replayed int // events read from the stream to get there
	Took     time.Duration
}

// Rebuilt says how the windows were brought back at the last start; zero
// before Run has done it.
func (p *Pipeline) Rebuilt() Rebuilt {
	if r := p.snap.rebuilt.Load(); r != nil {
		return *r
	}
	return Rebuilt{}
}

func (p *Pipeline) snapshotsOn() bool {
	return !p.cfg.Snapshots.Off && p.streams != nil && p.streams.Snapshots != nil
}

// snapshotAfter is called by the consumer after it has handled the event
// at seq (counted it, and acknowledged it or handed it to its lane). When
// a snapshot is due, it encodes the windows, waits for the lanes to judge
// every crossing counted so far, and writes the snapshot in the background.
// Counting pauses meanwhile: the encoding (1.5 to 2 s for a million
// accounts on a loaded 2-core machine, BenchmarkSnapshotMillion) and the
// lanes' queues, which are short unless NATS is slow.
func (p *Pipeline) snapshotAfter(ctx context.Context, seq uint64) {
	s := &p.snap
	s.last = max(s.last, seq)
	s.since++
	if !p.snapshotsOn() || s.busy.Load() || !p.snapshotDue() {
		return
	}
	began := time.Now()
	data, accounts := p.encodeSnapshot(s.last)
	// Every crossing at or below s.last was handed to a lane before this
	// call: once they are all finished, the snapshot may be used.
	p.judging.Wait()
	if p.halted.Load() {
		return // a crossing was left unjudged: this snapshot must not skip it
	}
	paused, through := time.Since(began), s.last
	s.since, s.taken = 0, time.Now()
	s.busy.Store(true)
	s.writing.Add(1)
	go func() {
		defer s.writing.Done()
		defer s.busy.Store(false)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		p.writeSnapshot(wctx, data, through, accounts, paused)
	}()
}

// snapshotDue: Every events, and at least as many as there are windows,
// were counted since the last snapshot, or Interval has passed. The count
// of windows (under the store's lock) is read only once Every events have
// passed, not for every event.
func (p *Pipeline) snapshotDue() bool {
	s := &p.snap
	return s.since >= p.cfg.Snapshots.Every && s.since >= p.windows.Len() || time.Since(s.taken) >= p.cfg.Snapshots.Interval
}

// snapshotAtStop writes a last snapshot when the pipeline stopped cleanly:
// the consumer's last callback returned (clean) and the lanes judged
// everything they were given. Then the next start replays nothing.
func (p *Pipeline) snapshotAtStop(ctx context.Context, clean bool) {
	s := &p.snap
	s.writing.Wait()
	if !clean || p.halted.Load() || !p.snapshotsOn() || s.written.Load() == s.last {
		return
	}
	began := time.Now()
	data, accounts := p.encodeSnapshot(s.last)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	p.writeSnapshot(wctx, data, s.last, accounts, time.Since(began))
}

func (p *Pipeline) writeSnapshot(ctx context.Context, data snapshotData, through uint64, accounts int, paused time.Duration) {
	began := time.Now()
	if _, err := p.streams.Snapshots.Put(ctx, jetstream.ObjectMeta{Name: snapshotObject}, data.reader()); err != nil {
		p.log.Warn("windows snapshot not written; the next start replays more", "through_seq", through, "err", err)
		return
	}
	p.snap.written.Store(through)
	p.log.Info("windows snapshot written", "through_seq", through, "accounts", accounts, "bytes", data.size(),
		"paused", paused.Round(time.Millisecond).String(), "write", time.Since(began).Round(time.Millisecond).String())
}

// encodeSnapshot encodes the windows and the indexes as complete through
// stream sequence through, under mu (readers of the windows wait; the
// consumer, the only writer, is the caller).
//
// Layout: magic, layout byte, fingerprint (string), the stream's creation
// time (unix nanoseconds, varint), through (uvarint), the Env (length and
// bytes), the number of windows, and per window its account id, its last
// sequence and its detectors' state (each with its length).
func (p *Pipeline) encodeSnapshot(through uint64) (data snapshotData, accounts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Parts sized from the last snapshot, or a guess, so they are not
	// copied as they grow (past a few hundred bytes a slice grows by a
	// quarter).
	size := p.snap.size
	if size == 0 {
		size = 128 * p.windows.Len()
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotLayout)
	b = appendString(b, p.fingerprint())
	b = binary.AppendVarint(b, p.streamCreated())
	b = binary.AppendUvarint(b, through)
	b = appendFramed(b, func(b []byte) []byte {
		b, _ = p.env.AppendBinary(b) // never fails: it returns an error only to be an encoding.BinaryAppender
		return b
	})
	b = appendFramed(b, func(b []byte) []byte { return p.appendDue(b, through) })
	p.windows.mu.Lock()
	defer p.windows.mu.Unlock()
	n := len(p.windows.m)
	b = binary.AppendUvarint(b, uint64(n))
	ids, ws := make([]string, 0, n), make([]*window, 0, n)
	for id, w := range p.windows.m {
		ids, ws = append(ids, id), append(ws, w)
	}
	// In parallel: reading a million windows scattered over the heap is
	// bound by memory latency, which the cores overlap.
	parts := make(snapshotData, 1+chunks(n))
	parallel(n, len(parts)-1, func(part, lo, hi int) error {
		buf := make([]byte, 0, (size/len(parts))+(size/len(parts))/8)
		for i := lo; i < hi; i++ {
			buf = appendString(buf, ids[i])
			buf = binary.AppendUvarint(buf, ws[i].seq)
			buf = appendFramed(buf, func(b []byte) []byte {
				b, _ = ws[i].det.AppendBinary(b)
				return b
			})
		}
		parts[1+part] = buf
		return nil
	})
	parts[0] = b
	p.snap.size = parts.size()
	return parts, n
}

// snapshotData is a snapshot as the parts it was encoded in, written one
// after the other: joined, they would take its size again in memory.
type snapshotData [][]byte

func (d snapshotData) size() int {
	n := 0
	for _, part := range d {
		n += len(part)
	}
	return n
}

func (d snapshotData) reader() io.Reader {
	readers := make([]io.Reader, len(d))
	for i, part := range d {
		readers[i] = bytes.NewReader(part)
	}
	return io.MultiReader(readers...)
}

// chunks is how many parts parallel splits n items into.
func chunks(n int) int { return max(1, min(runtime.GOMAXPROCS(0), 8, n/1024)) }

// parallel runs fn on parts contiguous ranges of [0, n) at once and
// returns the first error.
func parallel(n, parts int, fn func(part, lo, hi int) error) error {
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for part := range parts {
		lo, hi := n*part/parts, n*(part+1)/parts
		wg.Go(func() { errs[part] = fn(part, lo, hi) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// appendFramed appends what enc appends, preceded by its length as a
// 4-byte little-endian integer (written after, so nothing is copied).
func appendFramed(b []byte, enc func([]byte) []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = enc(b)
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// fingerprint names what the windows' contents depend on besides the
// events: the detectors' format, the time zone (calendar quotas) and the ad
// model (every broadcast's score). A snapshot with another is not used.
func (p *Pipeline) fingerprint() string {
	s := &p.snap
	s.fingerprintOnce.Do(func() {
		h := sha256.New()
		if err := p.cfg.AdModel.Save(h); err != nil {
			s.fingerprint = "an ad model that does not save: " + err.Error()
			return
		}
		s.fingerprint = fmt.Sprintf("detectors format %d, zone %s, ad model %x", detectors.SnapshotFormat, p.cfg.Location, h.Sum(nil)[:8])
	})
	return s.fingerprint
}

// streamCreated is when the events stream was created: a snapshot of
// another stream by the same name (deleted and declared again) is not used.
func (p *Pipeline) streamCreated() int64 {
	if p.events == nil {
		return 0
	}
	if info := p.events.CachedInfo(); info != nil {
		return info.Created.UnixNano()
	}
	return 0
}

// snapshotHeader is what precedes the windows.
type snapshotHeader struct {
	fingerprint string
	created     int64
	through     uint64
	rest        []byte
}

var errSnapshot = errors.New("unreadable snapshot")

func readSnapshotHeader(data []byte) (h snapshotHeader, err error) {
	r := snapReader{b: data}
	if string(r.bytes(len(snapshotMagic))) != snapshotMagic {
		return h, fmt.Errorf("%w: not a windows snapshot", errSnapshot)
	}
	if v := r.bytes(1); len(v) == 1 && v[0] != snapshotLayout {
		return h, fmt.Errorf("%w: layout %d, this build reads %d", detectors.ErrSnapshotFormat, v[0], snapshotLayout)
	}
	h.fingerprint = string(r.bytes(int(r.uvarint())))
	h.created = r.varint()
	h.through = r.uvarint()
	h.rest = r.b
	return h, r.err
}

// restoreSnapshot reads the stored snapshot and, if this pipeline can use
// it, replaces the windows and the indexes with it and returns its
// sequence; otherwise it changes nothing and says why.
func (p *Pipeline) restoreSnapshot(ctx context.Context, streamLast uint64) (through uint64, why error) {
	if !p.snapshotsOn() {
		return 0, errors.New("snapshots are off")
	}
	data, err := p.streams.Snapshots.GetBytes(ctx, snapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0, errors.New("no snapshot stored")
	}
	if err != nil {
		return 0, fmt.Errorf("read snapshot: %w", err)
	}
	rs, err := p.decodeSnapshot(data, streamLast)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.env, p.windows = rs.env, rs.windows
	p.mu.Unlock()
	p.snap.due = rs.due
	return rs.through, nil
}

// restored is what a snapshot holds: the cross-account indexes, the
// windows, the sequence they are complete through, and the senders that
// were queued for judging at events at or below it.
type restored struct {
	env     *detectors.Env
	windows *windowStore
	through uint64
	due     []dueJudging
}

// decodeSnapshot decodes a snapshot into fresh windows and indexes, so one
// that fails half way leaves nothing of itself behind.
func (p *Pipeline) decodeSnapshot(data []byte, streamLast uint64) (restored, error) {
	h, err := readSnapshotHeader(data)
	switch {
	case err != nil:
		return restored{}, err
	case h.fingerprint != p.fingerprint():
		return restored{}, fmt.Errorf("snapshot taken with %s; this service runs %s", h.fingerprint, p.fingerprint())
	case h.created != p.streamCreated():
		return restored{}, fmt.Errorf("snapshot of an events stream created at %s; this one was created at %s",
			time.Unix(0, h.created).UTC().Format(time.RFC3339Nano), time.Unix(0, p.streamCreated()).UTC().Format(time.RFC3339Nano))
	case h.through > streamLast:
		return restored{}, fmt.Errorf("snapshot through sequence %d, beyond the events stream's last, %d", h.through, streamLast)
	}
	env := newEnv(p.cfg)
	r := snapReader{b: h.rest}
	if b := r.framed(); r.err != nil {
		return restored{}, r.err
	} else if err := env.UnmarshalBinary(b); err != nil {
		return restored{}, err
	}
	due, err := decodeDue(r.framed(), h.through)
	if r.err != nil {
		return restored{}, r.err
	}
	if err != nil {
		return restored{}, err
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return restored{}, fmt.Errorf("%w: %d windows in %d bytes", errSnapshot, n, len(r.b))
	}
	// Framing first, then the windows in parallel (allocation and memory
	// bound, as encoding is), then into the store.
	type framed struct {
		id   string
		seq  uint64
		data []byte
	}
	frames := make([]framed, n)
	for i := range frames {
		frames[i].id = string(r.bytes(int(r.uvarint())))
		frames[i].seq = r.uvarint()
		frames[i].data = r.framed()
		if r.err != nil {
			return restored{}, r.err
		}
	}
	if len(r.b) > 0 {
		return restored{}, fmt.Errorf("%w: %d bytes after the last window", errSnapshot, len(r.b))
	}
	decoded := make([]*window, n)
	err = parallel(int(n), chunks(int(n)), func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			w := &window{seq: frames[i].seq}
			if err := w.det.UnmarshalBinary(frames[i].data); err != nil {
				return fmt.Errorf("window of %s: %w", frames[i].id, err)
			}
			decoded[i] = w
		}
		return nil
	})
	if err != nil {
		return restored{}, err
	}
	windows := newWindowStore(p.cfg.MaxStateBytes)
	windows.m = make(map[string]*window, n)
	for i, w := range decoded {
		if !windows.load(frames[i].id, w, windowCost(frames[i].id, w)) {
			return restored{}, fmt.Errorf("%w: two windows of %s", errSnapshot, frames[i].id)
		}
	}
	return restored{env: env, windows: windows, through: h.through, due: due}, nil
}

// load is Set for a store being filled from a snapshot, nobody else
// reading it: the id is the snapshot's own copy, and a second window of
// one account is refused (false).
func (s *windowStore) load(account string, w *window, cost int64) bool {
	if _, dup := s.m[account]; dup {
		return false
	}
	w.cost = cost
	s.m[account] = w
	s.cost += cost
	for s.cost > s.maxCost && len(s.m) > 1 {
		s.evictColdest(account)
	}
	return true
}

// windowCost is what a window declares to the store: its detectors, the
// window itself, the store's overhead and the id's bytes.
func windowCost(account string, w *window) int64 {
	return w.det.Bytes() + int64(unsafe.Sizeof(*w)) - int64(unsafe.Sizeof(w.det)) + cacheOverhead + int64(len(account))
}

// snapReader reads a snapshot's framing; the first error sticks.
type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: cut short or corrupt", errSnapshot)
	}
	r.b = nil
}

func (r *snapReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *snapReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) framed() []byte {
	n := r.bytes(4)
	if n == nil {
		return nil
	}
	return r.bytes(int(binary.LittleEndian.Uint32(n)))
}
