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
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/console"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// Config sizes a run.
type Config struct {
	Events   int
	Seed     uint64
	DataDir  string    // empty: a temporary directory, removed afterwards
	Progress io.Writer // where progress bars go; nil for none
}

// Result holds the rates of one run, in messages per second.
type Result struct {
	Events      int
	Raw         float64 // async publish into a stream, nothing consuming
	PassThrough float64 // publish while a durable pull consumer only acknowledges
	Pipeline    float64 // publish until the service has processed and acknowledged every event
	Evaluations float64 // policy evaluations during the pipeline phase
	Decisions   float64
}

// EvaluationsPer100 is how often the policy was asked, per 100 events.
func (r Result) EvaluationsPer100() float64 { return 100 * r.Evaluations / float64(r.Events) }

// Run starts the service on an embedded server and measures all three
// rates on it with the same messages.
func Run(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Events: cfg.Events}
	recs, err := traffic.Synthetic(cfg.Events, cfg.Seed)
	if err != nil {
		return res, err
	}
	dir := cfg.DataDir
	if dir == "" {
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

	if res.Raw, err = measureRaw(ctx, js, recs, cfg.Progress); err != nil {
		return res, err
	}
	if res.PassThrough, err = measurePassThrough(ctx, js, recs, cfg.Progress); err != nil {
		return res, err
	}
	evalBefore, decBefore := svc.Pipeline.Evaluations(), svc.Pipeline.Decisions()
	processedBefore := svc.Pipeline.Processed()
	res.Pipeline, err = measure(ctx, js, recs, "pipeline", cfg.Progress, func() bool {
		return svc.Pipeline.Processed()-processedBefore >= uint64(len(recs))
	})
	if err != nil {
		return res, err
	}
	res.Evaluations = svc.Pipeline.Evaluations() - evalBefore
	res.Decisions = svc.Pipeline.Decisions() - decBefore
	return res, nil
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

func measureRaw(ctx context.Context, js jetstream.JetStream, recs []replay.Record, progress io.Writer) (float64, error) {
	_, moved, err := scratchStream(ctx, js, "BENCH_RAW", "bench.raw", recs)
	if err != nil {
		return 0, err
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), "BENCH_RAW")
	return measure(ctx, js, moved, "raw publish", progress, func() bool { return true })
}

func measurePassThrough(ctx context.Context, js jetstream.JetStream, recs []replay.Record, progress io.Writer) (float64, error) {
	stream, moved, err := scratchStream(ctx, js, "BENCH_PASS", "bench.pass", recs)
	if err != nil {
		return 0, err
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), "BENCH_PASS")
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "passthrough", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 20_000,
	})
	if err != nil {
		return 0, fmt.Errorf("declare pass-through consumer: %w", err)
	}
	acked := make(chan struct{})
	n := 0
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if n++; n == len(moved) {
			close(acked)
		}
	}, jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, fmt.Errorf("consume pass-through: %w", err)
	}
	defer cc.Stop()
	return measure(ctx, js, moved, "pass-through", progress, func() bool {
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

// Print shows a run as a chart.
func Print(w io.Writer, r Result) {
	pct := func(v float64) string { return fmt.Sprintf("(%.0f%% of pass-through)", 100*v/r.PassThrough) }
	console.BarChart(w, fmt.Sprintf("%s events, one embedded JetStream server, same messages in every phase", console.FormatInt(int64(r.Events))), "events/s", []console.Bar{
		{Label: "raw JetStream async publish", Value: r.Raw},
		{Label: "pass-through (publish + ack)", Value: r.PassThrough},
		{Label: "moderation pipeline", Value: r.Pipeline, Note: pct(r.Pipeline)},
	}, 40)
	fmt.Fprintf(w, "policy evaluations: %s (%.2f per 100 events); decisions: %s\n",
		console.FormatInt(int64(r.Evaluations)), r.EvaluationsPer100(), console.FormatInt(int64(r.Decisions)))
}
