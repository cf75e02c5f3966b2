package webconsole

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/policies"
)

func embeddedConfig(t *testing.T) policyConfig {
	t.Helper()
	raw, err := policies.FS.ReadFile(policies.DataFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(string(raw))
	if cfg == nil {
		t.Fatal("the embedded data.json does not parse")
	}
	return cfg
}

func chartByID(charts []chart, id string) chart {
	for _, c := range charts {
		if c.ID == id {
			return c
		}
	}
	return chart{}
}

func levelsOf(c chart) string { return fmt.Sprint(c.Levels) }

// The levels drawn are data.json's for the account's type, verification
// and age: the test names where in data.json each should come from, so a
// retuned number does not break it but a wrong branch does.
func TestChartLevelsFollowTheAccount(t *testing.T) {
	cfg := embeddedConfig(t)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ev := func(kind string, info *moderationv1.AccountInfo, at time.Time) *moderationv1.TimelineEvent {
		e := &moderationv1.Event{Kind: kind, At: timestamppb.New(at), AccountInfo: info}
		if kind == "broadcast" {
			e.Body = &moderationv1.Event_Broadcast{Broadcast: &moderationv1.Broadcast{Text: "hello", Recipients: 10}}
		}
		return &moderationv1.TimelineEvent{Event: e}
	}
	ladder := []string{"warn", "limit", "suspend"}
	quota := func(keys ...string) string {
		q, _ := cfg.num(append(keys, "quota")...)
		return levelsOf(chart{Levels: append([]level{{"quota", q}}, cfg.levelsAt([]string{"warn", "limit"}, append(keys, "levels")...)...)})
	}
	for _, tc := range []struct {
		name                     string
		info                     *moderationv1.AccountInfo
		friends, quota, complain string
	}{
		{"new personal", &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-24 * time.Hour))},
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "bulk_add", "levels", "personal", "new")}), "[]",
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "complaint_rate", "levels", "personal")})},
		{"established personal", &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-400 * 24 * time.Hour))},
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "bulk_add", "levels", "personal", "established")}), "[]",
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "complaint_rate", "levels", "personal")})},
		{"unverified subscription", &moderationv1.AccountInfo{Type: "subscription"},
			"[]", quota("broadcast_quota", "quotas", "subscription", "unverified"),
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "complaint_rate", "levels", "subscription")})},
		{"verified service", &moderationv1.AccountInfo{Type: "service", Verified: true},
			"[]", quota("broadcast_quota", "quotas", "service", "verified"),
			levelsOf(chart{Levels: cfg.levelsAt(ladder, "complaint_rate", "levels", "service")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := []*moderationv1.TimelineEvent{ev("friend_add", tc.info, now.Add(-time.Hour)), ev("broadcast", tc.info, now.Add(-2*time.Hour))}
			charts := accountCharts(evs, cfg, kindOf(evs), now)
			for id, want := range map[string]string{"friends": tc.friends, "broadcasts": tc.quota, "complaints": tc.complain} {
				if got := levelsOf(chartByID(charts, id)); got != want {
					t.Errorf("%s levels %s, want %s", id, got, want)
				}
			}
			if tc.friends == "[]" && tc.quota == "[]" || tc.complain == "[]" {
				t.Fatal("the case expects no levels: its data.json paths are wrong")
			}
		})
	}
	// The cases are not all alike: the branches give different levels.
	a := levelsOf(chart{Levels: cfg.levelsAt(ladder, "bulk_add", "levels", "personal", "new")})
	b := levelsOf(chart{Levels: cfg.levelsAt(ladder, "bulk_add", "levels", "personal", "established")})
	if a == b || a == "[]" {
		t.Errorf("new and established levels %s and %s: the data.json paths are wrong", a, b)
	}
}

// Buckets run up to now, at least seven of them, at most the limit (the
// latest), and count every time in its bucket.
func TestBuckets(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	xs, ys := buckets([]time.Time{now.Add(-time.Minute), now.Add(-2 * time.Minute), now.Add(-3 * time.Hour)}, time.Hour, 100, now)
	if len(xs) != 7 || xs[6] != now.Truncate(time.Hour).Unix() || ys[6] != 2 || ys[3] != 1 {
		t.Errorf("short history: %v %v, want seven hours up to now with 1 three hours ago and 2 now", xs, ys)
	}
	xs, ys = buckets([]time.Time{now.Add(-500 * time.Hour), now}, time.Hour, 48, now)
	if len(xs) != 48 || ys[47] != 1 || ys[0] != 0 {
		t.Errorf("long history: %d buckets, want the latest 48 (%v)", len(xs), ys)
	}
	if xs, _ := buckets(nil, time.Hour, 48, now); xs != nil {
		t.Errorf("no times: %v, want no chart", xs)
	}
}
