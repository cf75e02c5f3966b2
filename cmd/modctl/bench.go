package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"moderation/internal/bench"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("events", 100_000, "synthetic events per phase of each mix")
	seed := fs.Uint64("seed", 1, "seed of the synthetic traffic")
	mix := fs.String("mix", "both", "traffic to measure: benign (mostly benign platform traffic), attack (a spam wave), or both, one after the other on the same server")
	dir := fs.String("data-dir", "", "where the bench's embedded server keeps its streams (default: a temporary directory)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run (service and embedded server) to this file")
	check := fs.Bool("check", false, "measure gRPC Check against a bare grpc-go server instead of the event pipeline")
	duration := fs.Duration("duration", 2*time.Second, "with -check: length of each measured phase")
	concurrency := fs.Int("concurrency", bench.DefaultCheckConcurrency(), "with -check: closed-loop callers")
	rounds := fs.Int("rounds", 3, "with -check: bare/service alternations; the best of each is kept")
	accounts := fs.Int("accounts", 1000, "with -check: account states seeded and asked about")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl bench [flags]\n\nStarts the service on an embedded JetStream server and measures, for each mix of\ntraffic (-mix) with the same messages: raw async publish, a publish+ack\npass-through, and the full pipeline. The benign mix is mostly ordinary traffic;\nthe attack mix is a spam wave in which about one event in five crosses a level\nthe policy watches and one in ten changes an account's enforcement.\n\nWith -check, measures gRPC Check on loopback beside a bare grpc-go server\nanswering the same messages from a map: peak calls/s in a closed loop, then\np50/p99 in an open loop at half of each server's own peak.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *check {
		switch {
		case *duration <= 0:
			return fmt.Errorf("flag -duration: must be positive")
		case *concurrency <= 0:
			return fmt.Errorf("flag -concurrency: must be positive")
		case *rounds <= 0:
			return fmt.Errorf("flag -rounds: must be positive")
		case *accounts <= 0:
			return fmt.Errorf("flag -accounts: must be positive")
		}
	} else if *n <= 0 {
		return fmt.Errorf("flag -events: must be positive")
	}
	mixes, err := bench.ParseMixes(*mix)
	if err != nil {
		return fmt.Errorf("flag -mix: %w", err)
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return fmt.Errorf("flag -cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *check {
		rep, err := bench.RunCheck(ctx, bench.CheckConfig{
			Accounts: *accounts, Duration: *duration, Concurrency: *concurrency, Rounds: *rounds,
			DataDir: *dir, Progress: stderr,
		})
		if err != nil {
			return err
		}
		bench.PrintCheck(stdout, rep)
		return nil
	}
	res, err := bench.Run(ctx, bench.Config{Events: *n, Seed: *seed, Mixes: mixes, DataDir: *dir, Progress: stderr})
	if err != nil {
		return err
	}
	bench.Print(stdout, res)
	return nil
}
