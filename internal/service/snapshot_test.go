package service_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// snapshotObject is the object the pipeline keeps its snapshot in.
const snapshotObject = "windows"

// offline runs fn on the data dir's NATS with no service running: what an
// operator, or a crash, could leave between two starts.
func offline(t testing.TB, dir string, fn func(ctx context.Context, js jetstream.JetStream)) {
	t.Helper()
	ns, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(dir, "jetstream"), DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, natsbus.RoleService))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fn(ctx, js)
}

// windowsOf reads every account's signals, and whether it has a window.
func windowsOf(svc *service.Service, accounts []string) map[string]map[string]moderation.Signal {
	out := make(map[string]map[string]moderation.Signal, len(accounts))
	for _, a := range accounts {
		if s, ok := svc.Pipeline.Signals(a); ok {
			out[a] = s
		}
	}
	return out
}

func accountsOf(t testing.TB, recs ...[]replay.Record) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, rs := range recs {
		for _, r := range rs {
			a := strings.Split(r.Subject, ".")[3] // mod.events.<kind>.<account>
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// TestRestartFromSnapshot: a clean stop writes a snapshot of the windows
// and the next start restores it, replaying nothing; with an older
// snapshot a start replays only the events after it; with the ack floor
// below the snapshot, the events in between come again and are neither
// counted nor judged twice; an unreadable snapshot, or one taken in
// another time zone, is not used and the windows are rebuilt from the
// events. Each time every account's windows equal those before the stop.
func TestRestartFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first, err := traffic.Synthetic(8_000, 31)
	if err != nil {
		t.Fatal(err)
	}
	second, err := traffic.Synthetic(3_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	accounts := accountsOf(t, first, second)
	total := uint64(len(first) + len(second))

	start := func(cfg service.Config) *service.Service {
		t.Helper()
		svc, err := service.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.WaitReady(ctx); err != nil {
			svc.Stop()
			t.Fatal(err)
		}
		return svc
	}
	publish := func(svc *service.Service, recs []replay.Record, want uint64) {
		t.Helper()
		_, js := publisher(t, svc)
		if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "every event processed", time.Minute, func() bool { return svc.Pipeline.Processed() >= want })
	}
	check := func(svc *service.Service, want map[string]map[string]moderation.Signal, rebuilt pipeline.Rebuilt) {
		t.Helper()
		got := svc.Pipeline.Rebuilt()
		if got.Snapshot != rebuilt.Snapshot || got.Replayed != rebuilt.Replayed || got.Through != rebuilt.Through {
			t.Errorf("windows brought back from snapshot %d, through %d, replaying %d events (%s); want snapshot %d, through %d, replaying %d",
				got.Snapshot, got.Through, got.Replayed, got.Reason, rebuilt.Snapshot, rebuilt.Through, rebuilt.Replayed)
		}
		if diff := cmp.Diff(want, windowsOf(svc, accounts)); diff != "" {
			t.Errorf("windows after the restart (-before +after):\n%s", diff)
		}
	}

	obs := func(ctx context.Context, js jetstream.JetStream) jetstream.ObjectStore {
		t.Helper()
		o, err := js.ObjectStore(ctx, natsbus.SnapshotsBucket)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	// A first run, stopped cleanly: its snapshot holds everything.
	svc := start(cfg)
	publish(svc, first, uint64(len(first)))
	before := windowsOf(svc, accounts)
	if len(before) < len(accounts)/2 {
		t.Fatalf("only %d of %d accounts have windows", len(before), len(accounts))
	}
	svc.Stop()
	var older []byte
	offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
		if older, err = obs(ctx, js).GetBytes(ctx, snapshotObject); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("restored, nothing replayed", func(t *testing.T) {
		svc = start(cfg)
		check(svc, before, pipeline.Rebuilt{Snapshot: uint64(len(first)), Through: uint64(len(first))})
		if got := svc.Pipeline.Processed(); got != 0 {
			t.Errorf("events processed again after the restart: %d, want 0", got)
		}
		publish(svc, second, uint64(len(second)))
		before = windowsOf(svc, accounts)
		svc.Stop()
		svc = start(cfg)
		check(svc, before, pipeline.Rebuilt{Snapshot: total, Through: total})
		svc.Stop() // nothing new: no snapshot written
	})

	t.Run("older snapshot, the events after it replayed", func(t *testing.T) {
		offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
			if _, err := obs(ctx, js).PutBytes(ctx, snapshotObject, older); err != nil {
				t.Fatal(err)
			}
		})
		svc = start(cfg)
		check(svc, before, pipeline.Rebuilt{Snapshot: uint64(len(first)), Through: total, Replayed: len(second)})
		svc.Stop()
	})

	t.Run("ack floor below the snapshot", func(t *testing.T) {
		// As if the last acknowledgements were lost: the consumer's floor
		// is at the end of the first run, the snapshot at the end of all.
		floor := uint64(len(first))
		offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
			events, err := js.Stream(ctx, natsbus.EventsStream)
			if err != nil {
				t.Fatal(err)
			}
			if err := events.DeleteConsumer(ctx, natsbus.PipelineDurable); err != nil {
				t.Fatal(err)
			}
			cons, err := events.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: natsbus.PipelineDurable, AckPolicy: jetstream.AckExplicitPolicy,
				DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: floor + 1, FilterSubject: natsbus.EventsSubjects})
			if err != nil {
				t.Fatal(err)
			}
			if got := cons.CachedInfo().AckFloor.Stream; got != floor {
				t.Fatalf("consumer made from sequence %d has its ack floor at %d", floor+1, got)
			}
		})
		svc = start(cfg)
		check(svc, before, pipeline.Rebuilt{Snapshot: total, Through: floor})
		waitFor(t, "the events after the floor acknowledged again", time.Minute, func() bool { return svc.Pipeline.Processed() >= total-floor })
		if diff := cmp.Diff(before, windowsOf(svc, accounts)); diff != "" {
			t.Errorf("windows after the events between the floor and the snapshot came again (-before +after):\n%s", diff)
		}
		if n := svc.Pipeline.Evaluations(); n != 0 {
			t.Errorf("policy asked %v times about events the snapshot had counted and judged", n)
		}
		svc.Stop()
	})

	t.Run("unreadable snapshot, rebuilt from the events", func(t *testing.T) {
		offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
			if _, err := obs(ctx, js).PutBytes(ctx, snapshotObject, older[:len(older)/2]); err != nil {
				t.Fatal(err)
			}
		})
		svc = start(cfg)
		check(svc, before, pipeline.Rebuilt{Through: total, Replayed: int(total)})
		if r := svc.Pipeline.Rebuilt().Reason; !strings.Contains(r, "cut short") {
			t.Errorf("reason the snapshot was not used: %q, want it cut short", r)
		}
		svc.Stop()
	})

	t.Run("another time zone, rebuilt from the events", func(t *testing.T) {
		other := cfg
		other.Location = time.FixedZone("UTC+8", 8*3600)
		svc = start(other)
		if r := svc.Pipeline.Rebuilt(); r.Snapshot != 0 || !strings.Contains(r.Reason, "zone UTC+8") {
			t.Errorf("snapshot of another zone: restored %d (%q), want none, for the zone", r.Snapshot, r.Reason)
		}
		svc.Stop()
	})
}

