package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

// maxPageSize is the largest page ListDecisions serves.
const maxPageSize = 500

func decisionsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("decisions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	account := fs.String("account", "", "only this account's decisions; empty: every account's")
	id := fs.String("id", "", "show this one decision, with its statement of reasons (needs -account)")
	limit := fs.Int("limit", 50, "list at most this many decisions, oldest first")
	all := fs.Bool("all", false, "list every decision, page after page (-limit is ignored)")
	asJSON := fs.Bool("json", false, "print JSON: one decision per line, or the one decision asked for by -id")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl decisions [-account A] [-limit N] [-all]\n       modctl decisions -account A -id DECISION\n\nLists decisions oldest first, or shows one with its statement of reasons.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageError(fs, "decisions takes no arguments; use -account")
	case *id != "" && *account == "":
		return usageError(fs, "decisions -id needs -account")
	case *limit < 1 && !*all:
		return usageError(fs, "flag -limit must be at least 1")
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	api := moderationv1.NewModerationServiceClient(conn)

	if *id != "" {
		cctx, cancel := client.callContext(ctx)
		defer cancel()
		d, err := api.GetDecision(cctx, &moderationv1.GetDecisionRequest{Account: *account, DecisionId: *id})
		if err != nil {
			return client.callErr("get decision "+*id, err)
		}
		if *asJSON {
			return writeJSON(stdout, d, true)
		}
		printDecision(stdout, d)
		return nil
	}

	op := "list decisions"
	if *account != "" {
		op += " of " + *account
	}
	var rows [][]string
	n, token := 0, ""
	for {
		size := maxPageSize
		if !*all {
			size = min(size, *limit-n)
		}
		cctx, cancel := client.callContext(ctx)
		page, err := api.ListDecisions(cctx, &moderationv1.ListDecisionsRequest{Account: *account, PageSize: int32(size), PageToken: token})
		cancel()
		if err != nil {
			return client.callErr(op, err)
		}
		for _, d := range page.Decisions {
			if !*all && n == *limit {
				break
			}
			n++
			if *asJSON {
				// Printed as each page arrives: -all may be long.
				if err := writeJSON(stdout, d, false); err != nil {
					return err
				}
				continue
			}
			rows = append(rows, decisionRow(d))
		}
		// An unchanged token would ask for the same page forever.
		if page.NextPageToken == token {
			token = ""
		} else {
			token = page.NextPageToken
		}
		if token == "" || (!*all && n >= *limit) {
			break
		}
	}
	if !*asJSON {
		if n == 0 {
			fmt.Fprintln(stdout, "no decisions")
		} else {
			console.Table(stdout, []string{"sequence", "time", "account", "action", "rules", "until", "policy", "decision"}, rows)
		}
	}
	if token != "" {
		fmt.Fprintf(stderr, "more decisions follow the first %d; -all lists every one\n", n)
	}
	return nil
}

func decisionRow(d *moderationv1.Decision) []string {
	return []string{strconv.FormatUint(d.Sequence, 10), formatTime(d.At), d.Account, actionName(d.Action),
		reasonCodes(d.Reasons), formatTime(d.Until), d.PolicyVersion, d.DecisionId}
}

// printDecision prints a decision and its statement of reasons as the
// owner was told them, one labelled field per line.
func printDecision(w io.Writer, d *moderationv1.Decision) {
	field := labelled(w, 22)
	field("decision", d.DecisionId)
	field("account", d.Account)
	field("action", actionName(d.Action))
	field("at", formatTime(d.At))
	if d.Until != nil {
		field("until", formatTime(d.Until))
	}
	if len(d.Restricts) > 0 {
		field("restricts", capabilityNames(d.Restricts))
	}
	field("strikes", strconv.Itoa(int(d.Strikes)))
	field("policy", d.PolicyVersion)
	if d.Actor != "" {
		field("actor", d.Actor)
	}
	if d.Sequence > 0 { // a decision just taken has none until it is stored
		field("sequence", strconv.FormatUint(d.Sequence, 10))
	}
	for _, r := range d.Reasons {
		field("reason", r.Code+": "+r.Detail)
	}
	s := d.Statement
	if s == nil {
		return
	}
	fmt.Fprintln(w, "\nstatement of reasons")
	field("  measure", s.Measure)
	field("  facts", s.Facts)
	field("  automated detection", yesNo(s.AutomatedDetection))
	field("  automated decision", s.AutomatedDecision)
	field("  ground", s.Ground)
	field("  explanation", s.Explanation)
	field("  redress", s.Redress)
	if s.AppealDeadline != nil {
		field("  appeal by", formatTime(s.AppealDeadline))
	}
}

// labelled returns a printer of "label  value" lines with values aligned
// at column width; a value of several lines keeps that indent.
func labelled(w io.Writer, width int) func(label, value string) {
	pad := strings.Repeat(" ", width+1)
	return func(label, value string) {
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(w, "%-*s %s\n", width, label, strings.ReplaceAll(strings.TrimRight(value, "\n"), "\n", "\n"+pad))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatTime prints a timestamp in RFC 3339, UTC as the service stores it;
// an absent one is blank.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Format(time.RFC3339)
}

func actionName(a moderationv1.Action) string {
	return strings.ToLower(strings.TrimPrefix(a.String(), "ACTION_"))
}

func reasonCodes(reasons []*moderationv1.Reason) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	return strings.Join(codes, ",")
}

func capabilityNames(caps []moderationv1.Capability) string {
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = strings.ToLower(strings.TrimPrefix(c.String(), "CAPABILITY_"))
	}
	return strings.Join(names, ",")
}
