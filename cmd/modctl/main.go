// Command modctl is the operator's and reviewer's tool: it replays event
// files into NATS, asks the service about accounts, and measures the
// pipeline against raw JetStream.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: modctl <command> [flags]

commands:
  replay FILE|DIR   publish fixture events (JSON Lines) to NATS, with progress
  check ACCOUNT...  ask the service whether accounts may act now
  decisions         list decisions, or show one with its statement of reasons
  watch             print enforcement changes as they are published
  timeline ACCOUNT  an account's status, signals, events, decisions and appeals
  action ACCOUNT    take a manual action (warn, limit, suspend, close, restore)
  appeals           the appeal queue; appeals claim ID and appeals decide ID answer one
  reevaluate        re-judge suspended and closed accounts under another policy, restoring who it clears
  audit             search the audit trail by account, actor, rule and time; export it as CSV or JSON Lines
  export sor        export statements of reasons in the EU DSA Transparency Database's batch JSON
  bench             measure the pipeline beside raw JetStream, in one run;
                    -check: gRPC Check beside a bare grpc-go server
  train             train the advertising model on labelled text
  eval              measure an advertising model (and a naive Bayes baseline) on labelled text
  score TEXT...     score texts with the advertising model: score, features, text as read
  backtest          replay retained events through a candidate policy and report what would change
  token             mint a bearer token for the gRPC API (audited by the service;
                    signed here with its key when it does not answer);
                    token revoke ID|TOKEN revokes one
  nats-creds        issue NATS credentials (publisher, follower) from the service's account key
  mix gen|score     generate a labelled mix of evasions and look-alikes; publish one
                    and score the service's actions from outside (recall, false positives)

check, decisions, watch, timeline, action, appeals, reevaluate, audit and
export call the service's gRPC API at -addr (MODERATION_GRPC_LISTEN) with
-token (MODERATION_TOKEN); without one, on the service's host, they mint an
admin token from its key under -data-dir.

run "modctl <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "modctl:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"replay":   replayCmd,
		"check":    checkCmd,
		"bench":    benchCmd,
		"train":    trainCmd,
		"eval":     evalCmd,
		"score":    scoreCmd,
		"backtest": backtestCmd,
		"token":    tokenCmd,
		// NATS credentials for the embedded server, from its account key.
		"nats-creds": natsCredsCmd,
		// Commands on the gRPC API, connecting through conn.go.
		"decisions":  decisionsCmd,
		"watch":      watchCmd,
		"timeline":   timelineCmd,
		"action":     actionCmd,
		"appeals":    appealsCmd,
		"reevaluate": reevaluateCmd,
		"audit":      auditCmd,
		"export":     exportCmd,
		// A labelled mix of evasions and look-alikes, and its score from outside.
		"mix": mixCmd,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// envOr is the value of an environment variable, or def; modctl reads the
// same MODERATION_* variables as the service so both find each other.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
