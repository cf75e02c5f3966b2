// Package lease runs a cluster's once-per-cluster jobs (the purge sweep,
// the overturn alert) on one instance at a time, and moves a job to another
// instance when its holder stops or dies.
//
// A lease is a key in the LEASES bucket, named after the job, whose value
// is the holder's id. The bucket's TTL is the lease's: every write starts
// it again, and a key not written for a TTL is removed by the server. An
// instance takes a lease by creating the key (only if absent), keeps it by
// updating it at the revision it holds (compare-and-set) every third of the
// TTL, and gives it up by deleting it at that revision. JetStream orders
// the writes and expires the key; this package only decides when to write
// and when to stop the job.
package lease

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/natsbus"
)

// Bucket holds one key per once-per-cluster job.
const Bucket = "LEASES"

// DefaultTTL is how long a lease outlives its last renewal: how long a
// job may stand still after its holder dies before another instance takes
// it. Renewals come every third of it.
const DefaultTTL = 15 * time.Second

// minTTL is the shortest TTL the server accepts for the markers it leaves
// when a lease expires (SubjectDeleteMarkerTTL), which is how contenders
// hear of the expiry at once.
const minTTL = time.Second

// Config is how an instance contends for leases.
type Config struct {
	Replicas int           // of the bucket; 0: 1
	TTL      time.Duration // 0: DefaultTTL. The bucket's: every instance must use the same
	Holder   string        // this instance's id (NewHolder), the value of the keys it holds
	Metrics  *Metrics      // nil: not counted
	Log      *slog.Logger  // nil: slog.Default()
}

// Leases is one instance's view of the bucket.
type Leases struct {
	kv      jetstream.KeyValue
	ttl     time.Duration
	renew   time.Duration
	holder  string
	metrics *Metrics
	log     *slog.Logger
}

// Open declares the bucket (idempotently, setting its TTL to cfg.TTL) and
// returns the leases cfg.Holder can contend for.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Leases, error) {
	if cfg.Holder == "" {
		return nil, errors.New("lease: no holder id")
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < minTTL {
		return nil, fmt.Errorf("lease: TTL %s is below the %s the server allows", cfg.TTL, minTTL)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	// Declared as natsbus.Setup declares the service's streams: instances
	// starting together on a cluster race to create the bucket, and the
	// losers may get no answer.
	var kv jetstream.KeyValue
	bucket := jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "which instance runs each once-per-cluster job",
		History:     1,
		// The bucket's TTL is the lease's: a renewal is a new message, so
		// the key lives a TTL past the last one. The marker the server
		// leaves on expiry tells watching contenders at once.
		TTL:            cfg.TTL,
		LimitMarkerTTL: cfg.TTL,
		Storage:        jetstream.FileStorage,
		Replicas:       cfg.Replicas,
	}
	err := natsbus.WhenAvailable(ctx, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, bucket)
		if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
			// A server before 2.11 leaves no marker: the key still
			// expires, and contenders find it gone at their next try
			// (every third of the TTL) rather than at once.
			bucket.LimitMarkerTTL = 0
			kv, err = js.CreateOrUpdateKeyValue(ctx, bucket)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("declare bucket %s: %w", Bucket, err)
	}
	return &Leases{kv: kv, ttl: cfg.TTL, renew: cfg.TTL / 3, holder: cfg.Holder, metrics: cfg.Metrics, log: cfg.Log}, nil
}

