package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	capFlag := fs.String("capability", "", "broadcast or friend_add; empty asks whether anything is restricted")
	asJSON := fs.Bool("json", false, "print the response as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl check [flags] ACCOUNT...\n\nAsks the service whether each account may act now; several accounts are asked in one BatchCheck.")
		fs.PrintDefaults()
	}
	accounts, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(accounts) == 0 {
		return usageError(fs, "check needs an ACCOUNT")
	}
	capability, err := parseCapability(*capFlag)
	if err != nil {
		return fmt.Errorf("flag -capability: %w", err)
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := client.callContext(ctx)
	defer cancel()
	api := moderationv1.NewModerationServiceClient(conn)

	if len(accounts) == 1 {
		resp, err := api.Check(ctx, &moderationv1.CheckRequest{Account: accounts[0], Capability: capability})
		if err != nil {
			return client.callErr("check "+accounts[0], err)
		}
		if *asJSON {
			return writeJSON(stdout, resp, true)
		}
		printCheck(stdout, resp)
		return nil
	}
	req := &moderationv1.BatchCheckRequest{}
	for _, a := range accounts {
		req.Checks = append(req.Checks, &moderationv1.CheckRequest{Account: a, Capability: capability})
	}
	resp, err := api.BatchCheck(ctx, req)
	if err != nil {
		return client.callErr(fmt.Sprintf("check %d accounts", len(accounts)), err)
	}
	if *asJSON {
		return writeJSON(stdout, resp, true)
	}
	printBatchCheck(stdout, resp.Results)
	return nil
}

func parseCapability(s string) (moderationv1.Capability, error) {
	switch s {
	case "":
		return moderationv1.Capability_CAPABILITY_UNSPECIFIED, nil
	case "broadcast":
		return moderationv1.Capability_CAPABILITY_BROADCAST, nil
	case "friend_add":
		return moderationv1.Capability_CAPABILITY_FRIEND_ADD, nil
	}
	return 0, fmt.Errorf("%q is not broadcast or friend_add", s)
}

func printCheck(w io.Writer, r *moderationv1.CheckResponse) {
	allowed := "yes"
	if !r.Allowed {
		allowed = "NO"
	}
	fmt.Fprintf(w, "account   %s\nstatus    %s\nallowed   %s\n", r.Account, statusName(r.Status), allowed)
	if r.Until != nil {
		fmt.Fprintf(w, "until     %s\n", r.Until.AsTime().Format(time.RFC3339))
	}
	if r.DecisionId != "" {
		fmt.Fprintf(w, "decision  %s (policy %s)\n", r.DecisionId, r.PolicyVersion)
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(w, "reason    %s: %s\n", reason.Code, reason.Detail)
	}
	if r.Stale {
		fmt.Fprintln(w, "note      the service is still loading enforcement state; this answer may be stale")
	}
}

// printBatchCheck prints one row per account, in the order asked.
func printBatchCheck(w io.Writer, results []*moderationv1.CheckResponse) {
	var rows [][]string
	stale := false
	for _, r := range results {
		allowed := "yes"
		if !r.Allowed {
			allowed = "NO"
		}
		var reasons []string
		for _, reason := range r.Reasons {
			reasons = append(reasons, reason.Code)
		}
		rows = append(rows, []string{r.Account, statusName(r.Status), allowed, formatTime(r.Until), strings.Join(reasons, ","), r.DecisionId})
		stale = stale || r.Stale
	}
	console.Table(w, []string{"account", "status", "allowed", "until", "reasons", "decision"}, rows)
	if stale {
		fmt.Fprintln(w, "note: the service is still loading enforcement state; some answers may be stale")
	}
}

func statusName(s moderationv1.Status) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "STATUS_"))
}
