package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/console"
	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/service"
)

// The goals the Check bench reports against; missing one is printed, not
// failed: speed depends on the machine and belongs in a report.
const (
	CheckRatioGoal = 0.80                 // service peak QPS as a share of the bare server's
	CheckP99Goal   = 2 * time.Millisecond // service p99 at half of its own peak
)

// DefaultCheckConcurrency is the number of closed-loop callers. On the
// 2-core machine the bare server's QPS rose steadily from 2 callers
// (26k/s) to 64 (54k/s) and was flat to 128, then fell; more callers in
// flight let HTTP/2 batch frames into fewer writes. 64 is the top of that
// curve with half the queueing of 128.
func DefaultCheckConcurrency() int { return 32 * runtime.GOMAXPROCS(0) }

// CheckConfig sizes a Check run.
type CheckConfig struct {
	Accounts    int           // account states seeded; default 1,000
	Duration    time.Duration // each measured phase; default 2s
	Concurrency int           // closed-loop callers; default DefaultCheckConcurrency
	Rounds      int           // bare/service alternations, best of each kept; default 3
	DataDir     string        // empty: a temporary directory, removed afterwards
	Progress    io.Writer     // where progress goes; nil for none
}

func (c CheckConfig) withDefaults() CheckConfig {
	if c.Accounts <= 0 {
		c.Accounts = 1000
	}
	if c.Duration <= 0 {
		c.Duration = 2 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultCheckConcurrency()
	}
	if c.Rounds <= 0 {
		c.Rounds = 3
	}
	return c
}

// CheckReport is one run: the same client and requests against the bare
// server and the service.
type CheckReport struct {
	Accounts      int
	Concurrency   int
	Rounds        int
	Duration      time.Duration
	Procs         int
	Authenticated bool // a bearer token went with every call
	Bare, Service CheckFigures
}

// Ratio is the service's peak QPS as a share of the bare server's.
func (r *CheckReport) Ratio() float64 {
	if r.Bare.Peak <= 0 {
		return 0
	}
	return r.Service.Peak / r.Bare.Peak
}

// RatioMet and LatencyMet say whether the service met the goals.
func (r *CheckReport) RatioMet() bool   { return r.Ratio() >= CheckRatioGoal }
func (r *CheckReport) LatencyMet() bool { return r.Service.Open.P99 < CheckP99Goal }

// CheckFigures are one server's results.
type CheckFigures struct {
	Peak       float64   // calls/s, closed loop, best round
	PeakRounds []float64 // every round's closed-loop calls/s, in order
	Closed     Latencies // at peak, from the best round
	Target     float64   // open-loop rate asked for: half of Peak
	Achieved   float64   // open-loop rate actually issued
	Open       Latencies // at Target, from the round with the lowest p99
}

// Latencies summarise one phase. Percentiles are bucket upper bounds, at
// most 1.6% above the true value; Max is exact.
type Latencies struct {
	Calls         int64
	P50, P99, Max time.Duration
}

