// Command moderationd is the moderation service: one binary that embeds a
// NATS server with JetStream (or joins an external one), consumes platform
// events, judges accounts with the Rego policy and serves the gRPC API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"moderation/internal/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "moderationd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cfg, err := loadConfig(args, os.Getenv)
	if err != nil {
		return err
	}
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case <-ctx.Done():
			cfg.Log.Info("stopping: finishing in-flight events and draining NATS")
			break wait
		case <-svc.Failed():
			break wait
		case <-hup:
			cfg.Log.Info("SIGHUP: looking at the policy directories")
			svc.Reload()
		}
	}
	began := time.Now()
	svc.Stop()
	if err := svc.Err(); err != nil {
		return err
	}
	cfg.Log.Info("stopped", "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}
