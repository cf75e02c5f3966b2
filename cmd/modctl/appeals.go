package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

// appealStates are the -state names, as the service's appeal store spells
// them.
var appealStates = map[string]moderationv1.AppealState{
	"filed":      moderationv1.AppealState_APPEAL_STATE_FILED,
	"in_review":  moderationv1.AppealState_APPEAL_STATE_IN_REVIEW,
	"upheld":     moderationv1.AppealState_APPEAL_STATE_UPHELD,
	"overturned": moderationv1.AppealState_APPEAL_STATE_OVERTURNED,
	"modified":   moderationv1.AppealState_APPEAL_STATE_MODIFIED,
	"withdrawn":  moderationv1.AppealState_APPEAL_STATE_WITHDRAWN,
}

var appealOutcomes = map[string]moderationv1.AppealOutcome{
	"uphold":   moderationv1.AppealOutcome_APPEAL_OUTCOME_UPHOLD,
	"overturn": moderationv1.AppealOutcome_APPEAL_OUTCOME_OVERTURN,
	"modify":   moderationv1.AppealOutcome_APPEAL_OUTCOME_MODIFY,
}

// appealsCmd is the queue, or one of its subcommands when the first
// argument names one: the subcommands have flags of their own.
func appealsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "claim":
			return appealsClaimCmd(ctx, args[1:], stdout, stderr)
		case "decide":
			return appealsDecideCmd(ctx, args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("appeals", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	state := fs.String("state", "filed", "only appeals in this state: filed, in_review, upheld, overturned, modified or withdrawn")
	rule := fs.String("rule", "", "only appeals against decisions by this rule, e.g. bulk_add")
	accountType := fs.String("account-type", "", "only appeals by accounts of this type: personal, subscription, service or enterprise")
	minAge := fs.Duration("min-age", 0, "only appeals filed at least this long ago, e.g. 24h")
	limit := fs.Int("limit", 50, "list at most this many appeals, oldest first")
	asJSON := fs.Bool("json", false, "print JSON, one appeal per line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: modctl appeals [-state S] [-rule R] [-account-type T] [-min-age 24h] [-limit N]
       modctl appeals claim APPEAL_ID
       modctl appeals decide APPEAL_ID -outcome uphold|overturn|modify -reply TEXT [-action A] [-duration 72h]

Lists the appeal queue oldest first; claim takes an appeal for review, and
decide answers it. Run "modctl appeals claim -h" or "decide -h" for theirs.`)
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	req := &moderationv1.ListAppealsRequest{Rule: *rule, AccountType: *accountType}
	var ok bool
	switch {
	case len(rest) > 0:
		return usageError(fs, fmt.Sprintf("appeals takes no arguments (%q): claim and decide come first, as in modctl appeals claim APPEAL_ID", rest[0]))
	case *limit < 1:
		return usageError(fs, "flag -limit must be at least 1")
	case *minAge < 0:
		return usageError(fs, "flag -min-age must not be negative")
	}
	if req.State, ok = appealStates[*state]; !ok {
		return usageError(fs, fmt.Sprintf("flag -state: %q is not filed, in_review, upheld, overturned, modified or withdrawn", *state))
	}
	if *minAge > 0 {
		req.MinAge = durationpb.New(*minAge)
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	api := moderationv1.NewReviewServiceClient(conn)

	var list []*moderationv1.Appeal
	token := ""
	for {
		req.PageSize, req.PageToken = int32(min(maxPageSize, *limit-len(list))), token
		cctx, cancel := client.callContext(ctx)
		page, err := api.ListAppeals(cctx, req)
		cancel()
		if err != nil {
			return client.callErr("list "+*state+" appeals", err)
		}
		for _, a := range page.Appeals[:min(len(page.Appeals), *limit-len(list))] {
			if *asJSON {
				// Printed as each page arrives, as decisions -json does.
				if err := writeJSON(stdout, a, false); err != nil {
					return err
				}
			}
			list = append(list, a)
		}
		// An unchanged token would ask for the same page forever.
		if page.NextPageToken == token {
			token = ""
		} else {
			token = page.NextPageToken
		}
		if token == "" || len(list) >= *limit {
			break
		}
	}
	if !*asJSON {
		printAppeals(stdout, *state, list, time.Now())
	}
	if token != "" {
		fmt.Fprintf(stderr, "more appeals follow the first %d; raise -limit to see them\n", len(list))
	}
	return nil
}

// printAppeals prints the queue as a table, oldest first, under a line of
// counts a reviewer can plan by.
func printAppeals(w io.Writer, state string, list []*moderationv1.Appeal, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintf(w, "no %s appeals\n", strings.ReplaceAll(state, "_", " "))
		return
	}
	// The service serves them oldest first; sorting again keeps that true
	// across pages whatever the store does.
	list = slices.Clone(list)
	slices.SortStableFunc(list, func(a, b *moderationv1.Appeal) int {
		return a.FiledAt.AsTime().Compare(b.FiledAt.AsTime())
	})
	byState, byAction, byRule := map[string]int{}, map[string]int{}, map[string]int{}
	var rows [][]string
	for _, a := range list {
		byState[appealState(a.State)]++
		byAction[actionName(a.Action)]++
		byRule[cmp.Or(a.Rule, "-")]++
		rows = append(rows, []string{a.AppealId, formatTime(a.FiledAt), formatAge(now.Sub(a.FiledAt.AsTime())), a.Account,
			a.AccountType, a.Rule, actionName(a.Action), appealState(a.State), a.Reviewer})
	}
	fmt.Fprintf(w, "%s (%s), the oldest filed %s ago; by action: %s; by rule: %s\n\n",
		counted(len(list), "appeal"), counts(byState), formatAge(now.Sub(list[0].FiledAt.AsTime())), counts(byAction), counts(byRule))
	console.Table(w, []string{"appeal", "filed", "age", "account", "type", "rule", "action", "state", "reviewer"}, rows)
}

// counts reads "2 suspend, 1 limit": the largest first, then by name.
func counts(m map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Itoa(m[k]) + " " + k
	}
	return strings.Join(parts, ", ")
}

// formatAge is a wait to the minute, or to the hour past two days: how
// long an appeal has waited matters to a reviewer in those units.
func formatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

func appealsClaimCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("appeals claim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the claimed appeal as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl appeals claim APPEAL_ID\n\nTakes an appeal for review until its lease ends; claim it again to extend\nthe lease. Nobody may review an appeal against a decision they took.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "appeals claim needs one APPEAL_ID")
	}
	a, err := call(ctx, client, "claim appeal "+rest[0], func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.Appeal, error) {
		return moderationv1.NewReviewServiceClient(conn).ClaimAppeal(ctx, &moderationv1.ClaimAppealRequest{AppealId: rest[0]})
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, a, true)
	}
	printAppeal(stdout, a, time.Now())
	return nil
}

func appealsDecideCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("appeals decide", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	outcome := fs.String("outcome", "", "uphold (the decision stands), overturn (it is lifted) or modify (a lighter one replaces it); required")
	reply := fs.String("reply", "", "the reply the account's owner reads; required")
	action := fs.String("action", "", "for modify: the lighter action that replaces the appealed one: warn, limit or suspend")
	duration := fs.Duration("duration", 0, "for modify: how long the lighter action lasts from the original decision, e.g. 72h; 0: no end")
	asJSON := fs.Bool("json", false, "print the decided appeal as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl appeals decide APPEAL_ID -outcome uphold|overturn|modify -reply TEXT\n                            [-action warn|limit|suspend] [-duration 72h]\n\nAnswers an appeal you have claimed; an overturn or a modification takes\neffect on the account at once.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "appeals decide needs one APPEAL_ID")
	}
	req := &moderationv1.DecideAppealRequest{AppealId: rest[0], Reply: *reply}
	var ok bool
	if req.Outcome, ok = appealOutcomes[*outcome]; !ok {
		return usageError(fs, fmt.Sprintf("flag -outcome: %q is not uphold, overturn or modify", *outcome))
	}
	modify := req.Outcome == moderationv1.AppealOutcome_APPEAL_OUTCOME_MODIFY
	// The server checks these too; asking here saves a round trip and
	// names the flag rather than the field.
	switch {
	case strings.TrimSpace(*reply) == "":
		return usageError(fs, "appeals decide needs -reply: the owner is owed an answer")
	case modify && *action == "":
		return usageError(fs, "-outcome modify needs -action: the lighter action that replaces the appealed one")
	case !modify && (*action != "" || *duration != 0):
		return usageError(fs, "-action and -duration are for -outcome modify only")
	case *duration < 0:
		return usageError(fs, "flag -duration must not be negative")
	}
	if modify {
		switch req.ModifiedAction = actions[*action]; req.ModifiedAction {
		case moderationv1.Action_ACTION_WARN, moderationv1.Action_ACTION_LIMIT, moderationv1.Action_ACTION_SUSPEND:
		default:
			return usageError(fs, fmt.Sprintf("flag -action: %q is not warn, limit or suspend", *action))
		}
		if *duration > 0 {
			req.ModifiedDuration = durationpb.New(*duration)
		}
	}
	a, err := call(ctx, client, *outcome+" appeal "+req.AppealId, func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.Appeal, error) {
		return moderationv1.NewReviewServiceClient(conn).DecideAppeal(ctx, req)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, a, true)
	}
	printAppeal(stdout, a, time.Now())
	return nil
}

// printAppeal prints an appeal as a reviewer works on it: what is
// contested, how long the claim lasts, and the owner's own words.
func printAppeal(w io.Writer, a *moderationv1.Appeal, now time.Time) {
	field := labelled(w, 14)
	field("appeal", a.AppealId)
	field("state", appealState(a.State))
	field("account", a.Account)
	if a.AccountType != "" {
		field("account type", a.AccountType)
	}
	field("decision", a.DecisionId)
	field("action", actionName(a.Action))
	field("rule", a.Rule)
	field("policy", a.PolicyVersion)
	field("filed", formatTime(a.FiledAt)+" ("+formatAge(now.Sub(a.FiledAt.AsTime()))+" ago)")
	if a.Reviewer != "" {
		field("reviewer", a.Reviewer)
	}
	if a.LeaseUntil != nil {
		left := a.LeaseUntil.AsTime().Sub(now)
		if left > 0 {
			field("lease ends", formatTime(a.LeaseUntil)+" (in "+formatAge(left)+"): decide before then, or claim again")
		} else {
			field("lease ends", formatTime(a.LeaseUntil)+" (ended)")
		}
	}
	if a.ClosedAt != nil {
		field("closed", formatTime(a.ClosedAt))
	}
	if a.ModifiedAction != moderationv1.Action_ACTION_UNSPECIFIED {
		field("now in force", actionName(a.ModifiedAction))
	}
	if a.Reply != "" {
		field("reply", a.Reply)
	}
	field("statement", a.Statement)
	if len(a.EvidenceUrls) > 0 {
		field("evidence", strings.Join(a.EvidenceUrls, "\n"))
	} else {
		field("evidence", "none offered")
	}
}
