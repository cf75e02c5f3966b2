package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"moderation/internal/bench"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("events", 100_000, "synthetic events per phase")
	seed := fs.Uint64("seed", 1, "seed of the synthetic traffic")
	dir := fs.String("data-dir", "", "where the bench's embedded server keeps its streams (default: a temporary directory)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run (service and embedded server) to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl bench [flags]\n\nStarts the service on an embedded JetStream server and measures, with the same\nmessages: raw async publish, a publish+ack pass-through, and the full pipeline.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		return fmt.Errorf("flag -events: must be positive")
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
	res, err := bench.Run(ctx, bench.Config{Events: *n, Seed: *seed, DataDir: *dir, Progress: stderr})
	if err != nil {
		return err
	}
	bench.Print(stdout, res)
	return nil
}
