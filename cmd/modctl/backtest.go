package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the platform's time zone, on machines without zoneinfo

	"moderation/detectors/adtext"
	"moderation/internal/backtest"
	"moderation/internal/console"
	"moderation/internal/judge"
	"moderation/internal/natsbus"
)

func backtestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("policy", "", "candidate policy directory (Rego modules, their tests and data.json)")
	conn := addNATSFlags(fs, natsbus.RoleService)
	since := fs.String("since", "", "replay events stored from this time (RFC 3339, or a duration ago such as 24h); default all retained")
	until := fs.String("until", "", "replay events stored up to this time (RFC 3339 or a duration ago); default now")
	zone := fs.String("timezone", envOr("MODERATION_TIMEZONE", "Asia/Shanghai"), "the platform's time zone, as the service runs")
	adModel := fs.String("ad-model", envOr("MODERATION_AD_MODEL", ""), "advertising model, as the service runs; empty: built in")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl backtest -policy DIR [-since T] [-until T]\n\nReplays retained events through the detectors and a candidate policy and reports\nwhat would change against what was decided. Nothing is written.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("backtest needs -policy")
	}
	cfg := backtest.Config{}
	var err error
	if cfg.Since, err = parseWhen(*since); err != nil {
		return fmt.Errorf("flag -since: %w", err)
	}
	if cfg.Until, err = parseWhen(*until); err != nil {
		return fmt.Errorf("flag -until: %w", err)
	}
	if cfg.Pipeline.Location, err = time.LoadLocation(*zone); err != nil {
		return fmt.Errorf("flag -timezone: %w", err)
	}
	if *adModel != "" {
		if cfg.Pipeline.AdModel, err = adtext.LoadFile(*adModel); err != nil {
			return fmt.Errorf("flag -ad-model: %w", err)
		}
	}
	// A strict compile, not the candidate's tests: a backtest is how one
	// finds out what a change would do before writing its tests.
	if cfg.Policy, err = judge.Compile(ctx, os.DirFS(*dir), "candidate:"+strings.TrimRight(*dir, "/")); err != nil {
		return err
	}
	nc, js, err := conn.connect("modctl backtest")
	if err != nil {
		return err
	}
	defer nc.Close()
	var bar *console.Progress
	cfg.Progress = func(done, total int64) {
		if bar == nil {
			bar = console.NewProgress(stderr, "backtest", total)
		}
		bar.Add(1)
	}
	report, err := backtest.Run(ctx, js, cfg)
	if bar != nil {
		bar.Done()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	printBacktest(stdout, report)
	return nil
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Parse(time.RFC3339, s)
}

func printBacktest(w io.Writer, r *backtest.Report) {
	fmt.Fprintf(w, "candidate %s: %s events replayed, policy asked %s times\n\n",
		r.PolicyVersion, console.FormatInt(int64(r.Events)), console.FormatInt(int64(r.Evaluations)))
	keys := map[string]bool{}
	for k := range r.Decided {
		keys[k] = true
	}
	for k := range r.Would {
		keys[k] = true
	}
	var rows [][]string
	decided, would := map[string]int{}, map[string]int{}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		action, rule, _ := strings.Cut(k, " ")
		rows = append(rows, []string{action, rule, console.FormatInt(int64(r.Decided[k])), console.FormatInt(int64(r.Would[k]))})
		decided[action] += r.Decided[k]
		would[action] += r.Would[k]
	}
	console.Table(w, []string{"action", "rule", "decided", "would"}, rows)
	fmt.Fprintln(w)
	var bars []console.Bar
	for _, a := range []string{"warn", "limit", "suspend", "close"} {
		if decided[a]+would[a] > 0 {
			bars = append(bars, console.Bar{Label: a + " decided", Value: float64(decided[a])}, console.Bar{Label: a + " would", Value: float64(would[a])})
		}
	}
	if len(bars) > 0 {
		console.BarChart(w, "decisions by action", "", bars, 30)
		fmt.Fprintln(w)
	}
	for _, part := range []struct {
		title   string
		changes []backtest.Change
	}{{"would be actioned or acted on more strongly", r.Actioned}, {"would be released or acted on more lightly", r.Released}} {
		fmt.Fprintf(w, "%d accounts %s\n", len(part.changes), part.title)
		if len(part.changes) == 0 {
			continue
		}
		var rows [][]string
		for _, c := range part.changes {
			rows = append(rows, []string{c.Account, string(c.Was), string(c.Would), c.Rule, c.Reason})
		}
		console.Table(w, []string{"account", "was", "would", "rule", "reason"}, rows)
		fmt.Fprintln(w)
	}
}
