package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"moderation/internal/moderation"
)

// TestStoppingIsNotARefusal: an evaluation cut short because the pipeline
// is stopping (its context cancelled) is an error that leaves the event
// unacknowledged, to be judged again, not a decision the policy refused
// (counted, logged at ERROR, and the event acknowledged without one).
func TestStoppingIsNotARefusal(t *testing.T) {
	p := embeddedSimulator(t).p
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	in := &judgeInput{
		account: moderation.Account{ID: "acct_stop", Type: moderation.AccountPersonal, AgeDays: 2},
		signals: map[string]moderation.Signal{"bulk_add": {Name: "bulk_add", Values: map[string]float64{"hour_strangers": 120, "day_strangers": 120}}},
	}
	ev := &moderation.Event{ID: "e-stop", Kind: moderation.KindFriendAdd, Account: "acct_stop", At: at}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rule string
	ch, err := p.decide(ctx, in, ev, 7, &rule)(nil)
	if !errors.Is(err, context.Canceled) || ch != nil {
		t.Fatalf("decide while stopping: change %v, err %v; want no change and the cancellation", ch, err)
	}
	if got := counterValue(p.metrics.Refused); got != 0 {
		t.Errorf("decisions refused: %v, want 0", got)
	}
	// The same event judged again once running: the limit it asked for.
	ch, err = p.decide(context.Background(), in, ev, 7, &rule)(nil)
	if err != nil || ch == nil || ch.State.Current.Action != moderation.ActionLimit {
		t.Fatalf("decide when running: change %+v, err %v; want a limit", ch, err)
	}
}
