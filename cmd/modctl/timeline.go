package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/console"
)

func timelineCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	since := fs.String("since", "", "only events stored from this time (RFC 3339, or a duration ago such as 24h); default all retained")
	limit := fs.Int("limit", 100, "at most this many of the latest events, 1 to 1000")
	asJSON := fs.Bool("json", false, "print the timeline as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl timeline ACCOUNT [-since RFC3339|DURATION] [-limit N]\n\nShows what the service knows about an account: its enforcement now, the\ndetectors' signals, its latest events, its decisions and its appeals.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "timeline needs one ACCOUNT")
	}
	if *limit < 1 || *limit > 1000 {
		return usageError(fs, "flag -limit must be 1 to 1000")
	}
	req := &moderationv1.GetTimelineRequest{Account: rest[0], Limit: int32(*limit)}
	if *since != "" {
		t, err := parseWhen(*since)
		if err != nil {
			return fmt.Errorf("flag -since: %w", err)
		}
		req.Since = timestamppb.New(t)
	}
	tl, err := call(ctx, client, "timeline of "+req.Account, func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.Timeline, error) {
		return moderationv1.NewReviewServiceClient(conn).GetTimeline(ctx, req)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, tl, true)
	}
	printTimeline(stdout, tl)
	return nil
}

func printTimeline(w io.Writer, tl *moderationv1.Timeline) {
	if tl.Current != nil {
		printCheck(w, tl.Current)
	} else {
		fmt.Fprintf(w, "account   %s\n", tl.Account)
	}

	fmt.Fprintln(w)
	if len(tl.Signals) == 0 {
		fmt.Fprintln(w, "signals: none")
	} else {
		printSignals(w, tl.Signals)
	}

	fmt.Fprintln(w)
	if len(tl.Events) == 0 {
		fmt.Fprintln(w, "events: none retained")
	} else {
		byKind := map[string]int{}
		var rows [][]string
		for _, te := range tl.Events {
			e := te.Event
			if e == nil {
				continue
			}
			byKind[e.Kind]++
			rows = append(rows, []string{strconv.FormatUint(te.Sequence, 10), formatTime(e.At), e.Kind, eventDetail(e)})
		}
		var bars []console.Bar
		for _, k := range slices.Sorted(maps.Keys(byKind)) {
			bars = append(bars, console.Bar{Label: k, Value: float64(byKind[k])})
		}
		console.Histogram(w, fmt.Sprintf("events: the latest %s, by kind", console.FormatInt(int64(len(rows)))), bars, 30)
		fmt.Fprintln(w)
		console.Table(w, []string{"sequence", "at", "kind", "detail"}, rows)
	}

	fmt.Fprintln(w)
	if len(tl.Decisions) == 0 {
		fmt.Fprintln(w, "decisions: none")
	} else {
		fmt.Fprintln(w, "decisions")
		var rows [][]string
		for _, d := range tl.Decisions {
			row := decisionRow(d)
			row = slices.Delete(row, 2, 3) // the account is the timeline's
			if d.Actor != "" {
				row[len(row)-2] += " (" + d.Actor + ")"
			}
			rows = append(rows, row)
		}
		console.Table(w, []string{"sequence", "time", "action", "rules", "until", "policy", "decision"}, rows)
	}

	fmt.Fprintln(w)
	if len(tl.Appeals) == 0 {
		fmt.Fprintln(w, "appeals: none")
	} else {
		fmt.Fprintln(w, "appeals")
		var rows [][]string
		for _, a := range tl.Appeals {
			rows = append(rows, []string{a.AppealId, formatTime(a.FiledAt), appealState(a.State), a.DecisionId,
				actionName(a.Action), a.Rule, a.Reviewer, formatTime(a.ClosedAt)})
		}
		console.Table(w, []string{"appeal", "filed", "state", "decision", "action", "rule", "reviewer", "closed"}, rows)
	}
}

// printSignals draws one bar chart per detector, with its evidence in
// words: readings of one detector (per_hour, per_day) share a scale, while
// readings of different detectors (a count beside a rate) would make each
// other unreadable on one chart.
func printSignals(w io.Writer, signals []*moderationv1.Signal) {
	fmt.Fprintln(w, "signals")
	for i, s := range signals {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var bars []console.Bar
		for _, name := range slices.Sorted(maps.Keys(s.Values)) {
			bars = append(bars, console.Bar{Label: "  " + name, Value: s.Values[name]})
		}
		title := "  " + s.Name
		if s.Evidence != "" {
			title += ": " + s.Evidence
		}
		if len(bars) == 0 {
			fmt.Fprintln(w, title)
			continue
		}
		console.BarChart(w, title, "", bars, 30)
	}
}

// eventDetail is an event's body in a few words.
func eventDetail(e *moderationv1.Event) string {
	switch b := e.Body.(type) {
	case *moderationv1.Event_Broadcast:
		return fmt.Sprintf("%s to %s followers: %s", b.Broadcast.Id, console.FormatInt(b.Broadcast.Recipients), quoteShort(b.Broadcast.Text))
	case *moderationv1.Event_FriendAdd:
		s := "to " + b.FriendAdd.Target
		if b.FriendAdd.Source != "" {
			s += " via " + b.FriendAdd.Source
		}
		if b.FriendAdd.Message != "" {
			s += ": " + quoteShort(b.FriendAdd.Message)
		}
		return s
	case *moderationv1.Event_Complaint:
		s := "by " + b.Complaint.Reporter + ": " + b.Complaint.Reason
		if b.Complaint.BroadcastId != "" {
			s += " about " + b.Complaint.BroadcastId
		}
		return s
	case *moderationv1.Event_Unfollow:
		return "by " + b.Unfollow.Follower
	case *moderationv1.Event_FriendResponse:
		return b.FriendResponse.Target + " " + b.FriendResponse.Response
	}
	return ""
}

// quoteShort quotes text cut to 40 characters on one line, enough to
// recognise a message in a table.
func quoteShort(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:39]) + "…"
	}
	return `"` + s + `"`
}

func appealState(s moderationv1.AppealState) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.String(), "APPEAL_STATE_"), "_", " "))
}
