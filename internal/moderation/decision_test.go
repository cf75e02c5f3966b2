package moderation

import (
	"slices"
	"testing"
	"time"
)

// TestStrikesWithout: lifting a measure takes back its episode's strike,
// dated at the episode's first measure of limit or stronger, which is
// earlier than the measure lifted when the episode escalated.
func TestStrikesWithout(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 3, n, 0, 0, 0, 0, time.UTC) }
	strikes := []time.Time{day(1), day(10), day(20)}
	tests := []struct {
		name   string
		lifted Decision
		want   []time.Time
	}{
		{"a suspension on the day of its strike", Decision{Action: ActionSuspend, At: day(20)}, []time.Time{day(1), day(10)}},
		{"a suspension the episode escalated to after its limit", Decision{Action: ActionSuspend, At: day(12)}, []time.Time{day(1), day(20)}},
		{"a closure", Decision{Action: ActionClose, At: day(25)}, []time.Time{day(1), day(10)}},
		{"a warning carries no strike", Decision{Action: ActionWarn, At: day(25)}, strikes},
		{"a measure before any strike", Decision{Action: ActionLimit, At: day(0)}, strikes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StrikesWithout(strikes, &tt.lifted)
			if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if !slices.EqualFunc(strikes, []time.Time{day(1), day(10), day(20)}, time.Time.Equal) {
		t.Error("the strikes given were changed")
	}
}
