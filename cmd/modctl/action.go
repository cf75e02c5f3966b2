package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
)

var actions = map[string]moderationv1.Action{
	"warn":    moderationv1.Action_ACTION_WARN,
	"limit":   moderationv1.Action_ACTION_LIMIT,
	"suspend": moderationv1.Action_ACTION_SUSPEND,
	"close":   moderationv1.Action_ACTION_CLOSE,
	"restore": moderationv1.Action_ACTION_RESTORE,
}

func actionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("action", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := addClientFlags(fs)
	action := fs.String("action", "", "warn, limit, suspend, close or restore (lifts whatever is in force)")
	detail := fs.String("detail", "", "the facts, in words the account's owner reads (required)")
	note := fs.String("note", "", "why you act, for the audit record; the owner does not see it (required)")
	reason := fs.String("reason", "", "code of the rule broken, e.g. bulk_add; default manual (none for restore)")
	duration := fs.Duration("duration", 0, "how long a warn, limit or suspend lasts, e.g. 72h; 0: no end")
	restricts := fs.String("restricts", "", "capabilities a limit refuses, comma-separated: broadcast,friend_add; empty: all")
	asJSON := fs.Bool("json", false, "print the resulting decision as JSON")
	requestID := fs.String("request-id", "", "idempotency key: running the command again with the same one returns the first decision instead of making another; default a new random one")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl action ACCOUNT -action warn|limit|suspend|close|restore -detail TEXT -note TEXT\n                    [-reason CODE] [-duration 72h] [-restricts broadcast,friend_add]\n\nTakes a manual action on an account; it is published and audited like any\ndecision, with you as its actor.")
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "action needs one ACCOUNT")
	}
	req := &moderationv1.TakeActionRequest{Account: rest[0], ReasonCode: *reason, Detail: *detail, Note: *note}
	var ok bool
	if req.Action, ok = actions[*action]; !ok {
		return usageError(fs, fmt.Sprintf("flag -action: %q is not warn, limit, suspend, close or restore", *action))
	}
	// The server checks these too; asking here saves a round trip and
	// names the flag rather than the field.
	switch {
	case *detail == "":
		return usageError(fs, "action needs -detail: the owner is owed the facts")
	case *note == "":
		return usageError(fs, "action needs -note: the audit record says why")
	case *duration < 0:
		return usageError(fs, "flag -duration must not be negative")
	}
	if req.ReasonCode == "" && req.Action != moderationv1.Action_ACTION_RESTORE {
		req.ReasonCode = "manual"
	}
	if *duration > 0 {
		req.Duration = durationpb.New(*duration)
	}
	if *restricts != "" {
		for _, name := range strings.Split(*restricts, ",") {
			c, err := parseCapability(strings.TrimSpace(name))
			if err != nil || c == moderationv1.Capability_CAPABILITY_UNSPECIFIED {
				return usageError(fs, fmt.Sprintf("flag -restricts: %q is not broadcast or friend_add", name))
			}
			req.Restricts = append(req.Restricts, c)
		}
	}
	if *requestID == "" {
		*requestID = rand.Text()
	}
	d, err := call(ctx, client, *action+" "+req.Account, func(ctx context.Context, conn *grpc.ClientConn) (*moderationv1.Decision, error) {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", *requestID)
		return moderationv1.NewReviewServiceClient(conn).TakeAction(ctx, req)
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, d, true)
	}
	printDecision(stdout, d)
	return nil
}
