// Package bench measures the pipeline beside the limits JetStream itself
// sets on this machine, in one run on one server, so the figures compare
// like with like.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/console"
	"moderation/internal/judge"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// Mix names the traffic a run measures.
type Mix string

const (
	// MixBenign is traffic.Synthetic: mostly benign, the policy asked
	// about once in a hundred events.
	MixBenign Mix = "benign"
	// MixAttack is traffic.Attack: a spam wave, the policy asked about
	// once in five events and an account's enforcement changed once in ten.
	MixAttack Mix = "attack"
)

// Mixes are every mix, in the order a run measures them.
var Mixes = []Mix{MixBenign, MixAttack}

// Goal is the pipeline's rate, as a share of pass-through in the same run,
// that the mix is held to (issue 12). Missing it is printed, not failed:
// speed depends on the machine and belongs in a report.
func (m Mix) Goal() float64 {
	if m == MixAttack {
		return 0.5 // every fifth event asks OPA, every tenth is a decision written and published
	}
	return 0.6
}

func (m Mix) records(n int, seed uint64) ([]replay.Record, error) {
	switch m {
	case MixBenign:
		return traffic.Synthetic(n, seed)
	case MixAttack:
		// Its accounts all begin with traffic.AttackPrefix, so on the
		// server the benign mix ran on first it judges accounts of its own.
		return traffic.Attack(n, seed)
	}
	return nil, fmt.Errorf("unknown traffic mix %q", m)
}

// ParseMixes reads a -mix value: benign, attack, or both.
func ParseMixes(s string) ([]Mix, error) {
	switch s {
	case "both":
		return Mixes, nil
	case string(MixBenign), string(MixAttack):
		return []Mix{Mix(s)}, nil
	}
	return nil, fmt.Errorf("unknown mix %q: want benign, attack or both", s)
}

// Config sizes a run.
type Config struct {
	Events   int       // per phase of each mix
	Seed     uint64    // of every mix's traffic
	Mixes    []Mix     // measured in this order; nil: Mixes
	DataDir  string    // empty: a temporary directory, removed afterwards
	Progress io.Writer // where progress bars go; nil for none
}

// Result holds one run: each mix's figures, in the order measured.
type Result struct {
	Mixes []MixResult
}

// Mix returns the figures of mix m, if the run measured it.
func (r Result) Mix(m Mix) (MixResult, bool) {
	for _, mr := range r.Mixes {
		if mr.Mix == m {
			return mr, true
		}
	}
	return MixResult{}, false
}

// MixResult holds the rates of one mix, in messages per second, and what
// the pipeline did with it.
type MixResult struct {
	Mix         Mix
	Events      int
	Raw         float64 // async publish into a stream, nothing consuming
	PassThrough float64 // publish while a durable pull consumer only acknowledges
	Pipeline    float64 // publish until the service has processed and acknowledged every event
	Evaluations float64 // policy evaluations during the pipeline phase
	// ByOPA is how many of them OPA made: the rest were answered from the
	// memo of verdicts or by the levels reached (judge's outcome memo).
	ByOPA     float64
	Decisions float64 // enforcement changes during the pipeline phase
	// The process's CPU time per event in the pass-through and pipeline
	// phases (the embedded server's, the publisher's and the service's
	// together): what other work on the machine changes least, and, when
	// the pipeline is bound by CPU, what sets its share of pass-through.
	PassThroughCPU, PipelineCPU time.Duration
}

// OfPassThrough is the pipeline's rate as a share of pass-through.
func (r MixResult) OfPassThrough() float64 { return r.Pipeline / r.PassThrough }

// GoalMet says whether the pipeline reached the mix's goal.
func (r MixResult) GoalMet() bool { return r.OfPassThrough() >= r.Mix.Goal() }

// EvaluationsPer100 is how often the policy was asked, per 100 events.
func (r MixResult) EvaluationsPer100() float64 { return 100 * r.Evaluations / float64(r.Events) }

