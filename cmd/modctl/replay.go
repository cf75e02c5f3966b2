package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"moderation/internal/console"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
)

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := addNATSFlags(fs, natsbus.RolePublisher)
	rebase := fs.String("rebase", "exact", "how event times move to the present: exact (the last event just before now), days (whole days: calendar quotas keep their days), none (as recorded)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl replay [flags] FILE|DIR\n\nPublishes every event in FILE, or in every *.jsonl under DIR, to mod.events.<kind>.<account>.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("replay needs one FILE or DIR")
	}
	files, err := replay.Files(fs.Arg(0))
	if err != nil {
		return err
	}
	var opts replay.Options
	switch *rebase {
	case "exact":
		opts.Now = time.Now()
	case "days":
		opts.Now, opts.WholeDays = time.Now(), true
	case "none":
	default:
		return fmt.Errorf("flag -rebase: %q is not exact, days or none", *rebase)
	}
	var recs []replay.Record
	for _, f := range files {
		r, err := replay.ReadFile(f, opts)
		if err != nil {
			return err
		}
		recs = append(recs, r...)
	}
	nc, js, err := conn.connect("modctl replay")
	if err != nil {
		return err
	}
	defer nc.Close()
	bar := console.NewProgress(stderr, "replay", int64(len(recs)))
	began := time.Now()
	sum, err := replay.Publish(ctx, js, recs, bar.Add)
	bar.Done()
	if err != nil {
		return err
	}
	elapsed := time.Since(began)
	console.Table(stdout, []string{"files", "published", "stored", "duplicates", "took"}, [][]string{{
		console.FormatInt(int64(len(files))), console.FormatInt(int64(len(recs))),
		console.FormatInt(int64(sum.Stored)), console.FormatInt(int64(sum.Duplicates)), elapsed.Round(time.Millisecond).String(),
	}})
	if sum.Duplicates > 0 {
		fmt.Fprintln(stdout, "duplicates: events whose id JetStream already stored within its de-duplication window; they are not processed twice")
	}
	return nil
}
