package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
)

// Reconnect delays after a broken stream: short at first, since a service
// restart takes seconds, and capped so a long outage is not hammered.
const (
	watchRetryMin = 500 * time.Millisecond
	watchRetryMax = 30 * time.Second
)

func watchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	account := fs.String("account", "", "only this account's changes; empty: every account's")
	from := fs.Uint64("from", 0, "start at this sequence of the decisions stream (1: from the oldest retained); 0: the next change published")
	asJSON := fs.Bool("json", false, "print each change as JSON, one per line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl watch [-account A] [-from SEQ]\n\nPrints enforcement changes as they are published, until interrupted. A broken\nstream is resumed after the last change printed.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "watch takes no arguments; use -account")
	}
	conn, err := client.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	api := moderationv1.NewModerationServiceClient(conn)

	next := *from
	retry := watchRetryMin
	for {
		received, err := watchOnce(ctx, api, &moderationv1.WatchEnforcementRequest{Account: *account, FromSequence: next}, func(ch *moderationv1.EnforcementChange) error {
			next = ch.Sequence + 1
			if *asJSON {
				return writeJSON(stdout, ch, false)
			}
			printChange(stdout, ch)
			return nil
		})
		if ctx.Err() != nil {
			// Interrupted: the one way a watch is meant to end.
			return nil
		}
		// The service ending the stream (io.EOF) is as broken as losing it:
		// it happens when the service stops, and a watch runs until
		// interrupted.
		if !errors.Is(err, io.EOF) && status.Code(err) != codes.Unavailable {
			return client.callErr("watch enforcement", err)
		}
		if received {
			retry = watchRetryMin
		}
		from := "with the next change published (changes meanwhile are missed; -from SEQ avoids that)"
		if next > 0 {
			from = fmt.Sprintf("from sequence %d", next)
		}
		fmt.Fprintf(stderr, "watch: stream broken (%s); reconnecting in %s, resuming %s\n", brokenReason(err), retry, from)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
		retry = min(2*retry, watchRetryMax)
	}
}

// watchOnce runs one stream until it ends, passing each change to emit.
// received reports whether any change arrived, which tells a stream that
// worked for a while from a service still down.
func watchOnce(ctx context.Context, api moderationv1.ModerationServiceClient, req *moderationv1.WatchEnforcementRequest, emit func(*moderationv1.EnforcementChange) error) (received bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if emit fails
	stream, err := api.WatchEnforcement(ctx, req)
	if err != nil {
		return false, err
	}
	for {
		ch, err := stream.Recv()
		if err != nil {
			return received, err
		}
		received = true
		if err := emit(ch); err != nil {
			return received, err
		}
	}
}

func brokenReason(err error) string {
	if errors.Is(err, io.EOF) {
		return "the service ended it"
	}
	return status.Convert(err).Message()
}

// printChange prints one change on one line, so a watch can be piped
// through grep.
func printChange(w io.Writer, ch *moderationv1.EnforcementChange) {
	d := ch.Decision
	if d == nil {
		fmt.Fprintf(w, "%8d  (no decision)\n", ch.Sequence)
		return
	}
	line := fmt.Sprintf("%8d  %s  %-20s %-8s %-16s", ch.Sequence, formatTime(d.At), d.Account, actionName(d.Action), reasonCodes(d.Reasons))
	if d.Until != nil {
		line += "  until " + formatTime(d.Until)
	}
	if d.Actor != "" {
		line += "  by " + d.Actor
	}
	fmt.Fprintf(w, "%s  %s (policy %s)\n", line, d.DecisionId, d.PolicyVersion)
}
