package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// BenchmarkRestartMillionEvents is issue 12's restart: a million events
// (MODERATION_RESTART_EVENTS to change it) spanning the last 7 days of
// event time are stored and counted, the service is stopped, and a start
// on the same data directory is timed until it is ready: once with the
// snapshot the stop wrote, once without it (the windows rebuilt from the
// events, as before snapshots). After each, every account's windows must
// equal those before the stop. A third start restores the last snapshot
// taken while the events came (every 200,000 of them), as after a crash,
// and replays the events since. It prints the times; nothing is asserted
// on them.
//
//	go test -run '^$' -bench RestartMillionEvents -benchtime 1x -timeout 1h ./internal/service
//
// BenchmarkRestartMillionEvents/partitioned is the same in partitioned
// mode: the instance writes the snapshots as the lease holder, and a
// start restores one and counts the events after it.
func BenchmarkRestartMillionEvents(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("MODERATION_RESTART_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("MODERATION_RESTART_EVENTS=%q: %v", s, err)
		}
	}
	for _, mode := range []struct {
		name        string
		partitioned bool
	}{{"single", false}, {"partitioned", true}} {
		b.Run(mode.name, func(b *testing.B) {
			for range b.N {
				restartBench(b, n, mode.partitioned)
			}
		})
	}
}

func restartBench(b *testing.B, n int, partitioned bool) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	began := time.Now()
	recs, err := lastWeek(n)
	if err != nil {
		b.Fatal(err)
	}
	accounts := accountsOf(b, recs)
	b.Logf("%d events of %d accounts over 7 days of event time, made in %s", n, len(accounts), time.Since(began).Round(time.Second))

	dir := b.TempDir()
	cfg := service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		Location: time.UTC, Partitioned: partitioned, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mode := "single consumer"
	if partitioned {
		mode = "partitioned"
	}
	start := func() (*service.Service, time.Duration) {
		b.Helper()
		began := time.Now()
		svc, err := service.Start(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.WaitReady(ctx); err != nil {
			svc.Stop()
			b.Fatal(err)
		}
		return svc, time.Since(began)
	}

	svc, _ := start()
	nc, err := nats.Connect(svc.NATSURL, svc.NATSAs(natsbus.RolePublisher))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	began = time.Now()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		b.Fatal(err)
	}
	recs = nil // a million records: let them go
	for svc.Pipeline.Processed() < uint64(n) {
		if ctx.Err() != nil {
			b.Fatal(ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(began)
	b.Logf("published and counted in %s (%.0f events/s)", took.Round(time.Second), float64(n)/took.Seconds())
	before := windowsOf(svc, accounts)
	// The last snapshot taken while events came (every 200,000): what a
	// crash now would leave.
	periodic, err := svc.Streams.Snapshots.GetBytes(ctx, snapshotObject)
	if err != nil {
		b.Fatal(err)
	}
	began = time.Now()
	svc.Stop()
	b.Logf("stopped in %s, the snapshot written", time.Since(began).Round(time.Millisecond))

	var snapshotBytes uint64
	offline(b, dir, func(ctx context.Context, js jetstream.JetStream) {
		obs, err := js.ObjectStore(ctx, natsbus.SnapshotsBucket)
		if err != nil {
			b.Fatal(err)
		}
		info, err := obs.GetInfo(ctx, snapshotObject)
		if err != nil {
			b.Fatal(err)
		}
		snapshotBytes = info.Size
	})

	restart := func(what string) time.Duration {
		b.Helper()
		svc, ready := start()
		defer svc.Stop()
		r := svc.Pipeline.Rebuilt()
		b.Logf("%s: ready in %s (windows in %s: snapshot through %d, %d events replayed%s)",
			what, ready.Round(time.Millisecond), r.Took.Round(time.Millisecond), r.Snapshot, r.Replayed, reason(r.Reason, r.Snapshot))
		if diff := cmp.Diff(before, windowsOf(svc, accounts)); diff != "" {
			b.Errorf("%s: windows after the restart (-before +after):\n%s", what, diff)
		}
		return ready
	}
	withSnapshot := restart("restart with the snapshot")
	offline(b, dir, func(ctx context.Context, js jetstream.JetStream) {
		obs, err := js.ObjectStore(ctx, natsbus.SnapshotsBucket)
		if err != nil {
			b.Fatal(err)
		}
		if err := obs.Delete(ctx, snapshotObject); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			b.Fatal(err)
		}
	})
	without := restart("restart without a snapshot")
	offline(b, dir, func(ctx context.Context, js jetstream.JetStream) {
		obs, err := js.ObjectStore(ctx, natsbus.SnapshotsBucket)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := obs.PutBytes(ctx, snapshotObject, periodic); err != nil {
			b.Fatal(err)
		}
	})
	crashed := restart("restart with the last periodic snapshot, as after a crash")
	fmt.Printf("%s restart after %d events of %d accounts over 7 days: ready in %s with the snapshot (%.1f MB), %s with the last periodic one, %s rebuilding from the events\n",
		mode, n, len(accounts), withSnapshot.Round(time.Millisecond), float64(snapshotBytes)/(1<<20), crashed.Round(time.Millisecond), without.Round(time.Millisecond))
	b.ReportMetric(withSnapshot.Seconds(), "s-ready-snapshot")
	b.ReportMetric(without.Seconds(), "s-ready-rebuild")
	b.ReportMetric(crashed.Seconds(), "s-ready-periodic")
	b.ReportMetric(float64(snapshotBytes)/(1<<20), "snapshot-MB")
}

func reason(r string, snapshot uint64) string {
	if snapshot != 0 {
		return ""
	}
	return "; " + r
}

// lastWeek is traffic.Synthetic's n events spread evenly over the 7 days
// before now (it spaces them 10 ms apart), the accounts' creation dates
// moved along.
func lastWeek(n int) ([]replay.Record, error) {
	recs, err := traffic.Synthetic(n, 41)
	if err != nil {
		return nil, err
	}
	const week = 7 * 24 * time.Hour
	from := time.Now().Add(-week)
	var shift time.Duration
	for i, r := range recs {
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			return nil, fmt.Errorf("decode synthetic event %d: %w", i, err)
		}
		if i == 0 {
			shift = from.Sub(ev.At)
		}
		ev.At = from.Add(week * time.Duration(i) / time.Duration(n))
		if ev.AccountInfo != nil {
			ev.AccountInfo.CreatedAt = ev.AccountInfo.CreatedAt.Add(shift)
		}
		if recs[i].Data, err = events.EncodeJSON(ev); err != nil {
			return nil, fmt.Errorf("encode synthetic event %d: %w", i, err)
		}
	}
	return recs, nil
}
