package lease_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/lease"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
)

const job = "purge-sweep"

// runs records which contenders run the job, and whether two ever did at
// once: the one thing a lease must prevent.
type runs struct {
	mu      sync.Mutex
	running map[string]bool
	started map[string]time.Time
	stopped map[string]time.Time
	overlap []string // "a while b": a started while b was running
}

func newRuns() *runs {
	return &runs{running: map[string]bool{}, started: map[string]time.Time{}, stopped: map[string]time.Time{}}
}

// job is what contender holder runs: it marks itself running until its
// context ends.
func (r *runs) job(holder string) func(context.Context) {
	return func(ctx context.Context) {
		r.mu.Lock()
		for other, on := range r.running {
			if on {
				r.overlap = append(r.overlap, holder+" while "+other)
			}
		}
		r.running[holder], r.started[holder] = true, time.Now()
		r.mu.Unlock()
		<-ctx.Done()
		r.mu.Lock()
		r.running[holder], r.stopped[holder] = false, time.Now()
		r.mu.Unlock()
	}
}

// who lists the contenders running the job now.
func (r *runs) who() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var on []string
	for h, yes := range r.running {
		if yes {
			on = append(on, h)
		}
	}
	return on
}

func (r *runs) startedAt(holder string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.started[holder]
	return at, ok
}

func (r *runs) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.overlap {
		t.Errorf("two contenders ran the job at once: %s", o)
	}
}

// contender is one instance: its own connection, registry and Run.
type contender struct {
	holder string
	nc     *nats.Conn
	reg    *prometheus.Registry
	stop   context.CancelFunc
	done   chan struct{}
}

