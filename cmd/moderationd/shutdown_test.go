package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// TestSIGTERMLogsNoWarnings: a normal stop, with events in flight, a
// watch open and calls made, is not a fault, so it logs nothing at WARN
// or ERROR: an operator's alert on those levels must not fire on every
// deploy.
func TestSIGTERMLogsNoWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	p := start(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := moderationv1.NewModerationServiceClient(p.dial(t))

	// A watch open across the stop, as platform services keep one.
	watch, err := api.WatchEnforcement(ctx, &moderationv1.WatchEnforcementRequest{FromSequence: 1})
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan error, 1)
	go func() {
		for {
			if _, err := watch.Recv(); err != nil {
				changes <- err
				return
			}
		}
	}()

	// Enough friend requests to strangers that accounts are judged and
	// events are still in flight when SIGTERM comes.
	created := timestamppb.New(time.Now().Add(-12 * time.Hour))
	for batch := range 3 {
		var evs []*moderationv1.Event
		for i := range 1000 {
			evs = append(evs, &moderationv1.Event{
				Id: fmt.Sprintf("e-%d-%d", batch, i), Kind: "friend_add", Account: fmt.Sprintf("acct_%d", i%5), At: timestamppb.Now(),
				AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: created},
				Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("t_%d_%d", batch, i), Source: "search"}},
			})
		}
		if _, err := api.Ingest(ctx, &moderationv1.IngestRequest{Events: evs}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
	}
	if _, err := api.Check(ctx, &moderationv1.CheckRequest{Account: "acct_1"}); err != nil {
		t.Fatalf("check: %v", err)
	}

	began := time.Now()
	p.stop(t, 10*time.Second)
	<-changes // the watch ended with the service
	took := time.Since(began)
	t.Logf("exited 0 in %s", took.Round(time.Millisecond))
	// The open watch ends when the stop begins: it does not hold the stop
	// to gRPC's 3-second graceful deadline.
	if took > 2500*time.Millisecond {
		t.Errorf("got %s from SIGTERM to exit with a watch open, want well under the 3 s graceful deadline", took.Round(time.Millisecond))
	}
	log := p.logText()
	if !strings.Contains(log, `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log")
	}
	for line := range strings.Lines(log) {
		var rec struct{ Level string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if rec.Level == "WARN" || rec.Level == "ERROR" {
			t.Errorf("got %s, want no warning or error on a normal stop", strings.TrimSpace(line))
		}
	}
}
