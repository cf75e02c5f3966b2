package appeals

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var qualityNow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// appealIn builds an appeal against rule under policy version in state s,
// filed age before qualityNow. An appeal in review holds a live claim; a
// test that wants the claim lapsed moves LeaseUntil back.
func appealIn(rule, version string, s State, age time.Duration) *Appeal {
	a := &Appeal{ID: rule + version + string(s) + age.String(), Rule: rule, PolicyVersion: version, State: s, FiledAt: qualityNow.Add(-age)}
	if s == InReview {
		a.LeaseUntil = qualityNow.Add(10 * time.Minute)
	}
	return a
}

func TestMeasure(t *testing.T) {
	lapsed := appealIn("bulk_add", "v2", InReview, 5*time.Hour)
	lapsed.LeaseUntil = qualityNow.Add(-time.Minute) // back in the queue
	tests := []struct {
		name       string
		all        []*Appeal
		want       map[RuleKey]RuleStats
		wantOldest time.Duration
	}{
		{"no appeals", nil, map[RuleKey]RuleStats{}, 0},
		{
			"every state, counted per rule and version",
			[]*Appeal{
				appealIn("bulk_add", "v1", Upheld, 72*time.Hour),
				appealIn("bulk_add", "v1", Overturned, 48*time.Hour),
				appealIn("bulk_add", "v2", Filed, 2*time.Hour),
				appealIn("bulk_add", "v2", InReview, 3*time.Hour),
				lapsed,
				appealIn("bulk_add", "v2", Modified, 30*time.Hour),
				appealIn("bulk_add", "v2", Withdrawn, 40*time.Hour),
				appealIn("ad_content", "v2", Upheld, 10*time.Hour),
			},
			map[RuleKey]RuleStats{
				{"bulk_add", "v1"}:   {Filed: 2, Upheld: 1, Overturned: 1},
				{"bulk_add", "v2"}:   {Filed: 5, Open: 3, InReview: 1, Modified: 1, Withdrawn: 1},
				{"ad_content", "v2"}: {Filed: 1, Upheld: 1},
			},
			5 * time.Hour, // the lapsed claim is the oldest still waiting
		},
		{
			"closed appeals leave no open age",
			[]*Appeal{appealIn("bulk_add", "v1", Withdrawn, 100*time.Hour), appealIn("bulk_add", "v1", Upheld, 90*time.Hour)},
			map[RuleKey]RuleStats{{"bulk_add", "v1"}: {Filed: 2, Upheld: 1, Withdrawn: 1}},
			0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Measure(tt.all, qualityNow)
			if diff := cmp.Diff(tt.want, q.ByRule); diff != "" {
				t.Errorf("stats by rule (-want +got):\n%s", diff)
			}
			if q.OldestOpen != tt.wantOldest {
				t.Errorf("oldest open: got %s, want %s", q.OldestOpen, tt.wantOldest)
			}
		})
	}
}

func TestOverturnRate(t *testing.T) {
	tests := []struct {
		name        string
		s           RuleStats
		wantDecided int
		wantRate    float64
	}{
		{"none decided", RuleStats{Filed: 3, Open: 2, Withdrawn: 1}, 0, 0},
		{"all upheld", RuleStats{Filed: 4, Upheld: 4}, 4, 0},
		{"modified counts as overturned", RuleStats{Filed: 4, Upheld: 2, Overturned: 1, Modified: 1}, 4, 0.5},
		{"withdrawn and open are not decided", RuleStats{Filed: 6, Open: 2, Withdrawn: 2, Overturned: 2}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Decided(); got != tt.wantDecided {
				t.Errorf("decided: got %d, want %d", got, tt.wantDecided)
			}
			if got := tt.s.OverturnRate(); got != tt.wantRate {
				t.Errorf("overturn rate: got %v, want %v", got, tt.wantRate)
			}
		})
	}
}

func TestFlagged(t *testing.T) {
	q := Quality{ByRule: map[RuleKey]RuleStats{
		{"bulk_add", "v2"}:        {Filed: 10, Upheld: 4, Overturned: 4, Modified: 2}, // 60% of 10
		{"bulk_add", "v1"}:        {Filed: 10, Upheld: 8, Overturned: 2},              // 20% of 10
		{"ad_content", "v2"}:      {Filed: 5, Overturned: 5},                          // 100% of 5
		{"broadcast_quota", "v2"}: {Filed: 2, Overturned: 2},                          // 100% of 2: too few
		{"reported", "v2"}:        {Filed: 8, Open: 8},                                // nothing decided
	}}
	tests := []struct {
		name       string
		level      float64
		minDecided int
		want       []Alert
	}{
		{"above half, at least 5 decided", 0.5, 5, []Alert{
			{Rule: "ad_content", PolicyVersion: "v2", Rate: 1, Overturned: 5, Decided: 5},
			{Rule: "bulk_add", PolicyVersion: "v2", Rate: 0.6, Overturned: 6, Decided: 10},
		}},
		{"the level itself is not above it", 0.6, 5, []Alert{
			{Rule: "ad_content", PolicyVersion: "v2", Rate: 1, Overturned: 5, Decided: 5},
		}},
		{"a low minimum lets small samples in", 0.9, 1, []Alert{
			{Rule: "ad_content", PolicyVersion: "v2", Rate: 1, Overturned: 5, Decided: 5},
			{Rule: "broadcast_quota", PolicyVersion: "v2", Rate: 1, Overturned: 2, Decided: 2},
		}},
		{"zero level and minimum still need a decided appeal", 0, 0, []Alert{
			{Rule: "ad_content", PolicyVersion: "v2", Rate: 1, Overturned: 5, Decided: 5},
			{Rule: "broadcast_quota", PolicyVersion: "v2", Rate: 1, Overturned: 2, Decided: 2},
			{Rule: "bulk_add", PolicyVersion: "v1", Rate: 0.2, Overturned: 2, Decided: 10},
			{Rule: "bulk_add", PolicyVersion: "v2", Rate: 0.6, Overturned: 6, Decided: 10},
		}},
		{"nothing that high", 1, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, q.Flagged(tt.level, tt.minDecided)); diff != "" {
				t.Errorf("flagged (-want +got):\n%s", diff)
			}
		})
	}
}
