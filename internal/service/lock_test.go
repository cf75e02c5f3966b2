package service_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"moderation/internal/service"
)

// TestSecondServiceOnOneDataDirRefused: a second service on a data dir in
// use is refused at once, saying why, and the data dir is free again once
// the first stops.
func TestSecondServiceOnOneDataDirRefused(t *testing.T) {
	dir := t.TempDir()
	first := startServiceWith(t, func(c *service.Config) { c.DataDir = dir })
	cfg := service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	began := time.Now()
	second, err := service.Start(ctx, cfg)
	if err == nil {
		second.Stop()
		t.Fatal("a second service started on a data dir in use")
	}
	if !strings.Contains(err.Error(), "in use by another moderationd") || time.Since(began) > 5*time.Second {
		t.Errorf("second start: got %v after %s, want an immediate refusal naming the lock", err, time.Since(began))
	}
	first.Stop()
	third, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start after the first stopped: %v", err)
	}
	third.Stop()
}
