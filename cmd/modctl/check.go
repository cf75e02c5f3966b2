package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	moderationv1 "moderation/api/moderation/v1"
)

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("MODERATION_GRPC_LISTEN", "127.0.0.1:50051"), "gRPC address of the service")
	capability := fs.String("capability", "", "broadcast or friend_add; empty asks whether anything is restricted")
	asJSON := fs.Bool("json", false, "print the response as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modctl check [flags] ACCOUNT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("check needs one ACCOUNT")
	}
	req := &moderationv1.CheckRequest{Account: fs.Arg(0)}
	switch *capability {
	case "":
	case "broadcast":
		req.Capability = moderationv1.Capability_CAPABILITY_BROADCAST
	case "friend_add":
		req.Capability = moderationv1.Capability_CAPABILITY_FRIEND_ADD
	default:
		return fmt.Errorf("flag -capability: %q is not broadcast or friend_add", *capability)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial %s: %w", *addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := moderationv1.NewModerationServiceClient(conn).Check(ctx, req)
	if err != nil {
		return fmt.Errorf("check %s: %w", req.Account, err)
	}
	if *asJSON {
		b, err := protojson.Marshal(resp)
		if err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
		var pretty json.RawMessage = b
		out, _ := json.MarshalIndent(pretty, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return nil
	}
	printCheck(stdout, resp)
	return nil
}

func printCheck(w io.Writer, r *moderationv1.CheckResponse) {
	status := strings.ToLower(strings.TrimPrefix(r.Status.String(), "STATUS_"))
	allowed := "yes"
	if !r.Allowed {
		allowed = "NO"
	}
	fmt.Fprintf(w, "account   %s\nstatus    %s\nallowed   %s\n", r.Account, status, allowed)
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