// DecisionsPer100 is how often an account's enforcement changed, per 100
// events.
func (r MixResult) DecisionsPer100() float64 { return 100 * r.Decisions / float64(r.Events) }

// Run starts the service on an embedded server and measures, for each mix
// in turn, all three rates on it with the same messages.
func Run(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	mixes := cfg.Mixes
	if mixes == nil {
		mixes = Mixes
	}
	// Every mix's traffic is made before the service starts, so making it
	// never overlaps a measurement.
	recs := make([][]replay.Record, len(mixes))
	for i, m := range mixes {
		var err error
		if recs[i], err = m.records(cfg.Events, cfg.Seed); err != nil {
			return res, err
		}
	}
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "modbench-"); err != nil {
			return res, fmt.Errorf("create bench data dir: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	svc, err := service.Start(ctx, service.Config{
		DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 300, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return res, err
	}
	defer svc.Stop()
	if err := svc.WaitReady(ctx); err != nil {
		return res, err
	}
	// A separate connection for the publisher, as a platform service has;
	// with the service's credentials, since it also declares the scratch
	// streams the first two phases publish into.
	nc, err := nats.Connect(svc.NATSURL, nats.Name("bench publisher"), natsbus.As(dir, natsbus.RoleService))
	if err != nil {
		return res, fmt.Errorf("connect bench publisher: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, fmt.Errorf("open JetStream: %w", err)
	}
	for i, m := range mixes {
		mr, err := runMix(ctx, js, svc, m, recs[i], cfg.Progress)
		if err != nil {
			return res, err
		}
		res.Mixes = append(res.Mixes, mr)
	}
	return res, nil
}

// runMix measures one mix's three rates, each phase on streams of its own:
// scratch streams named for the mix, then the service's events stream.
func runMix(ctx context.Context, js jetstream.JetStream, svc *service.Service, m Mix, recs []replay.Record, progress io.Writer) (MixResult, error) {
	res := MixResult{Mix: m, Events: len(recs)}
	var err error
	if res.Raw, err = measureRaw(ctx, js, m, recs, progress); err != nil {
		return res, err
	}
	cpu := processCPU()
	if res.PassThrough, err = measurePassThrough(ctx, js, m, recs, progress); err != nil {
		return res, err
	}
	res.PassThroughCPU = (processCPU() - cpu) / time.Duration(len(recs))
	evalBefore, decBefore := svc.Pipeline.Evaluations(), svc.Pipeline.Decisions()
	memoBefore := judge.MemoHits() + judge.OutcomeHits()
	processedBefore := svc.Pipeline.Processed()
	cpu = processCPU()
	res.Pipeline, err = measure(ctx, js, recs, string(m)+" pipeline", progress, func() bool {
		return svc.Pipeline.Processed()-processedBefore >= uint64(len(recs))
	})
	if err != nil {
		return res, err
	}
	res.PipelineCPU = (processCPU() - cpu) / time.Duration(len(recs))
	res.Evaluations = svc.Pipeline.Evaluations() - evalBefore
	res.ByOPA = res.Evaluations - float64(judge.MemoHits()+judge.OutcomeHits()-memoBefore)
	res.Decisions = svc.Pipeline.Decisions() - decBefore
	return res, nil
}

// processCPU is the CPU time the process has used so far, all threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scratchStream declares a stream configured like the events stream, on
// its own subjects, and returns the records moved onto them.
func scratchStream(ctx context.Context, js jetstream.JetStream, name, prefix string, recs []replay.Record) (jetstream.Stream, []replay.Record, error) {
	_ = js.DeleteStream(ctx, name)
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{prefix + ".>"}, Storage: jetstream.FileStorage,
		Duplicates: 2 * time.Minute, MaxMsgSize: 1 << 20,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("declare bench stream %s: %w", name, err)
	}
	moved := make([]replay.Record, len(recs))
	for i, r := range recs {
		r.Subject = prefix + strings.TrimPrefix(r.Subject, "mod.events")
		moved[i] = r
	}
	return s, moved, nil
}