// RunCheck starts the service on an embedded server with seeded account
// states and a bare grpc-go server answering the same messages from a map,
// then measures both with one client: peak QPS in a closed loop, then
// latency in an open loop at half of each server's own peak.
func RunCheck(ctx context.Context, cfg CheckConfig) (*CheckReport, error) {
	cfg = cfg.withDefaults()
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "modbench-check-"); err != nil {
			return nil, fmt.Errorf("create bench data dir: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	svc, err := StartCheckService(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer svc.Stop()
	token, err := ServiceToken(svc)
	if err != nil {
		return nil, err
	}
	fx, err := SeedCheck(ctx, svc, cfg.Accounts, token, cfg.Progress)
	if err != nil {
		return nil, err
	}
	bareAddr, stopBare, err := ServeBareCheck(fx.Answers)
	if err != nil {
		return nil, err
	}
	defer stopBare()

	targets := make([]*checkTarget, 2)
	for i, t := range []struct{ name, addr string }{{"bare", bareAddr}, {"service", svc.GRPCAddr}} {
		conn, err := DialCheck(t.addr)
		if err != nil {
			return nil, err
		}
		// Closed before svc.Stop (deferred earlier, run later), which
		// otherwise waits for these connections to go.
		defer conn.Close()
		targets[i] = &checkTarget{name: t.name, client: moderationv1.NewModerationServiceClient(conn)}
	}
	h := &checkHarness{reqs: fx.Requests, token: token, progress: cfg.Progress}

	// Warm both: connections, flow-control windows, the heap the GC paces
	// against; none of it is what a steady caller sees.
	for _, t := range targets {
		if _, err := h.closedLoop(ctx, t, cfg.Concurrency, cfg.Duration/5, ""); err != nil {
			return nil, err
		}
	}
	for r := range cfg.Rounds {
		for _, t := range targets {
			label := fmt.Sprintf("round %d/%d closed loop, %s", r+1, cfg.Rounds, t.name)
			ph, err := h.closedLoop(ctx, t, cfg.Concurrency, cfg.Duration, label)
			if err != nil {
				return nil, err
			}
			t.fig.PeakRounds = append(t.fig.PeakRounds, ph.rate)
			if ph.rate > t.fig.Peak {
				t.fig.Peak, t.fig.Closed = ph.rate, ph.lat
			}
		}
	}
	for _, t := range targets {
		t.fig.Target = t.fig.Peak / 2
	}
	for r := range cfg.Rounds {
		for _, t := range targets {
			label := fmt.Sprintf("round %d/%d open loop at %s/s, %s", r+1, cfg.Rounds, console.FormatRate(t.fig.Target), t.name)
			ph, err := h.openLoop(ctx, t, t.fig.Target, cfg.Duration, label)
			if err != nil {
				return nil, err
			}
			if r == 0 || ph.lat.P99 < t.fig.Open.P99 {
				t.fig.Open, t.fig.Achieved = ph.lat, ph.rate
			}
		}
	}
	return &CheckReport{
		Accounts: cfg.Accounts, Concurrency: cfg.Concurrency, Rounds: cfg.Rounds, Duration: cfg.Duration,
		Procs: runtime.GOMAXPROCS(0), Authenticated: token != "",
		Bare: targets[0].fig, Service: targets[1].fig,
	}, nil
}

// StartCheckService starts the service as the Check bench measures it, on
// an embedded server in dir, and waits until it answers.
func StartCheckService(ctx context.Context, dir string) (*service.Service, error) {
	svc, err := service.Start(ctx, service.Config{
		DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64,
		// The production handler at its default level, info, so the
		// service logs exactly what it would in production; only the
		// write is saved.
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	if err := svc.WaitReady(ctx); err != nil {
		svc.Stop()
		return nil, err
	}
	return svc, nil
}

// ServiceToken is the one place the bench obtains the credentials it sends
// to the service: a token for a service caller, as a platform backend asking
// Check holds, so the service is measured with authentication on. The bare
// server is sent the same token and ignores it.
func ServiceToken(svc *service.Service) (string, error) {
	token, err := svc.Token(auth.Identity{Subject: "modctl-bench", Role: auth.RoleService}, time.Hour)
	if err != nil {
		return "", fmt.Errorf("mint the bench's service token: %w", err)
	}
	return token, nil
}

// WithToken returns ctx carrying the token as per-RPC metadata, as a
// platform service sends it. Build it once per caller: the header still
// goes on every call, without allocating a context per call.
func WithToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", "Bearer "+token))
}

// DialCheck is the client both servers are measured with: one connection,
// grpc-go defaults, as a platform backend would hold. A pool of two raised
// the bare server's peak by ~5% on 2 cores, within run-to-run noise.
func DialCheck(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// BareCheckServer answers Check from answers, keyed by account; an account
// it does not hold is active and allowed. It is the floor the service is
// compared with: grpc-go, protobuf and a map lookup, nothing else.
func BareCheckServer(answers map[string]*moderationv1.CheckResponse) moderationv1.ModerationServiceServer {
	return &bareCheck{answers: answers}
}

type bareCheck struct {
	moderationv1.UnimplementedModerationServiceServer
	answers map[string]*moderationv1.CheckResponse
}

func (b *bareCheck) Check(_ context.Context, req *moderationv1.CheckRequest) (*moderationv1.CheckResponse, error) {
	if resp, ok := b.answers[req.GetAccount()]; ok {
		return resp, nil
	}
	return &moderationv1.CheckResponse{Account: req.GetAccount(), Allowed: true, Status: moderationv1.Status_STATUS_ACTIVE}, nil
}

// ServeBareCheck serves BareCheckServer on a plain grpc.NewServer(), no
// interceptors, on 127.0.0.1:0. stop ends it.
func ServeBareCheck(answers map[string]*moderationv1.CheckResponse) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the bare gRPC server: %w", err)
	}
	srv := grpc.NewServer()
	moderationv1.RegisterModerationServiceServer(srv, BareCheckServer(answers))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns nil after Stop; nothing else ends it
	}()
	return ln.Addr().String(), func() { srv.Stop(); <-done }, nil
}

