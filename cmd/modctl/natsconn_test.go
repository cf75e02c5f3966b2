package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"moderation/internal/natsbus/natstest"
	"moderation/internal/service"
)

// TestReplayOverTLS: against an embedded server serving TLS, replay finds
// the publisher credentials in the data directory and trusts the server
// through -nats-ca (MODERATION_NATS_CA).
func TestReplayOverTLS(t *testing.T) {
	pki := natstest.NewPKI(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := service.Start(ctx, service.Config{DataDir: dir, NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		NATSTLSCert: pki.ServerCert, NATSTLSKey: pki.ServerKey, MaxStateMB: 64, Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODERATION_NATS_URL", "")
	t.Setenv("MODERATION_NATS_CA", pki.CA)
	modctl(t, ctx, "replay", "-nats-url", svc.NATSURL, "-data-dir", dir, "../../fixtures/scenarios/bulk-adder-new-account")
	for svc.Pipeline.Processed() < 1 {
		if ctx.Err() != nil {
			t.Fatal("no event processed after a replay over TLS")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
