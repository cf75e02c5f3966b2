package service_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"moderation/detectors/adtext"
	"moderation/internal/moderation"
	"moderation/internal/replay"
	"moderation/internal/traffic"
)

// mixSeed is not the seed of any scenario under fixtures/: the mix is
// other variants of the same classes.
const mixSeed = 20260330

// mixInstances is the labelled mix's size: a few instances of every
// class, rings and groups included (about 40,000 events), and coupon
// brands enough that their templates' near-duplicates would make a
// campaign of unverified accounts.
var mixInstances = map[traffic.Class]int{
	traffic.DisguisedAds: 12, traffic.HandleRing: 4, traffic.SlowDrip: 6, traffic.HarvestRing: 2, traffic.DormantWake: 8,
	traffic.BrigadedNews: 2, traffic.TradeFair: 2, traffic.PriceReports: 3, traffic.CouponBrand: 16, traffic.GroupAdmins: 8,
	traffic.Ordinary: 3,
}

// knownGaps are the classes the service does not yet judge right, each
// with the signal it waits for. A class here is reported, not failed; one
// that passes is reported so it can be taken off. (Quiet group admins and
// a ring's once-posting first members were gaps until woken accounts were
// judged by their strangers' answers and a destination's earlier senders
// were judged again as it grows; members that follow their ad with an
// ordinary post until any ad of theirs naming the destination counted:
// hidingMembersLimited holds them to it whatever the class's gap.)
var knownGaps = map[traffic.Class]string{
	// A ring with two or three handles now and then has only two of its
	// members name one of them within 72 hours (each once in other words,
	// or one sending its ad two days before the rest): two accounts naming
	// one handle are no campaign (the level is three), and nothing else
	// ties them to the ring. Seeds 1-20 miss 4 of 1,937.
	traffic.HandleRing: "a signal tying members that share no destination with the rest of the ring (the offer's own numbers, say)",
}

// TestLabelledMix generates a labelled mix of every evasion and look-alike
// in issue 11 with a seed of its own, runs it through the whole service
// and scores it from outside, by the strongest action on mod.enforcement
// per account: recall over the abusive accounts, and false positives (a
// legitimate account limited or worse), per class and in all.
// MIX_SEEDS=1-20 (or 3,7,9) runs other seeds instead, one service each.
func TestLabelledMix(t *testing.T) {
	if testing.Short() {
		t.Skip("the labelled mix takes a minute; run without -short")
	}
	seeds, err := mixSeeds(os.Getenv("MIX_SEEDS"))
	if err != nil {
		t.Fatalf("MIX_SEEDS: %v", err)
	}
	var tp, fn, fp, tn int
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s := scoreMix(t, seed, mixInstances)
			tp, fn, fp, tn = tp+s.TP, fn+s.FN, fp+s.FP, tn+s.TN
		})
	}
	if len(seeds) > 1 {
		t.Logf("%d seeds: recall %.3f (%d of %d abusive accounts limited or worse); false positives %d of %d legitimate accounts",
			len(seeds), float64(tp)/float64(max(tp+fn, 1)), tp, tp+fn, fp, fp+tn)
	}
}

// hidingMembersLimited: a handle-ring member whose latest broadcast names
// no destination, but whose ad before it named one that at least two other
// members named within the next 72 hours (the policy's level is three
// accounts), is limited or worse. The ring's known gap (two members alone
// on a handle) does not excuse it.
func hidingMembersLimited(t *testing.T, m *traffic.Mix, strongest map[string]moderation.Action) {
	t.Helper()
	type naming struct {
		account string
		at      time.Time
	}
	byAccount := map[string][]*moderation.Event{}
	named := map[string][]naming{}
	dests := func(text string) []string {
		var out []string
		for _, d := range adtext.Destinations(adtext.NormalText(text)) {
			if !d.Generic {
				out = append(out, d.Kind+":"+d.Value)
			}
		}
		return out
	}
	for _, ev := range m.Events { // in time order
		if ev.Kind != moderation.KindBroadcast || m.Labels[ev.Account].Class != traffic.HandleRing {
			continue
		}
		byAccount[ev.Account] = append(byAccount[ev.Account], ev)
		for _, d := range dests(ev.Broadcast.Text) {
			named[d] = append(named[d], naming{ev.Account, ev.At})
		}
	}
	hiding, limited := 0, 0
	for acct, evs := range byAccount {
		if len(evs) < 2 || len(dests(evs[len(evs)-1].Broadcast.Text)) > 0 {
			continue
		}
		ring := false
		for _, ad := range evs[:len(evs)-1] {
			for _, d := range dests(ad.Broadcast.Text) {
				others := map[string]bool{}
				for _, n := range named[d] {
					if n.account != acct && !n.at.Before(ad.At) && n.at.Before(ad.At.Add(72*time.Hour)) {
						others[n.account] = true
					}
				}
				ring = ring || len(others) >= 2
			}
		}
		if !ring {
			continue
		}
		hiding++
		if strongest[acct].Severity() >= moderation.ActionLimit.Severity() {
			limited++
		} else {
			t.Errorf("%s, a ring member whose ad was followed by an ordinary post: got %q, want limited or worse", acct, strongest[acct])
		}
	}
	t.Logf("handle-ring members hiding behind an ordinary post: %d of %d limited", limited, hiding)
}