// CheckFixture is what the bench asks and what the service answers.
type CheckFixture struct {
	// Requests name every seeded account once, each with the capability
	// it is always asked about, so an account maps to one answer.
	Requests []*moderationv1.CheckRequest
	// Answers are the service's own responses, which the bare server
	// returns so both put the same bytes on the wire.
	Answers map[string]*moderationv1.CheckResponse
}

// SeedCheck writes n account states into the service's bucket, waits until
// Check answers every one of them as written, and returns the requests
// with the service's answers.
func SeedCheck(ctx context.Context, svc *service.Service, n int, token string, progress io.Writer) (*CheckFixture, error) {
	now := time.Now()
	states := make([]*moderation.AccountState, n)
	fx := &CheckFixture{Requests: make([]*moderationv1.CheckRequest, n), Answers: make(map[string]*moderationv1.CheckResponse, n)}
	for i := range n {
		var c moderationv1.Capability
		states[i], c = seedState(i, now)
		fx.Requests[i] = &moderationv1.CheckRequest{Account: states[i].Account, Capability: c}
	}
	if err := putStates(ctx, enforcement.NewStore(svc.JS, svc.Streams.Accounts), states, progress); err != nil {
		return nil, err
	}

	conn, err := DialCheck(svc.GRPCAddr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := moderationv1.NewModerationServiceClient(conn)
	callCtx := WithToken(ctx, token)
	// The view follows the bucket asynchronously; poll until every
	// answer shows the decision written.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i, req := range fx.Requests {
		want := ""
		if d := states[i].Current; d != nil && d.Action != moderation.ActionRestore {
			want = d.DecisionID
		}
		for {
			resp, err := client.Check(callCtx, req)
			if err != nil {
				return nil, fmt.Errorf("check seeded account %s: %w", req.Account, err)
			}
			if resp.GetDecisionId() == want {
				fx.Answers[req.Account] = resp
				break
			}
			select {
			case <-waitCtx.Done():
				return nil, fmt.Errorf("wait for Check to show %s's decision %q: got %q: %w", req.Account, want, resp.GetDecisionId(), waitCtx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return fx, nil
}

// putStates writes states with a few writers at once: one at a time, each
// waiting for its JetStream ack, 1,000 take seconds for nothing measured.
func putStates(ctx context.Context, store *enforcement.Store, states []*moderation.AccountState, progress io.Writer) error {
	add := func(int64) {}
	if progress != nil {
		bar := console.NewProgress(progress, "seed account states", int64(len(states)))
		defer bar.Done()
		add = bar.Add
	}
	const writers = 16
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
		once  sync.Once
	)
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(states)) {
					return
				}
				if _, err := store.Put(ctx, states[i], 0); err != nil {
					once.Do(func() { first = fmt.Errorf("seed account states: %w", err) })
					return
				}
				add(1)
			}
		})
	}
	wg.Wait()
	return first
}

