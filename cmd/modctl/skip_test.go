package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWatchAndDecisionsPassBadRecords: a message on an enforcement subject
// that is not a decision (the stream keeps it for good) stops neither
// modctl decisions nor modctl watch -from 1: both show the decisions on
// either side of it, and the watch goes on to the next one.
func TestWatchAndDecisionsPassBadRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := startService(t)
	api := []string{"-addr", svc.GRPCAddr, "-data-dir", os.Getenv("MODERATION_DATA_DIR")}
	cmd := func(args ...string) []string { return slices.Concat(args[:1], api, args[1:]) }
	warn := func(account string) {
		modctl(t, ctx, cmd("action", account, "-action", "warn", "-detail", "Sent 300 friend requests to strangers.", "-note", "ticket 9")...)
	}
	warn("acct_before")
	// svc.JS is the service's own connection: only the service may publish here.
	if _, err := svc.JS.Publish(ctx, "mod.enforcement.acct_before", []byte("not a decision")); err != nil {
		t.Fatal(err)
	}
	warn("acct_after")

	for _, args := range [][]string{{"decisions"}, {"decisions", "-all"}, {"decisions", "-limit", "1"}} {
		out := modctl(t, ctx, cmd(args...)...)
		want := []string{"acct_before", "acct_after"}
		if args[len(args)-1] == "1" {
			want = want[:1]
		}
		for _, a := range want {
			if !strings.Contains(out, a) {
				t.Errorf("modctl %s: got\n%s\nwant %s listed", strings.Join(args, " "), out, a)
			}
		}
		if len(want) == 1 && strings.Contains(out, "acct_after") {
			t.Errorf("modctl %s: got\n%s\nwant only the first page, without acct_after", strings.Join(args, " "), out)
		}
	}

	w := startWatch(t, ctx, cmd("watch", "-from", "1")...)
	eventually(t, "watch prints the decisions around the bad record", func() (string, bool) {
		out := w.out.String()
		return out, strings.Contains(out, "acct_before") && strings.Contains(out, "acct_after")
	})
	warn("acct_later")
	eventually(t, "watch goes on to the next decision", func() (string, bool) {
		out := w.out.String()
		return out, strings.Contains(out, "acct_later")
	})
	if err := w.end(t); err != nil {
		t.Errorf("interrupted watch: got %v, want a clean exit", err)
	}
	if s := w.errOut.String(); s != "" {
		t.Errorf("watch stderr: got %q, want nothing (the stream never broke)", s)
	}
}
