package traffic

import (
	"strings"
	"testing"
	"time"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/replay"
)

// decodeAll decodes records as the service would, failing the test on any
// it would dead-letter.
func decodeAll(t *testing.T, recs []replay.Record) []*moderation.Event {
	t.Helper()
	evs := make([]*moderation.Event, len(recs))
	for i, r := range recs {
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			t.Fatalf("event %d on %s is not valid: %v", i, r.Subject, err)
		}
		if r.Header.Get("Nats-Msg-Id") != ev.ID {
			t.Fatalf("event %d: message id %q, want the event id %q", i, r.Header.Get("Nats-Msg-Id"), ev.ID)
		}
		evs[i] = ev
	}
	return evs
}

// TestAttackKeepsToItsOwnAccounts: the bench judges the attack on the
// server the benign mix ran on, so no account and no event id (the
// stream's de-duplication key) may be shared with Synthetic's.
func TestAttackKeepsToItsOwnAccounts(t *testing.T) {
	const n = 20_000
	attack, err := Attack(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	benign, err := Synthetic(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	benignAccounts, benignIDs := map[string]bool{}, map[string]bool{}
	for _, ev := range decodeAll(t, benign) {
		benignAccounts[ev.Account], benignIDs[ev.ID] = true, true
	}
	for i, ev := range decodeAll(t, attack) {
		if !strings.HasPrefix(ev.Account, AttackPrefix) || benignAccounts[ev.Account] {
			t.Fatalf("event %d: account %q is not the attack's own", i, ev.Account)
		}
		if benignIDs[ev.ID] {
			t.Fatalf("event %d: id %q is also a benign event's", i, ev.ID)
		}
		if want := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 10 * time.Millisecond); !ev.At.Equal(want) {
			t.Fatalf("event %d at %v, want %v (10 ms apart)", i, ev.At, want)
		}
	}
}

// TestAttackIsAWave checks the shape the ratios rest on: broadcasters are
// official accounts sending exactly enough to reach their quota's limit
// level, complaints are about an ad the account sent, and bulk adders are
// new personal accounts that stop under the limit, between limit and
// suspension, or past suspension.
func TestAttackIsAWave(t *testing.T) {
	evs := decodeAll(t, mustAttack(t, 50_000, 7))
	infos := map[string]moderation.AccountInfo{}
	broadcasts := map[string]int{}
	ads := map[string]string{} // broadcast id -> account
	strangers := map[string]int{}
	kinds := map[moderation.Kind]int{}
	for i, ev := range evs {
		kinds[ev.Kind]++
		if ev.AccountInfo != nil {
			if _, seen := infos[ev.Account]; seen {
				t.Fatalf("event %d introduces %s a second time", i, ev.Account)
			}
			infos[ev.Account] = *ev.AccountInfo
		} else if _, seen := infos[ev.Account]; !seen {
			t.Fatalf("event %d: the first event of %s carries no account_info", i, ev.Account)
		}
		info := infos[ev.Account]
		switch {
		case ev.Kind == moderation.KindBroadcast && strings.HasPrefix(ev.Account, AttackPrefix+"ad_"):
			broadcasts[ev.Account]++
			ads[ev.Broadcast.ID] = ev.Account
		case ev.Kind == moderation.KindComplaint:
			if ads[ev.Complaint.BroadcastID] != ev.Account {
				t.Fatalf("event %d: complaint about %s names broadcast %q, not one of its ads", i, ev.Account, ev.Complaint.BroadcastID)
			}
		case ev.Kind == moderation.KindFriendAdd && ev.FriendAdd.Source.Stranger():
			if info.Type != moderation.AccountPersonal || ev.At.Sub(info.CreatedAt) > 30*24*time.Hour {
				t.Fatalf("event %d: %s adds strangers but is not a new personal account: %+v", i, ev.Account, info)
			}
			strangers[ev.Account]++
		}
	}
	for _, k := range []moderation.Kind{moderation.KindBroadcast, moderation.KindFriendAdd, moderation.KindComplaint, moderation.KindUnfollow, moderation.KindFriendResponse} {
		if kinds[k] == 0 {
			t.Errorf("no %s events", k)
		}
	}

	// Limit levels of the embedded policy (policies/data.json): the count
	// of broadcasts that limits each kind of official account.
	limitAt := func(info moderation.AccountInfo) int {
		switch {
		case info.Type == moderation.AccountService:
			return 7
		case info.Verified:
			return 5
		}
		return 3
	}
	reached := 0
	for acct, n := range broadcasts {
		info := infos[acct]
		if info.Type != moderation.AccountSubscription && info.Type != moderation.AccountService {
			t.Fatalf("%s broadcasts ads but is a %s account", acct, info.Type)
		}
		if n > limitAt(info) {
			t.Errorf("%s sent %d broadcasts, past the %d that limit it", acct, n, limitAt(info))
		}
		if n == limitAt(info) {
			reached++
		}
	}
	if len(broadcasts) < 1000 || reached < len(broadcasts)*9/10 {
		t.Errorf("%d of %d ad broadcasters reached their limit level, want many, nearly all", reached, len(broadcasts))
	}

	var under, limited, suspended int
	for _, n := range strangers {
		switch {
		case n >= 250:
			suspended++
		case n >= 100:
			limited++
		case n >= 40:
			under++
		}
	}
	for _, band := range []struct {
		name string
		n    int
	}{{"warned but under the limit (40-99)", under}, {"limited (100-249)", limited}, {"suspended (250 or more)", suspended}} {
		if band.n < 20 {
			t.Errorf("bulk adders %s: %d, want at least 20 of %d", band.name, band.n, len(strangers))
		}
	}
}

func mustAttack(t *testing.T, n int, seed uint64) []replay.Record {
	t.Helper()
	recs, err := Attack(n, seed)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("got %d events, want %d", len(recs), n)
	}
	return recs
}
