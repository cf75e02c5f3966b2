package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

func reevaluateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("reevaluate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	client := addClientFlags(flags)
	policy := flags.String("policy", "", "a policy version the service has run (e.g. embedded@c40678f3a321), or a policy directory (Rego modules, their tests and data.json); required")
	closedSince := flags.String("closed-since", "", "only accounts closed or suspended from this time (RFC 3339, or a duration ago such as 720h); default all")
	dryRun := flags.Bool("dry-run", false, "only list the accounts that would be restored")
	note := flags.String("note", "", "why, for the audit record; required unless -dry-run")
	asJSON := flags.Bool("json", false, "print the result as JSON")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl reevaluate -policy VERSION|DIR [-closed-since RFC3339|DURATION] [-dry-run] [-note TEXT]\n\nRe-judges suspended and closed accounts on the signals their decisions recorded,\nunder another policy, and restores those it would no longer suspend or close.\nAccounts a person suspended or closed are skipped. Try -dry-run first.")
		flags.PrintDefaults()
	}
	rest, err := parseArgs(flags, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageError(flags, "reevaluate takes no arguments; name the policy with -policy")
	case *policy == "":
		return usageError(flags, "reevaluate needs -policy: a version the service has run, or a policy directory")
	case !*dryRun && strings.TrimSpace(*note) == "":
		// Refused here, before any account is judged, though the server
		// refuses it too: restoring accounts is audited with a reason.
		return usageError(flags, "reevaluate restores accounts: give -note saying why, for the audit record (or -dry-run to only list them)")
	}
	req := &moderationv1.ReevaluateRequest{DryRun: *dryRun, Note: *note}
	if *closedSince != "" {
		t, err := parseWhen(*closedSince)
		if err != nil {
			return fmt.Errorf("flag -closed-since: %w", err)
		}
		req.ClosedSince = timestamppb.New(t)
	}
	if req.Files, err = policyFiles(*policy); err != nil {
		return fmt.Errorf("flag -policy: %w", err)
	}
	if req.Files == nil {
		req.PolicyVersion = *policy
	}

	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	op := "reevaluate under " + *policy
	// A stream: no -timeout, as a re-evaluation of many accounts may take
	// long; it ends with the result, or with Ctrl-C.
	stream, err := moderationv1.NewReviewServiceClient(conn).Reevaluate(ctx, req)
	if err != nil {
		return client.callErr(op, err)
	}
	res, err := receiveReevaluation(stream, stderr)
	if err != nil {
		return client.callErr(op, err)
	}
	if *asJSON {
		return writeJSON(stdout, res, true)
	}
	printReevaluation(stdout, res, *dryRun)
	return nil
}

// receiveReevaluation shows the stream's progress on w and returns its
// result.
func receiveReevaluation(stream moderationv1.ReviewService_ReevaluateClient, w io.Writer) (*moderationv1.ReevaluateResponse, error) {
	var bar *console.Progress
	var total, shown int64
	// Done also ends the bar's goroutine, so it runs however this returns.
	defer func() {
		if bar != nil {
			bar.Done()
		}
	}()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the service ended the stream without a result")
		}
		if err != nil {
			return nil, err
		}
		if bar == nil && msg.Total > 0 {
			total = int64(msg.Total)
			bar = console.NewProgress(w, "reevaluate", total)
		}
		done := int64(msg.Done)
		if msg.Result != nil {
			// The last message counts accounts considered, while an
			// applied run's steps are judging and restoring: the result
			// means all of them are done.
			done = total
		}
		if bar != nil && done > shown {
			bar.Add(done - shown)
			shown = done
		}
		if msg.Result != nil {
			return msg.Result, nil
		}
	}
}

// policyFiles reads a policy directory as the API takes it: its *.rego
// files (tests included: the service runs them before judging anyone) and
// data.json, by name. It returns nil when name is not a directory, which
// is then a policy version, unless it can only be a path.
func policyFiles(name string) (map[string]string, error) {
	info, err := os.Stat(name)
	switch {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("%s is a file; give a policy directory or a policy version", name)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err != nil:
		// Versions look like embedded@c40678f3a321; a separator means a
		// directory was meant, and the service would only answer that it
		// knows no such version.
		if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
			return nil, fmt.Errorf("no directory %s", name)
		}
		return nil, nil
	}
	fsys := os.DirFS(name)
	names, err := fs.Glob(fsys, "*.rego")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no Rego modules (*.rego) in %s", name)
	}
	files := map[string]string{}
	for _, n := range append(names, "data.json") {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read policy %s: %w", filepath.Join(name, n), err)
		}
		files[n] = string(b)
	}
	return files, nil
}

func printReevaluation(w io.Writer, r *moderationv1.ReevaluateResponse, dryRun bool) {
	fmt.Fprintf(w, "policy %s: %s considered", r.PolicyVersion, counted(int(r.Considered), "suspended or closed account"))
	if r.Skipped > 0 {
		fmt.Fprintf(w, ", %s skipped (a person suspended or closed them)", console.FormatInt(int64(r.Skipped)))
	}
	fmt.Fprintln(w)
	restored := counted(len(r.Restored), "account")
	switch {
	case dryRun:
		fmt.Fprintf(w, "dry run: %s would be restored\n", restored)
	case r.BatchId != "":
		fmt.Fprintf(w, "%s restored in batch %s\n", restored, r.BatchId)
	default:
		fmt.Fprintf(w, "%s restored\n", restored)
	}
	if len(r.Restored) == 0 {
		return
	}
	var rows [][]string
	for _, re := range r.Restored {
		would := "allow" // the policy takes no measure
		if re.Would != moderationv1.Action_ACTION_UNSPECIFIED {
			would = actionName(re.Would)
		}
		rows = append(rows, []string{re.Account, re.DecisionId, actionName(re.Was), would, re.Why})
	}
	fmt.Fprintln(w)
	console.Table(w, []string{"account", "decision", "was", "would", "why"}, rows)
}

// counted is "1 account" or "2 accounts".
func counted(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return console.FormatInt(int64(n)) + " " + noun
}