// NewHolder is an id for this instance that no other instance, and no
// earlier run of this one, has: host name, process id and a random part.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// Run contends for the lease called name until ctx ends, running job while
// this instance holds it. job's context ends when the lease is lost or ctx
// ends, and job must return then; Run waits for it before anything else,
// so one instance never runs two copies.
//
// The lease is lost when a renewal finds another holder's write (this
// instance stalled past the TTL and was replaced), or when renewals have
// failed until one renewal period before the lease could expire: the job
// is stopped that long before another instance can take it, so two never
// run at once. On a clean stop (ctx ends) the lease is deleted at the
// revision held, and a watching contender takes it at once; after a crash
// the server expires it within a TTL.
//
// A job that returns by itself gives the lease up; it is contended for,
// and the job started again, one renewal period later.
func (l *Leases) Run(ctx context.Context, name string, job func(context.Context)) {
	l.metrics.set(name, 0) // the series exists, 0, on every contender
	for {
		rev, until, ok := l.acquire(ctx, name)
		if !ok {
			return
		}
		if returned := l.hold(ctx, name, rev, until, job); returned {
			select {
			case <-ctx.Done():
			case <-time.After(l.renew):
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// acquire tries to create the key every renewal period, and at once when
// a watch says it was deleted or expired, until it succeeds (returning the
// revision and when it expires at the earliest) or ctx ends.
func (l *Leases) acquire(ctx context.Context, name string) (rev uint64, until time.Time, ok bool) {
	var w jetstream.KeyWatcher
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	tick := time.NewTicker(l.renew)
	defer tick.Stop()
	failing := false
	for {
		// Watch before trying, so a release between a refused create and
		// the watch is not missed. Without a watch (NATS unreachable) the
		// tick alone retries.
		if w == nil {
			w, _ = l.kv.Watch(ctx, name, jetstream.UpdatesOnly())
		}
		sent := time.Now()
		rev, err := l.kv.Create(ctx, name, []byte(l.holder))
		switch {
		case err == nil:
			// The server stamps the write no earlier than it was sent, so
			// the key lives at least a TTL from now.
			return rev, sent.Add(l.ttl), true
		case ctx.Err() != nil:
			return 0, time.Time{}, false
		case errors.Is(err, jetstream.ErrKeyExists):
			failing = false // held elsewhere: the normal case
		case !failing:
			failing = true
			l.log.Warn("lease: cannot contend for "+name+"; retrying", "job", name, "err", err)
		}
		var updates <-chan jetstream.KeyValueEntry
		if w != nil {
			updates = w.Updates()
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return 0, time.Time{}, false
			case <-tick.C:
				break wait
			case e, open := <-updates:
				if !open { // the connection closed under it: make another next round
					_ = w.Stop()
					w, updates = nil, nil
					continue
				}
				if e != nil && e.Operation() != jetstream.KeyValuePut {
					break wait // released or expired: try now
				}
			}
		}
	}
}

// hold runs job while renewing the lease at rev, and reports whether job
// returned by itself. until is when the lease expires at the earliest.
func (l *Leases) hold(ctx context.Context, name string, rev uint64, until time.Time, job func(context.Context)) (returned bool) {
	jobCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(jobCtx)
	}()
	l.metrics.set(name, 1)
	l.log.Info("lease: "+name+" runs on this instance", "job", name, "holder", l.holder, "ttl", l.ttl)

	// lostAt is when this instance stops believing it holds the lease
	// unless a renewal succeeded: one renewal period before the key can
	// expire, which leaves the job that long to stop before another
	// instance can take the lease.
	lostAt := until.Add(-l.renew)
	expired := time.NewTimer(time.Until(lostAt))
	defer expired.Stop()
	tick := time.NewTicker(l.renew)
	defer tick.Stop()
	why, release := "", true
loop:
	for {
		select {
		case <-ctx.Done():
			why = "stopping"
			break loop
		case <-done:
			why, returned = "the job returned by itself", true
			break loop
		case <-expired.C:
			why = "not renewed in time"
			break loop
		case <-tick.C:
			rctx, cancel := context.WithDeadline(ctx, lostAt)
			sent := time.Now()
			next, err := l.kv.Update(rctx, name, []byte(l.holder), rev)
			cancel()
			switch {
			case err == nil:
				rev, lostAt = next, sent.Add(l.ttl-l.renew)
				expired.Reset(time.Until(lostAt))
			case ctx.Err() != nil:
				why = "stopping"
				break loop
			case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
				// Expired and perhaps taken: whatever is there now is not
				// ours to delete.
				why, release = "another instance took it over ("+l.current(ctx, name)+")", false
				break loop
			default:
				l.log.Warn("lease: renewing "+name+" failed; retrying", "job", name, "err", err, "lost_at", lostAt)
			}
		}
	}
	stop()
	<-done
	l.metrics.set(name, 0)
	if ctx.Err() != nil {
		l.log.Info("lease: "+name+" stopped on this instance: "+why, "job", name, "holder", l.holder)
	} else {
		l.log.Warn("lease: "+name+" lost on this instance: "+why, "job", name, "holder", l.holder)
	}
	if release {
		l.release(ctx, name, rev)
	}
	return returned
}

// release deletes the key if it is still the write at rev, so another
// instance need not wait for it to expire. The job has stopped already.
func (l *Leases) release(ctx context.Context, name string, rev uint64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.renew)
	defer cancel()
	if err := l.kv.Delete(rctx, name, jetstream.LastRevision(rev)); err != nil {
		l.log.Warn("lease: releasing "+name+" failed; it expires within "+l.ttl.String(), "job", name, "err", err)
	}
}

// current names the holder of the lease now, for the log.
func (l *Leases) current(ctx context.Context, name string) string {
	gctx, cancel := context.WithTimeout(ctx, l.renew)
	defer cancel()
	e, err := l.kv.Get(gctx, name)
	if err != nil {
		return "now held by none"
	}
	return "now held by " + string(e.Value())
}

// Metrics says which jobs this instance runs.
type Metrics struct {
	held *prometheus.GaugeVec
}

// NewMetrics registers moderation_singleton_held{job} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "moderation_singleton_held",
		Help: "1 while this instance holds the lease of a once-per-cluster job and runs it; summed over instances, 1 (0 for at most a TTL after a holder dies).",
	}, []string{"job"})}
	reg.MustRegister(m.held)
	return m
}

func (m *Metrics) set(job string, v float64) {
	if m != nil {
		m.held.WithLabelValues(job).Set(v)
	}
}
