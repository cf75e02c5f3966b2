package judge

import (
	"testing"
	"time"

	"moderation/internal/moderation"
)

// A measure lasts its duration from the event, but never from later than
// the moment it was judged: a burst dated 2100 must not earn a 24-hour
// limit that ends in 2100.
func TestUntilBoundedByJudgingTime(t *testing.T) {
	judged := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	orig := judgingClock
	judgingClock = func() time.Time { return judged }
	t.Cleanup(func() { judgingClock = orig })

	p := &Policy{Version: "test", AppealWindow: 180 * 24 * time.Hour}
	v := Verdict{Action: moderation.ActionLimit, Duration: "24h", Rule: "bulk_add", Title: "Bulk friend requests", Ground: "terms 4.2",
		Explanation: "too many", AutomatedDecision: "fully", Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "150 friend requests in 1h"}}}
	tests := []struct {
		name      string
		at        time.Time
		wantUntil time.Time
	}{
		{"event in the past: from the event, as a replay would", judged.Add(-3 * time.Hour), judged.Add(21 * time.Hour)},
		{"event at the judging time", judged, judged.Add(24 * time.Hour)},
		{"event a few minutes ahead (allowed skew): from the judging time", judged.Add(5 * time.Minute), judged.Add(24 * time.Hour)},
		{"event dated 2100", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), judged.Add(24 * time.Hour)},
		{"event dated 9999", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), judged.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &moderation.Event{ID: "e1", Kind: moderation.KindFriendAdd, Account: "acct_1", At: tt.at}
			d, err := p.Decide(v, "acct_1", ev, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d.Until == nil || !d.Until.Equal(tt.wantUntil) {
				t.Errorf("until: got %v, want %v", d.Until, tt.wantUntil)
			}
		})
	}
}