// seedState is account i's state: a mix like a live bucket, where most
// accounts with a record were warned or limited once and have since been
// restored, and a few are under a measure now. Every measure carries the
// reasons, decision id, policy version and end time a real one has, so
// answers are as large as real ones.
func seedState(i int, now time.Time) (*moderation.AccountState, moderationv1.Capability) {
	account := fmt.Sprintf("acct_%06d", i)
	caps := [...]moderationv1.Capability{
		moderationv1.Capability_CAPABILITY_BROADCAST,
		moderationv1.Capability_CAPABILITY_FRIEND_ADD,
		moderationv1.Capability_CAPABILITY_UNSPECIFIED,
	}
	at := now.Add(-time.Duration(i%72) * time.Hour)
	d := &moderation.Decision{
		Account:       account,
		DecisionID:    moderation.DecisionID(account, fmt.Sprintf("evt-%d", i)),
		PolicyVersion: "embedded@3f9c2a71d04b",
		Reasons: []moderation.Reason{
			{Code: "bulk_friend_add", Detail: "sent 240 friend requests in 10 minutes; the limit is 100"},
			{Code: "ad_text", Detail: "3 broadcasts matched the advertising model (score 0.97)"},
		},
		Statement: moderation.Statement{
			Measure: "restriction of features", Facts: "bulk friend requests and advertising broadcasts",
			AutomatedDetection: true, AutomatedDecision: "fully", Ground: "terms of service 4.2",
			Explanation: "the account sent friend requests and broadcasts at a rate typical of spam",
			Redress:     "appeal within 14 days", AppealDeadline: at.Add(14 * 24 * time.Hour),
		},
		EventID: fmt.Sprintf("evt-%d", i),
		At:      at,
		Strikes: 1 + i%3,
	}
	until := func(h int) *time.Time { t := now.Add(time.Duration(h) * time.Hour); return &t }
	switch k := i % 50; {
	case k == 0:
		d.Action = moderation.ActionClose
	case k <= 3:
		d.Action, d.Until = moderation.ActionSuspend, until(7*24)
	case k <= 9:
		d.Action, d.Until = moderation.ActionLimit, until(3*24)
		d.Restricts = []moderation.Capability{moderation.CapBroadcast}
	case k <= 19:
		d.Action = moderation.ActionWarn
	default:
		d.Action = moderation.ActionRestore
	}
	return &moderation.AccountState{
		Account: account, Current: d, StrikeTimes: []time.Time{at},
		EventSeq: uint64(i + 1), UpdatedAt: at,
	}, caps[i%len(caps)]
}

// checkTarget is one server under test and what was measured on it.
type checkTarget struct {
	name   string
	client moderationv1.ModerationServiceClient
	fig    CheckFigures
}

// checkHarness calls Check the same way on every target.
type checkHarness struct {
	reqs     []*moderationv1.CheckRequest
	token    string
	progress io.Writer
}

type phase struct {
	rate float64 // calls/s
	lat  Latencies
}

// progressEvery batches progress counts so callers do not all hit one
// atomic on every call.
const progressEvery = 32

func (h *checkHarness) bar(label string, total int64) (add func(int64), done func()) {
	if h.progress == nil || label == "" {
		return func(int64) {}, func() {}
	}
	p := console.NewProgress(h.progress, label, total)
	return p.Add, p.Done
}

