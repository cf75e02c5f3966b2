package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"moderation/internal/console"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/traffic"
)

const mixUsage = `usage: modctl mix gen|score [flags]

  gen -seed N -out DIR [-instances class=n,...]
        generate a labelled mix of issue 11's evasions and look-alikes as a
        scenario: DIR/events.jsonl and DIR/expect.json (each account's class,
        and the outcome it must get)
  score [-settle D] DIR
        publish DIR's events through NATS (times moved to the present),
        follow mod.enforcement as a platform service does, and score the
        strongest action per account against DIR/expect.json: per class, the
        account-level confusion table, recall and false positives

classes: disguised-ads handle-ring slow-drip harvest-ring dormant-wake (abusive)
         brigaded-news trade-fair price-reports coupon-brand group-admins
         ordinary-users (legitimate)
`

func mixCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mixUsage)
		return errors.New("mix needs gen or score")
	}
	switch args[0] {
	case "gen":
		return mixGen(args[1:], stdout, stderr)
	case "score":
		return mixScore(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, mixUsage)
	return fmt.Errorf("mix: unknown subcommand %q", args[0])
}

func mixGen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mix gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "generator seed: other seeds give other wording, handles, sizes and timings")
	out := fs.String("out", "", "scenario directory to write (required)")
	instances := fs.String("instances", "all=2", "instances per class, class=n,... (all=n for every class)")
	description := fs.String("description", "", "the scenario's description in expect.json")
	fs.Usage = func() { fmt.Fprint(stderr, mixUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("mix gen needs -out DIR and no arguments")
	}
	counts, err := traffic.ParseInstances(*instances)
	if err != nil {
		return fmt.Errorf("flag -instances: %w", err)
	}
	m := traffic.Labelled(*seed, counts)
	desc := *description
	if desc == "" {
		desc = fmt.Sprintf("A labelled mix of issue 11's evasions and look-alikes, seed %d, %s.", *seed, *instances)
	}
	if err := m.WriteScenario(*out, desc); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	abusive := 0
	for _, l := range m.Labels {
		if l.Abusive {
			abusive++
		}
	}
	fmt.Fprintf(stdout, "%s: %d events, %d accounts (%d abusive, %d legitimate)\n", *out, len(m.Events), len(m.Labels), abusive, len(m.Labels)-abusive)
	return nil
}

func mixScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mix score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := addNATSFlags(fs, natsbus.RolePublisher)
	settle := fs.Duration("settle", 5*time.Second, "how long enforcement must stay quiet after the last publish before scoring")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up waiting for enforcement to settle after this long")
	fs.Usage = func() { fmt.Fprint(stderr, mixUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("mix score needs one DIR")
	}
	dir := fs.Arg(0)
	labels, err := traffic.ReadLabels(filepath.Join(dir, "expect.json"))
	if err != nil {
		return err
	}
	files, err := replay.Files(dir)
	if err != nil {
		return err
	}
	var recs []replay.Record
	for _, f := range files {
		r, err := replay.ReadFile(f, replay.Options{Now: time.Now()})
		if err != nil {
			return err
		}
		recs = append(recs, r...)
	}
	nc, js, err := conn.connect("modctl mix score")
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := traffic.WatchEnforcement(nc)
	if err != nil {
		return err
	}
	defer w.Stop()
	bar := console.NewProgress(stderr, "publish", int64(len(recs)))
	sum, err := replay.Publish(ctx, js, recs, bar.Add)
	bar.Done()
	if err != nil {
		return err
	}
	if sum.Duplicates > 0 {
		fmt.Fprintf(stderr, "%d events were already stored (same ids): they are not judged again, so their accounts score as they stood\n", sum.Duplicates)
	}
	w.Mark()
	deadline := time.Now().Add(*timeout)
	for !w.Quiet(*settle) {
		if time.Now().After(deadline) {
			return fmt.Errorf("enforcement still changing after %s", *timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	strongest, bad := w.Strongest()
	if bad > 0 {
		fmt.Fprintf(stderr, "%d messages on mod.enforcement were not decisions\n", bad)
	}
	s := traffic.ScoreActions(labels, strongest)
	s.Print(stdout)
	if len(s.Wrong) > 0 {
		fmt.Fprintln(stdout)
		rows := make([][]string, 0, len(s.Wrong))
		for _, o := range s.Wrong {
			reason := ""
			if d, ok := w.Decision(o.Account); ok && len(d.Reasons) > 0 {
				reason = d.Reasons[0].Code
			}
			want := "below limit"
			if o.Label.Abusive {
				want = "limit or worse"
			}
			rows = append(rows, []string{o.Account, string(o.Label.Class), want, string(o.Action), reason})
		}
		console.Table(stdout, []string{"account", "class", "want", "got", "first reason"}, rows)
	}
	return nil
}