// TestPartitionedRestartFromSnapshot: in partitioned mode the instance
// holding the window-snapshots lease writes the snapshot at its clean
// stop; a start restores it and counts only the events published after
// it, and every account's windows equal those of an instance that counted
// every event.
func TestPartitionedRestartFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Location: time.UTC, Partitioned: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first, err := traffic.Synthetic(6_000, 51)
	if err != nil {
		t.Fatal(err)
	}
	second, err := traffic.Synthetic(2_000, 52)
	if err != nil {
		t.Fatal(err)
	}
	accounts := accountsOf(t, first, second)
	start := func() *service.Service {
		t.Helper()
		svc, err := service.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.WaitReady(ctx); err != nil {
			svc.Stop()
			t.Fatal(err)
		}
		return svc
	}

	svc := start()
	_, js := publisher(t, svc)
	if _, err := replay.Publish(ctx, js, first, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event processed", time.Minute, func() bool { return svc.Pipeline.Processed() >= uint64(len(first)) })
	svc.Stop()

	// The second run stops before the events after its snapshot come: its
	// stop writes nothing new, and the next start reads them.
	svc = start()
	if r := svc.Pipeline.Rebuilt(); r.Snapshot != uint64(len(first)) || r.Replayed != 0 {
		t.Errorf("restart after a clean stop: snapshot %d (%s), %d events read; want snapshot %d, none read", r.Snapshot, r.Reason, r.Replayed, len(first))
	}
	svc.Stop()
	offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
		if _, err := replay.Publish(ctx, js, second, nil); err != nil {
			t.Fatal(err)
		}
	})
	svc = start()
	r := svc.Pipeline.Rebuilt()
	if r.Snapshot != uint64(len(first)) || r.Replayed != len(second) {
		t.Errorf("restart: snapshot %d (%s), %d events read; want snapshot %d, %d read", r.Snapshot, r.Reason, r.Replayed, len(first), len(second))
	}
	waitFor(t, "the events after the snapshot processed", time.Minute, func() bool { return svc.Pipeline.Processed() >= uint64(len(second)) })
	restored := windowsOf(svc, accounts)
	svc.Stop()

	// Counted from the first event: the snapshot deleted.
	offline(t, dir, func(ctx context.Context, js jetstream.JetStream) {
		obs, err := js.ObjectStore(ctx, natsbus.SnapshotsBucket)
		if err != nil {
			t.Fatal(err)
		}
		if err := obs.Delete(ctx, snapshotObject); err != nil {
			t.Fatal(err)
		}
	})
	svc = start()
	defer svc.Stop()
	if r := svc.Pipeline.Rebuilt(); r.Snapshot != 0 || r.Replayed != len(first)+len(second) {
		t.Errorf("start without a snapshot: snapshot %d, %d events read; want none, all %d", r.Snapshot, r.Replayed, len(first)+len(second))
	}
	if len(restored) < len(accounts)/2 {
		t.Fatalf("only %d of %d accounts have windows", len(restored), len(accounts))
	}
	if diff := cmp.Diff(windowsOf(svc, accounts), restored); diff != "" {
		t.Errorf("windows (-counted from the first event +restored from the snapshot):\n%s", diff)
	}
	t.Logf("restart read %d events after the snapshot at %d in %s", r.Replayed, r.Snapshot, r.Took.Round(time.Millisecond))
}