// held is the contender's moderation_singleton_held{job}; -1 if it has
// no such series.
func (c *contender) held(t *testing.T) float64 {
	t.Helper()
	families, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "moderation_singleton_held" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() == job {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// start runs a contender for job on srv with ttl until the test ends.
func start(t *testing.T, srv *natstest.Server, holder string, ttl time.Duration, r *runs) *contender {
	t.Helper()
	nc, js := srv.Connect(t, natsbus.RoleService)
	c := &contender{holder: holder, nc: nc, reg: prometheus.NewRegistry(), done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := lease.Open(ctx, js, lease.Config{TTL: ttl, Holder: holder, Metrics: lease.NewMetrics(c.reg),
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)).With("contender", holder)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go func() {
		defer close(c.done)
		l.Run(runCtx, job, r.job(holder))
	}()
	t.Cleanup(func() { stop(); <-c.done })
	return c
}

// history records every write to the job's key from now on: who wrote it,
// and whether it was a put, a delete (a release) or a purge (the server's
// marker when the key expired).
type history struct {
	mu      sync.Mutex
	entries []jetstream.KeyValueEntry
}

func watchHistory(t *testing.T, srv *natstest.Server) *history {
	t.Helper()
	_, js := srv.Connect(t, natsbus.RoleService)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	kv, err := js.KeyValue(ctx, lease.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	w, err := kv.Watch(ctx, job, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	h := &history{}
	go func() {
		for e := range w.Updates() {
			if e != nil {
				h.mu.Lock()
				h.entries = append(h.entries, e)
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// before is the operation on the key just before holder's first put.
func (h *history) before(t *testing.T, holder string) jetstream.KeyValueOp {
	t.Helper()
	op, ok := h.opBefore(t, holder)
	if !ok {
		t.Fatalf("%s's put is the first write seen", holder)
	}
	return op
}

// opBefore is before, reporting false when holder's put is the first write
// seen.
func (h *history) opBefore(t *testing.T, holder string) (jetstream.KeyValueOp, bool) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, e := range h.entries {
		if e.Operation() == jetstream.KeyValuePut && string(e.Value()) == holder {
			if i == 0 {
				return 0, false
			}
			return h.entries[i-1].Operation(), true
		}
	}
	t.Fatalf("no put by %s in %d writes", holder, len(h.entries))
	return 0, false
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runsOnly(r *runs, holder string) func() bool {
	return func() bool {
		on := r.who()
		return len(on) == 1 && on[0] == holder
	}
}

// TestOneContenderRunsTheJob: of two contenders on one bucket exactly one
// runs the job, and renewals keep it there without restarting it.
func TestOneContenderRunsTheJob(t *testing.T) {
	srv := natstest.Start(t)
	r := newRuns()
	const ttl = 1500 * time.Millisecond
	cs := map[string]*contender{"a": start(t, srv, "a", ttl, r), "b": start(t, srv, "b", ttl, r)}
	waitFor(t, "one contender to run the job", 10*time.Second, func() bool { return len(r.who()) == 1 })
	holder := r.who()[0]
	other := map[string]string{"a": "b", "b": "a"}[holder]
	first, _ := r.startedAt(holder)

	time.Sleep(4 * ttl / 3) // four renewals: only waiting shows nothing moves
	if on := r.who(); len(on) != 1 || on[0] != holder {
		t.Errorf("after four renewal periods the job runs on %v, want only %s", on, holder)
	}
	if at, _ := r.startedAt(holder); !at.Equal(first) {
		t.Errorf("the job was restarted on %s (started %s, then %s)", holder, first.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	}
	if _, ok := r.startedAt(other); ok {
		t.Errorf("%s ran the job too", other)
	}
	if got := cs[holder].held(t); got != 1 {
		t.Errorf("holder %s: moderation_singleton_held = %v, want 1", holder, got)
	}
	if got := cs[other].held(t); got != 0 {
		t.Errorf("contender %s: moderation_singleton_held = %v, want 0", other, got)
	}
	_, js := srv.Connect(t, natsbus.RoleService)
	kv, err := js.KeyValue(t.Context(), lease.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(t.Context(), job); err != nil || string(e.Value()) != holder {
		t.Errorf("lease record: %v, %v; want %s's", e, err, holder)
	}
	r.check(t)
}

// TestCleanStopHandsOver: a holder that stops releases the lease, and the
// other contender takes it at once rather than when it would expire.
func TestCleanStopHandsOver(t *testing.T) {
	srv := natstest.Start(t)
	r := newRuns()
	// Long enough that an expiry (at least two thirds of it after the
	// last renewal) cannot pass for a release.
	const ttl = 6 * time.Second
	a := start(t, srv, "a", ttl, r)
	waitFor(t, "a to run the job", 10*time.Second, runsOnly(r, "a"))
	h := watchHistory(t, srv)
	b := start(t, srv, "b", ttl, r)
	waitFor(t, "b to contend", 10*time.Second, func() bool { return b.held(t) == 0 })

	stopped := time.Now()
	a.stop()
	<-a.done
	waitFor(t, "b to take the job over", ttl, runsOnly(r, "b"))
	took := time.Since(stopped)
	t.Logf("takeover after a clean stop: %s (TTL %s)", took.Round(time.Millisecond), ttl)
	if op := h.before(t, "b"); op != jetstream.KeyValueDelete {
		t.Errorf("before b took the lease it was %v, want a's release (KeyValueDeleteOp)", op)
	}
	if a.held(t) != 0 || b.held(t) != 1 {
		t.Errorf("moderation_singleton_held: a %v, b %v; want 0 and 1", a.held(t), b.held(t))
	}
	r.check(t)
}

// TestCrashedHolderExpires: a holder whose connection dies (no release)
// stops its own job once it cannot renew, and the other contender takes
// over when the server expires the lease, never while the job still ran.
func TestCrashedHolderExpires(t *testing.T) {
	srv := natstest.Start(t)
	r := newRuns()
	const ttl = 3 * time.Second
	a := start(t, srv, "a", ttl, r)
	waitFor(t, "a to run the job", 10*time.Second, runsOnly(r, "a"))
	h := watchHistory(t, srv)
	b := start(t, srv, "b", ttl, r)
	waitFor(t, "b to contend", 10*time.Second, func() bool { return b.held(t) == 0 })

	crashed := time.Now()
	a.nc.Close() // a's Run goes on, as a partitioned instance would
	// a's last renewal, which nothing can follow now: the server may
	// expire the lease a TTL after it, not before.
	_, js := srv.Connect(t, natsbus.RoleService)
	kv, err := js.KeyValue(t.Context(), lease.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	last, err := kv.Get(t.Context(), job)
	if err != nil || string(last.Value()) != "a" {
		t.Fatalf("a's lease record after the crash: %v, %v", last, err)
	}
	waitFor(t, "b to take the job over", 3*ttl, func() bool { _, ok := r.startedAt("b"); return ok })
	took := time.Since(crashed)
	r.check(t) // a had stopped before b started
	r.mu.Lock()
	aStopped, bStarted := r.stopped["a"].Sub(crashed), r.started["b"].Sub(crashed)
	r.mu.Unlock()
	t.Logf("a's connection closed; a stopped its job after %s, b started it after %s; takeover %s (TTL %s, renewals every %s)",
		aStopped.Round(time.Millisecond), bStarted.Round(time.Millisecond), took.Round(time.Millisecond), ttl, ttl/3)
	bAt, _ := r.startedAt("b")
	if early := last.Created().Add(ttl).Sub(bAt); early > 0 {
		t.Errorf("b started %s before a's lease expired (last renewal %s, TTL %s)", early, last.Created().Format(time.RFC3339Nano), ttl)
	}
	// The server usually leaves an expiry marker; under load it may
	// remove the record without one. A release (a delete) it can never be.
	if op, ok := h.opBefore(t, "b"); ok && op != jetstream.KeyValuePurge {
		t.Errorf("before b took the lease it was %v, want the server's expiry marker (KeyValuePurgeOp)", op)
	} else if !ok {
		t.Log("the server removed a's expired record without a marker")
	}
	if a.held(t) != 0 {
		t.Errorf("a, cut off: moderation_singleton_held = %v, want 0", a.held(t))
	}
}

// TestStaleHolderStops: a holder whose renewal finds another's write (it
// stalled past the TTL and was replaced) stops its job, leaves the other's
// record alone, and contends again.
func TestStaleHolderStops(t *testing.T) {
	srv := natstest.Start(t)
	r := newRuns()
	const ttl = 3 * time.Second
	a := start(t, srv, "a", ttl, r)
	waitFor(t, "a to run the job", 10*time.Second, runsOnly(r, "a"))
	first, _ := r.startedAt("a")

	_, js := srv.Connect(t, natsbus.RoleService)
	kv, err := js.KeyValue(t.Context(), lease.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(t.Context(), job, []byte("usurper")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to stop its job", ttl, func() bool { return len(r.who()) == 0 })
	if e, err := kv.Get(t.Context(), job); err != nil || string(e.Value()) != "usurper" {
		t.Errorf("after a lost the lease the record is %v, %v; want the usurper's, untouched", e, err)
	}
	if got := a.held(t); got != 0 {
		t.Errorf("a, replaced: moderation_singleton_held = %v, want 0", got)
	}
	// The usurper never renews: its record expires and a takes the lease
	// back, starting the job anew.
	waitFor(t, "a to take the lease back", 3*ttl, runsOnly(r, "a"))
	if again, _ := r.startedAt("a"); !again.After(first) {
		t.Errorf("a's job was not started again (%s, first %s)", again, first)
	}
	r.check(t)
}