// closedLoop runs workers that each call again as soon as an answer comes,
// for d, and returns the completed calls per second.
func (h *checkHarness) closedLoop(ctx context.Context, t *checkTarget, workers int, d time.Duration, label string) (phase, error) {
	add, done := h.bar(label, 0)
	defer done()
	hists := make([]*latencyHist, workers)
	errs := make([]error, workers)
	var stop atomic.Bool
	var wg sync.WaitGroup
	callCtx := WithToken(ctx, h.token)
	began := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range workers {
		hists[w] = new(latencyHist)
		wg.Go(func() {
			hist := hists[w]
			// Spread workers over the accounts so they do not ask the
			// same one in lockstep.
			i := w * len(h.reqs) / workers
			n := int64(0)
			for !stop.Load() {
				req := h.reqs[i%len(h.reqs)]
				i++
				start := time.Now()
				if _, err := t.client.Check(callCtx, req); err != nil {
					errs[w] = fmt.Errorf("check %s on %s: %w", req.Account, t.name, err)
					stop.Store(true)
					return
				}
				hist.record(time.Since(start))
				if n++; n%progressEvery == 0 {
					add(progressEvery)
				}
			}
			add(n % progressEvery)
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return phase{}, err
	}
	lat := mergeHists(hists).summary()
	return phase{rate: float64(lat.Calls) / elapsed.Seconds(), lat: lat}, nil
}

// pacedInterval sets how many paced workers share the schedule: about
// rate × 0.5 ms, some 14 at 28,000 calls/s. More of them (4 ms gave ~110)
// crowd the client's own goroutines onto the two cores and doubled the
// measured p99 of both servers alike. A timer that wakes late is not
// counted: a call is timed from its schedule only when its worker was
// still busy with the previous call.
const pacedInterval = 500 * time.Microsecond

// openLoop issues calls at rate for d, on a fixed schedule that does not
// wait for answers, and measures each call's latency from its scheduled
// send time whenever its worker was still busy then. That charges a slow
// answer for every call it held back (no coordinated omission), while a
// worker that was idle and woken late by its timer is charged only from
// when it actually sent.
func (h *checkHarness) openLoop(ctx context.Context, t *checkTarget, rate float64, d time.Duration, label string) (phase, error) {
	if rate <= 0 {
		return phase{}, fmt.Errorf("open loop on %s: rate %v is not positive", t.name, rate)
	}
	workers := int(math.Ceil(rate * pacedInterval.Seconds()))
	workers = max(4, min(workers, 1024))
	total := int64(rate * d.Seconds())
	add, done := h.bar(label, total)
	defer done()
	hists := make([]*latencyHist, workers)
	errs := make([]error, workers)
	var failed atomic.Bool
	var wg sync.WaitGroup
	callCtx := WithToken(ctx, h.token)
	began := time.Now()
	for w := range workers {
		hists[w] = new(latencyHist)
		wg.Go(func() {
			hist := hists[w]
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			i := w * len(h.reqs) / workers
			var free time.Time // when this worker's previous call ended
			for k := int64(w); k < total && !failed.Load(); k += int64(workers) {
				sched := began.Add(time.Duration(float64(k) / rate * float64(time.Second)))
				if wait := time.Until(sched); wait > 0 {
					timer.Reset(wait)
					select {
					case <-ctx.Done():
						errs[w] = fmt.Errorf("open loop on %s: %w", t.name, ctx.Err())
						return
					case <-timer.C:
					}
				}
				req := h.reqs[i%len(h.reqs)]
				i++
				sent := time.Now()
				if _, err := t.client.Check(callCtx, req); err != nil {
					errs[w] = fmt.Errorf("check %s on %s: %w", req.Account, t.name, err)
					failed.Store(true)
					return
				}
				end := time.Now()
				from := sched
				if free.Before(sched) {
					from = sent
				}
				hist.record(end.Sub(from))
				free = end
				add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return phase{}, err
	}
	lat := mergeHists(hists).summary()
	return phase{rate: float64(lat.Calls) / elapsed.Seconds(), lat: lat}, nil
}

// latencyHist is a fixed log-linear histogram of nanoseconds: 64 buckets
// per power of two, so recording is a few instructions and no allocation,
// and a percentile is within 1/64 of the truth. Calls over ~2 minutes
// share the last bucket; Max still says how long the longest took.
type latencyHist struct {
	counts [histBuckets]uint64
	n      int64
	max    time.Duration
}

const (
	histSubBits = 6
	histBuckets = 32 << histSubBits // 16 KiB per worker
)

func histBucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 2<<histSubBits {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1
	return (e+1)<<histSubBits + int(v>>e) - 1<<histSubBits
}

// histUpper is the largest duration in bucket b.
func histUpper(b int) time.Duration {
	if b < 2<<histSubBits {
		return time.Duration(b)
	}
	e := b>>histSubBits - 1
	m := uint64(b&(1<<histSubBits-1) + 1<<histSubBits)
	return time.Duration((m+1)<<e - 1)
}

func (h *latencyHist) record(d time.Duration) {
	h.counts[min(histBucket(d), histBuckets-1)]++
	h.n++
	h.max = max(h.max, d)
}

func mergeHists(hs []*latencyHist) *latencyHist {
	var all latencyHist
	for _, h := range hs {
		for b, c := range h.counts {
			all.counts[b] += c
		}
		all.n += h.n
		all.max = max(all.max, h.max)
	}
	return &all
}

// quantile is the upper bound of the bucket holding the q-th call, capped
// at the largest call seen.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for b, c := range h.counts {
		if seen += c; seen >= rank {
			return min(histUpper(b), h.max)
		}
	}
	return h.max
}

func (h *latencyHist) summary() Latencies {
	return Latencies{Calls: h.n, P50: h.quantile(0.50), P99: h.quantile(0.99), Max: h.max}
}

// PrintCheck shows a run: a table of both servers, a chart of their peak
// QPS, and the verdict against the goals.
func PrintCheck(w io.Writer, r *CheckReport) {
	authn := "authentication OFF"
	if r.Authenticated {
		authn = "authentication on (bearer token on every call)"
	}
	fmt.Fprintf(w, "Check over gRPC on loopback: %s accounts, %d callers on one connection, %d rounds of %s, GOMAXPROCS %d, %s\n\n",
		console.FormatInt(int64(r.Accounts)), r.Concurrency, r.Rounds, r.Duration, r.Procs, authn)
	ms := func(d time.Duration) string { return console.FormatRate(float64(d) / float64(time.Millisecond)) }
	row := func(name string, f CheckFigures) []string {
		return []string{
			name, console.FormatRate(f.Peak), fmt.Sprintf("%.0f%%", 100*f.Peak/r.Bare.Peak),
			ms(f.Closed.P99), console.FormatRate(f.Achieved), ms(f.Open.P50), ms(f.Open.P99), ms(f.Open.Max),
		}
	}
	console.Table(w, []string{"server", "peak calls/s", "of bare", "p99 ms at peak", "half-peak calls/s", "p50 ms", "p99 ms", "max ms"}, [][]string{
		row("bare grpc-go (map)", r.Bare),
		row("moderation service", r.Service),
	})
	fmt.Fprintln(w)
	console.BarChart(w, fmt.Sprintf("peak Check calls/s, closed loop, best of %d rounds", r.Rounds), "calls/s", []console.Bar{
		{Label: "bare grpc-go (map)", Value: r.Bare.Peak},
		{Label: "moderation service", Value: r.Service.Peak, Note: fmt.Sprintf("(%.0f%% of bare)", 100*r.Ratio())},
	}, 40)
	// Every round, so a reader can see how much the machine moved the
	// figures the chart keeps the best of.
	rounds := func(f CheckFigures) string {
		var b strings.Builder
		for i, v := range f.PeakRounds {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(console.FormatRate(v))
		}
		return b.String()
	}
	fmt.Fprintf(w, "each round: bare %s; service %s\n\n", rounds(r.Bare), rounds(r.Service))
	console.BarChart(w, "p99 latency at half of each server's own peak, open loop", "ms", []console.Bar{
		{Label: "bare grpc-go (map)", Value: float64(r.Bare.Open.P99) / float64(time.Millisecond)},
		{Label: "moderation service", Value: float64(r.Service.Open.P99) / float64(time.Millisecond)},
	}, 40)
	fmt.Fprintln(w)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Fprintf(w, "throughput  %s  service at %.0f%% of bare grpc-go (goal: at least %.0f%%)\n",
		verdict(r.RatioMet()), 100*r.Ratio(), 100*CheckRatioGoal)
	fmt.Fprintf(w, "latency     %s  service p99 %s ms at %s calls/s (goal: under %s ms)\n",
		verdict(r.LatencyMet()), ms(r.Service.Open.P99), console.FormatRate(r.Service.Achieved), ms(CheckP99Goal))
}
