package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

// auditFormats are modctl audit's -format values that export, by the
// API's enum; "table" searches instead.
var auditFormats = map[string]moderationv1.AuditFormat{
	"csv":   moderationv1.AuditFormat_AUDIT_FORMAT_CSV,
	"jsonl": moderationv1.AuditFormat_AUDIT_FORMAT_JSONL,
}

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	account := fs.String("account", "", "only this account's records")
	actor := fs.String("actor", "", `only this actor's: "reviewer:alice", "alice", or "policy" for the policy's decisions`)
	rule := fs.String("rule", "", "only records naming this rule, e.g. bulk_add")
	kind := fs.String("kind", "", "only records of this kind: enforcement, purge, manual, appeal, reevaluate, batch, token, shadow, suppressed, brigade")
	since := fs.String("since", "", "records stored from this time (RFC 3339, or a duration ago such as 24h); required for csv and jsonl")
	until := fs.String("until", "", "records stored before this time (RFC 3339, or a duration ago); default now")
	format := fs.String("format", "table", "table (a page of matches), or export all of them as csv or jsonl")
	limit := fs.Int("limit", 100, "with -format table: at most this many records, 1 to 1000")
	fromSeq := fs.Uint64("from", 0, "with -format table: start at this stream sequence (the next page a search printed)")
	out := fs.String("out", "", "with csv or jsonl: write to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl audit [-account A] [-actor X] [-rule R] [-kind K] [-since T] [-until T] [-format table|csv|jsonl] [-out FILE]\n\nSearches the audit trail (every decision, audit record and purge notice), or\nexports what matches as CSV or JSON Lines with progress on stderr.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	exportAs, exporting := auditFormats[*format]
	switch {
	case len(rest) > 0:
		return usageError(fs, "audit takes no arguments; use -account, -actor, -rule")
	case !exporting && *format != "table":
		return usageError(fs, "flag -format must be table, csv or jsonl")
	case exporting && *since == "":
		return usageError(fs, "audit -format "+*format+" exports: give -since, so the export has a range")
	case !exporting && *out != "":
		return usageError(fs, "flag -out goes with -format csv or jsonl")
	case *limit < 1 || *limit > 1000:
		return usageError(fs, "flag -limit must be 1 to 1000")
	}
	from, err := parseWhen(*since)
	if err != nil {
		return usageError(fs, "flag -since: "+err.Error())
	}
	to, err := parseWhen(*until)
	if err != nil {
		return usageError(fs, "flag -until: "+err.Error())
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	api := moderationv1.NewAuditServiceClient(conn)
	if !exporting {
		cctx, cancel := client.callContext(ctx)
		defer cancel()
		res, err := api.SearchAudit(cctx, &moderationv1.SearchAuditRequest{Account: *account, Actor: *actor, Rule: *rule, Kind: *kind,
			Since: stamp(from), Until: stamp(to), Limit: int32(*limit), FromSequence: *fromSeq})
		if err != nil {
			return client.callErr("search the audit trail", err)
		}
		printAudit(stdout, res)
		return nil
	}
	w, done, err := output(*out, stdout)
	if err != nil {
		return err
	}
	// A stream: no -timeout, as an export of a long range may take long.
	stream, err := api.ExportAudit(ctx, &moderationv1.ExportAuditRequest{Account: *account, Actor: *actor, Rule: *rule, Kind: *kind,
		Since: stamp(from), Until: stamp(to), Format: exportAs})
	if err != nil {
		done(false)
		return client.callErr("export the audit trail", err)
	}
	last, err := receiveExport(stream.Recv, stderr, "audit", func(c *moderationv1.ExportChunk) error {
		_, err := w.Write(c.Data)
		return err
	})
	if err != nil {
		done(false)
		return client.callErr("export the audit trail", err)
	}
	if err := done(true); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %s records (%s read)\n", console.FormatInt(int64(last.GetExported())), console.FormatInt(int64(last.GetScanned())))
	return nil
}

// stamp is t for the API; nil when t is zero.
func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// output is where an export goes: the file named, written whole or
// removed (done(false)), or stdout.
func output(name string, stdout io.Writer) (io.Writer, func(ok bool) error, error) {
	if name == "" {
		return stdout, func(bool) error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func(ok bool) error {
		err := f.Close()
		if !ok {
			os.Remove(name)
			return nil
		}
		return err
	}, nil
}

// receiveExport reads an export stream to its end, handing each chunk to
// write and showing its progress on w; it returns the last chunk, which
// holds the final counts.
func receiveExport(recv func() (*moderationv1.ExportChunk, error), w io.Writer, label string, write func(*moderationv1.ExportChunk) error) (*moderationv1.ExportChunk, error) {
	var bar *console.Progress
	var shown int64
	// Done also ends the bar's goroutine, so it runs however this returns.
	defer func() {
		if bar != nil {
			bar.Done()
		}
	}()
	last := &moderationv1.ExportChunk{}
	for {
		c, err := recv()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		last = c
		if bar == nil && c.Total > 0 {
			bar = console.NewProgress(w, label, int64(c.Total))
		}
		if bar != nil && int64(c.Scanned) > shown {
			bar.Add(int64(c.Scanned) - shown)
			shown = int64(c.Scanned)
		}
		if len(c.Data) > 0 {
			if err := write(c); err != nil {
				return nil, fmt.Errorf("write the export: %w", err)
			}
		}
	}
}

func printAudit(w io.Writer, res *moderationv1.SearchAuditResponse) {
	if len(res.Entries) == 0 {
		fmt.Fprintln(w, "no records match")
		return
	}
	rows := make([][]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		rows = append(rows, []string{fmt.Sprint(e.Sequence), e.Time.AsTime().UTC().Format(time.RFC3339), e.Kind, e.Account,
			e.Actor, e.Rule, e.Action, e.DecisionId, clipText(e.Summary, 60)})
	}
	console.Table(w, []string{"sequence", "time", "kind", "account", "actor", "rule", "action", "decision", "summary"}, rows)
	if res.NextSequence != 0 {
		fmt.Fprintf(w, "\nmore may match: the next page is -from %d, or export them all with -format csv|jsonl\n", res.NextSequence)
	}
}

// clipText cuts s to n characters for a table cell.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
