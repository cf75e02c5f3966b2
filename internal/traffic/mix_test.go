package traffic

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"moderation/internal/events"
	"moderation/internal/moderation"
)

// one of each class.
func oneEach() map[Class]int {
	m := map[Class]int{}
	for _, c := range Classes {
		m[c] = 1
	}
	return m
}

func TestLabelledIsDeterministicPerSeed(t *testing.T) {
	a, b, c := Labelled(7, oneEach()), Labelled(7, oneEach()), Labelled(8, oneEach())
	if len(a.Events) != len(b.Events) {
		t.Fatalf("same seed: got %d and %d events, want the same", len(a.Events), len(b.Events))
	}
	for i := range a.Events {
		x, _ := json.Marshal(a.Events[i])
		y, _ := json.Marshal(b.Events[i])
		if string(x) != string(y) {
			t.Fatalf("same seed, event %d: got %s and %s", i, x, y)
		}
	}
	texts := func(m *Mix) string {
		var s []string
		for _, ev := range m.Events {
			if ev.Broadcast != nil {
				s = append(s, ev.Broadcast.Text)
			}
		}
		return strings.Join(s, "\n")
	}
	if texts(a) == texts(c) {
		t.Errorf("seeds 7 and 8 gave the same broadcast texts")
	}
}

func TestLabelledShapes(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		m := Labelled(seed, oneEach())
		perAccount := map[string][]*moderation.Event{}
		seen := map[string]bool{}
		for i, ev := range m.Events {
			if seen[ev.ID] {
				t.Fatalf("seed %d: event id %s twice", seed, ev.ID)
			}
			seen[ev.ID] = true
			if i > 0 && ev.At.Before(m.Events[i-1].At) {
				t.Fatalf("seed %d: event %d at %s before the one ahead of it", seed, i, ev.At)
			}
			if _, ok := m.Labels[ev.Account]; !ok {
				t.Fatalf("seed %d: %s has events but no label", seed, ev.Account)
			}
			if len(perAccount[ev.Account]) == 0 && ev.AccountInfo == nil {
				t.Fatalf("seed %d: %s's first event carries no account_info", seed, ev.Account)
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("seed %d: event %s invalid: %v", seed, ev.ID, err)
			}
			perAccount[ev.Account] = append(perAccount[ev.Account], ev)
		}
		for _, c := range Classes {
			if len(m.Accounts(c)) == 0 {
				t.Errorf("seed %d: no %s accounts", seed, c)
			}
		}
		// Sizes the issue names.
		sizes := map[Class][2]int{HandleRing: {10, 40}, HarvestRing: {20, 50}}
		for c, r := range sizes {
			if n := len(m.Accounts(c)); n < r[0] || n > r[1] {
				t.Errorf("seed %d: %s has %d accounts, want %d to %d", seed, c, n, r[0], r[1])
			}
		}
		for _, a := range m.Accounts(SlowDrip) {
			days := map[string]int{}
			for _, ev := range perAccount[a] {
				if ev.FriendAdd != nil {
					days[ev.At.Format(time.DateOnly)]++
				}
			}
			for d, n := range days {
				if n < 15 || n > 65 {
					t.Errorf("seed %d: slow drip %s adds %d on %s, want 20 to 60 or so", seed, a, n, d)
				}
			}
			if len(days) < 14 {
				t.Errorf("seed %d: slow drip %s adds on %d days, want 14 or more", seed, a, len(days))
			}
		}
	}
}

func TestRecordsAreInTheServicesTimeBounds(t *testing.T) {
	m := Labelled(3, oneEach())
	now := time.Now()
	recs, err := m.Records(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(m.Events) {
		t.Fatalf("got %d records, want %d", len(recs), len(m.Events))
	}
	for _, r := range recs {
		ev, err := events.Decode(r.Subject, "application/json", r.Data)
		if err != nil {
			t.Fatalf("record %s: %v", r.Subject, err)
		}
		if ev.At.Before(events.Earliest) || ev.At.After(now) {
			t.Fatalf("event %s at %s, want between %s and now", ev.ID, ev.At, events.Earliest)
		}
	}
}

func TestScoreActions(t *testing.T) {
	labels := map[string]Label{
		"a1": {Class: SlowDrip, Abusive: true}, "a2": {Class: SlowDrip, Abusive: true},
		"l1": {Class: TradeFair}, "l2": {Class: TradeFair},
	}
	s := ScoreActions(labels, map[string]moderation.Action{"a1": moderation.ActionSuspend, "l1": moderation.ActionWarn, "l2": moderation.ActionLimit})
	if s.TP != 1 || s.FN != 1 || s.FP != 1 || s.TN != 1 {
		t.Errorf("got TP %d FN %d FP %d TN %d, want 1 each", s.TP, s.FN, s.FP, s.TN)
	}
	if got := s.Recall(); got != 0.5 {
		t.Errorf("recall: got %v, want 0.5", got)
	}
	if s.Class(SlowDrip).Pass() || s.Class(TradeFair).Pass() {
		t.Errorf("got a class passing with a miss in it")
	}
}