// mixSeeds reads "a-b" or "a,b,c"; empty is mixSeed alone.
func mixSeeds(s string) ([]uint64, error) {
	if s == "" {
		return []uint64{mixSeed}, nil
	}
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil {
				return nil, err
			}
		}
		for x := a; x <= b; x++ {
			out = append(out, x)
		}
	}
	return out, nil
}

// TestWokenAccounts: old accounts the service never saw active, judged
// new when they start adding strangers, are told apart by how the people
// they asked answer. Quiet group admins, whose members mostly accept, are
// never limited; bought accounts waking to add strangers, many of them
// posing as group admins (group source, an admin's greeting and pace),
// are all limited once the strangers have answered. Ordinary users give
// the service the months of watching that make the quiet ones dormant.
func TestWokenAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a mix through the service; run without -short")
	}
	s := scoreMix(t, mixSeed+1, map[traffic.Class]int{traffic.GroupAdmins: 40, traffic.DormantWake: 24, traffic.Ordinary: 3})
	if s.FP > 0 || s.FN > 0 {
		t.Errorf("got %d group admins limited and %d woken abusers not limited, want none", s.FP, s.FN)
	}
}

// scoreMix runs one seed's mix of instances through a fresh service and
// checks it class by class.
func scoreMix(t *testing.T, seed uint64, instances map[traffic.Class]int) *traffic.Score {
	t.Helper()
	m := traffic.Labelled(seed, instances)
	s := publishMix(t, m)
	hidingMembersLimited(t, m, s.strongest)
	for _, c := range s.Classes {
		gap, known := knownGaps[c.Class]
		switch {
		case c.Pass() && known:
			t.Logf("%s: all %d accounts right with this seed (known gap elsewhere: %s)", c.Class, c.Accounts, gap)
		case !c.Pass() && known:
			t.Logf("%s: known gap, waiting for %s: %d of %d accounts right", c.Class, gap, c.Right, c.Accounts)
		case !c.Pass():
			t.Errorf("%s: got %d of %d accounts right, want all", c.Class, c.Right, c.Accounts)
		}
	}
	return s.Score
}

// scored is a mix's score with the strongest action each account got.
type scored struct {
	*traffic.Score
	strongest map[string]moderation.Action
}

// publishMix runs m through a fresh service and scores it from outside,
// logging the score and each wrong account with its reasons.
func publishMix(t *testing.T, m *traffic.Mix) scored {
	t.Helper()
	seed := m.Seed
	recs, err := m.Records(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t)
	nc, js := publisher(t, svc)
	w, err := traffic.WatchEnforcement(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatalf("replay: %v", err)
	}
	waitFor(t, "every event processed", 3*time.Minute, func() bool { return svc.Pipeline.Processed() >= uint64(len(recs)) })
	waitFor(t, "enforcement to settle", 30*time.Second, func() bool { return w.Quiet(500 * time.Millisecond) })

	strongest, bad := w.Strongest()
	if bad > 0 {
		t.Errorf("got %d messages on mod.enforcement that are not decisions, want 0", bad)
	}
	for account := range m.Labels {
		if d, ok := w.Decision(account); ok {
			checkStatement(t, &d)
		}
	}
	s := traffic.ScoreActions(m.Labels, strongest)
	var b strings.Builder
	s.Print(&b)
	t.Logf("labelled mix, seed %d, %d events, %d accounts:\n%s", seed, len(recs), len(m.Labels), b.String())
	for _, o := range s.Wrong {
		d, _ := w.Decision(o.Account)
		t.Logf("wrong: %s (%s) got %s %v", o.Account, o.Label.Class, o.Action, d.Reasons)
	}
	return scored{Score: s, strongest: strongest}
}

// TestLabelledMixWithoutHistory publishes the labelled mix as a platform
// would to a service that starts watching a week before the mix ends, so
// nothing of any account's past is on record (a scorer whose mix covers a
// week or two publishes no more). A bought account's silence cannot be
// seen then: it must be limited by how it asks strangers, and no
// legitimate account may be limited. Classes whose own history the cut
// removes (a slow drip's earlier weeks, a ring's first members) are
// reported, not failed.
func TestLabelledMixWithoutHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("three labelled mixes take a while; run without -short")
	}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			m := traffic.Labelled(seed, mixInstances).Since(traffic.End.Add(-7 * 24 * time.Hour))
			s := publishMix(t, m)
			for _, c := range s.Classes {
				if c.Class == traffic.DormantWake && !c.Pass() {
					t.Errorf("%s: got %d of %d accounts limited, want all: an old account with no activity on record is judged by the strangers it asks", c.Class, c.Right, c.Accounts)
				}
			}
			if s.FP > 0 {
				t.Errorf("got %d legitimate accounts limited or worse, want none", s.FP)
			}
		})
	}
}
