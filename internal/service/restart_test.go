package service_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"moderation/internal/moderation"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// TestWindowsRebuiltAfterRestart: after a restart the detectors' windows,
// rebuilt by replaying the retained events, equal the windows before it.
func TestWindowsRebuiltAfterRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs, err := traffic.Synthetic(20_000, 11)
	if err != nil {
		t.Fatal(err)
	}
	accounts := []string{"bulk_0", "bulk_3", "person_7", "person_123", "official_1", "official_3"}

	svc, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	_, js := publisher(t, svc)
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event processed", 30*time.Second, func() bool { return svc.Pipeline.Processed() >= uint64(len(recs)) })
	before := map[string]map[string]moderation.Signal{}
	for _, a := range accounts {
		s, ok := svc.Pipeline.Signals(a)
		if !ok {
			t.Fatalf("no window for %s before the restart", a)
		}
		before[a] = s
	}
	svc.Stop()

	svc2, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Stop()
	if err := svc2.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		s, ok := svc2.Pipeline.Signals(a)
		if !ok {
			t.Errorf("no window for %s after the restart", a)
			continue
		}
		if diff := cmp.Diff(before[a], s); diff != "" {
			t.Errorf("window of %s after restart (-before +after):\n%s", a, diff)
		}
	}
	if got := svc2.Pipeline.Processed(); got != 0 {
		t.Errorf("events processed again after the restart: got %d, want 0 (they were acknowledged)", got)
	}
}
