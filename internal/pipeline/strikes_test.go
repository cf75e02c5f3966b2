package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/policies"
)

// episode is a year-old personal account adding n strangers, one every 9 s,
// starting at start. The first episode follows 100 days of ordinary use
// here (a contact added every 40 days), so the account's standing as an
// established one is on record.
func episode(account string, start time.Time, first bool, n int) []*moderation.Event {
	var evs []*moderation.Event
	if first {
		for i, days := range []int{100, 60, 20} {
			ev := &moderation.Event{ID: fmt.Sprintf("%s-known-%d", account, days), Kind: moderation.KindFriendAdd, Account: account,
				At: start.AddDate(0, 0, -days), FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("friend%d", days), Source: moderation.SourceContact}}
			if i == 0 {
				ev.AccountInfo = &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: start.AddDate(-1, 0, 0)}
			}
			evs = append(evs, ev)
		}
	}
	for i := 0; i < n; i++ {
		evs = append(evs, &moderation.Event{ID: fmt.Sprintf("%s-%s-%d", account, start.Format("0102"), i), Kind: moderation.KindFriendAdd, Account: account,
			At: start.Add(time.Duration(i) * 9 * time.Second), FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("s%d", i), Source: moderation.SourceSearch}})
	}
	return evs
}

// TestStrikesExpireAndRepeatedAbuseCloses runs episodes of bulk adding
// (each a limit on its own) through the live pipeline's judging with the
// embedded policy: a strike from 30 days ago escalates the next episode, one
// from 100 days ago has expired and does not, and the fourth episode
// within the strike window closes the account.
func TestStrikesExpireAndRepeatedAbuseCloses(t *testing.T) {
	pol, err := judge.Compile(context.Background(), policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if pol.StrikeExpiry != 90*24*time.Hour {
		t.Fatalf("strike expiry: got %s, want the 90 days of data.json", pol.StrikeExpiry)
	}
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		gaps  []int // days between episodes
		wants []moderation.Action
	}{
		{"a strike 30 days old escalates", []int{0, 30}, []moderation.Action{moderation.ActionLimit, moderation.ActionSuspend}},
		{"a strike 100 days old has expired", []int{0, 100}, []moderation.Action{moderation.ActionLimit, moderation.ActionLimit}},
		{"the fourth episode in the window closes", []int{0, 20, 20, 20}, []moderation.Action{moderation.ActionLimit, moderation.ActionSuspend, moderation.ActionSuspend, moderation.ActionClose}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := NewSimulator(Config{MaxStateBytes: 64 << 20}, pol)
			if err != nil {
				t.Fatal(err)
			}
			at, seq := start, uint64(0)
			for i, gap := range tt.gaps {
				// The account stays in use between episodes (a contact added
				// every 30 days): a silence of 60 days would make its next
				// episode a dormant account's waking, judged as new.
				for day := 30; day < gap; day += 30 {
					seq++
					ev := &moderation.Event{ID: fmt.Sprintf("keepalive-%d-%d", i, day), Kind: moderation.KindFriendAdd, Account: "acct_repeat",
						At: at.AddDate(0, 0, day), FriendAdd: &moderation.FriendAdd{Target: "an old friend", Source: moderation.SourceContact}}
					if err := sim.Feed(context.Background(), ev, seq); err != nil {
						t.Fatal(err)
					}
				}
				at = at.AddDate(0, 0, gap)
				before := len(sim.Decisions())
				for _, ev := range episode("acct_repeat", at, i == 0, 400) {
					seq++
					if err := sim.Feed(context.Background(), ev, seq); err != nil {
						t.Fatal(err)
					}
				}
				strongest := moderation.ActionAllow
				for _, d := range sim.Decisions()[before:] {
					if d.Action.Severity() > strongest.Severity() {
						strongest = d.Action
					}
				}
				if strongest != tt.wants[i] {
					t.Errorf("episode %d (day %d): got %s, want %s", i+1, int(at.Sub(start).Hours()/24), strongest, tt.wants[i])
				}
			}
		})
	}
}
