package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export sor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	since := fs.String("since", "", "decisions stored from this time (RFC 3339, or a duration ago such as 720h); required")
	until := fs.String("until", "", "decisions stored before this time (RFC 3339, or a duration ago); default now")
	out := fs.String("out", "", "write the batch to this file; more than 100 statements go to FILE-001.json, FILE-002.json, … (default stdout, one batch per line)")
	scope := fs.String("territory", "", "territorial scope, comma-separated EU/EEA country codes (default the 27 EU members)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl export sor -since T [-until T] [-out FILE] [-territory AT,BE,...]\n\nExports the statements of reasons of the limits, suspensions and closures decided\nin a time range, in the EU DSA Transparency Database API's batch JSON\n({\"statements\": [...]}, at most 100 per batch, as its endpoint takes them),\nwith no personal data. Warnings and restores restrict nothing and have none.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0 || rest[0] != "sor":
		return usageError(fs, "export what? modctl export sor exports statements of reasons")
	case len(rest) > 1:
		return usageError(fs, "export sor takes no arguments")
	case *since == "":
		return usageError(fs, "export sor needs -since, so the export has a range")
	}
	from, err := parseWhen(*since)
	if err != nil {
		return usageError(fs, "flag -since: "+err.Error())
	}
	to, err := parseWhen(*until)
	if err != nil {
		return usageError(fs, "flag -until: "+err.Error())
	}
	req := &moderationv1.ExportStatementsRequest{Since: stamp(from), Until: stamp(to)}
	if *scope != "" {
		req.TerritorialScope = strings.Split(strings.ToUpper(*scope), ",")
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A stream: no -timeout, as an export of a long range may take long.
	stream, err := moderationv1.NewAuditServiceClient(conn).ExportStatements(ctx, req)
	if err != nil {
		return client.callErr("export statements of reasons", err)
	}
	var batches [][]byte
	last, err := receiveExport(stream.Recv, stderr, "export sor", func(c *moderationv1.ExportChunk) error {
		batches = append(batches, c.Data)
		return nil
	})
	if err != nil {
		return client.callErr("export statements of reasons", err)
	}
	if len(batches) == 0 {
		batches = [][]byte{[]byte(`{"statements":[]}`)}
	}
	written, err := writeBatches(*out, stdout, batches)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %s statements of reasons in %d %s%s; %s without one (warnings, restores)\n",
		console.FormatInt(int64(last.GetExported())), len(batches), plural(len(batches), "batch", "batches"), written,
		console.FormatInt(int64(last.GetSkipped()))+plural(int(last.GetSkipped()), " decision", " decisions"))
	return nil
}

// writeBatches writes each batch whole: to stdout one per line, to one
// file when there is one, or to numbered files beside the name given. It
// says where they went.
func writeBatches(name string, stdout io.Writer, batches [][]byte) (string, error) {
	if name == "" {
		for _, b := range batches {
			if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	names := []string{name}
	if len(batches) > 1 {
		ext := filepath.Ext(name)
		names = names[:0]
		for i := range batches {
			names = append(names, fmt.Sprintf("%s-%03d%s", strings.TrimSuffix(name, ext), i+1, ext))
		}
	}
	for i, b := range batches {
		if err := os.WriteFile(names[i], append(b, '\n'), 0o644); err != nil {
			return "", err
		}
	}
	if len(names) == 1 {
		return " to " + names[0], nil
	}
	return fmt.Sprintf(" to %s … %s", names[0], names[len(names)-1]), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