func measureRaw(ctx context.Context, js jetstream.JetStream, m Mix, recs []replay.Record, progress io.Writer) (float64, error) {
	name := "BENCH_RAW_" + strings.ToUpper(string(m))
	_, moved, err := scratchStream(ctx, js, name, "bench.raw."+string(m), recs)
	if err != nil {
		return 0, err
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), name)
	return measure(ctx, js, moved, string(m)+" raw publish", progress, func() bool { return true })
}

func measurePassThrough(ctx context.Context, js jetstream.JetStream, m Mix, recs []replay.Record, progress io.Writer) (float64, error) {
	name := "BENCH_PASS_" + strings.ToUpper(string(m))
	stream, moved, err := scratchStream(ctx, js, name, "bench.pass."+string(m), recs)
	if err != nil {
		return 0, err
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), name)
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "passthrough", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 20_000,
	})
	if err != nil {
		return 0, fmt.Errorf("declare pass-through consumer: %w", err)
	}
	acked := make(chan struct{})
	n := 0
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		_ = msg.Ack()
		if n++; n == len(moved) {
			close(acked)
		}
	}, jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, fmt.Errorf("consume pass-through: %w", err)
	}
	defer cc.Stop()
	return measure(ctx, js, moved, string(m)+" pass-through", progress, func() bool {
		select {
		case <-acked:
			return true
		default:
			return false
		}
	})
}

// measure publishes recs and returns the rate from the first publish until
// done reports true.
func measure(ctx context.Context, js jetstream.JetStream, recs []replay.Record, label string, progress io.Writer, done func() bool) (float64, error) {
	var bar *console.Progress
	add := func(int64) {}
	if progress != nil {
		bar = console.NewProgress(progress, label, int64(len(recs)))
		add = bar.Add
	}
	began := time.Now()
	_, err := replay.Publish(ctx, js, recs, add)
	for err == nil && !done() {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	elapsed := time.Since(began)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return 0, fmt.Errorf("bench %s: %w", label, err)
	}
	return float64(len(recs)) / elapsed.Seconds(), nil
}

// Print shows a run: a chart for each mix, with the pipeline's share of
// pass-through, how often the policy was asked and how often it changed
// an account, and the verdict against the mix's goal.
func Print(w io.Writer, r Result) {
	for i, mr := range r.Mixes {
		if i > 0 {
			fmt.Fprintln(w)
		}
		console.BarChart(w, fmt.Sprintf("%s mix: %s events, one embedded JetStream server, same messages in every phase",
			mr.Mix, console.FormatInt(int64(mr.Events))), "events/s", []console.Bar{
			{Label: "raw JetStream async publish", Value: mr.Raw},
			{Label: "pass-through (publish + ack)", Value: mr.PassThrough},
			{Label: "moderation pipeline", Value: mr.Pipeline, Note: fmt.Sprintf("(%.0f%% of pass-through)", 100*mr.OfPassThrough())},
		}, 40)
		fmt.Fprintf(w, "policy evaluations: %s (%.2f per 100 events; %s by OPA, the rest remembered); decisions: %s (%.2f per 100 events)\n",
			console.FormatInt(int64(mr.Evaluations)), mr.EvaluationsPer100(), console.FormatInt(int64(mr.ByOPA)), console.FormatInt(int64(mr.Decisions)), mr.DecisionsPer100())
		if mr.PipelineCPU > 0 {
			fmt.Fprintf(w, "CPU per event (server, publisher and service): pass-through %.0f µs, pipeline %.0f µs\n",
				float64(mr.PassThroughCPU.Nanoseconds())/1e3, float64(mr.PipelineCPU.Nanoseconds())/1e3)
		}
		verdict := "MISS"
		if mr.GoalMet() {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "%s  pipeline at %.0f%% of pass-through (goal: at least %.0f%%)\n", verdict, 100*mr.OfPassThrough(), 100*mr.Mix.Goal())
	}
}
