package pipeline

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"moderation/internal/enforcement"
	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/traffic"
)

// TestPartitionedSendersJudgedInOrder: two partitioned instances judge a
// destination's earlier senders as one instance alone does, each by the
// lane holding its partition and in order with its own events (sendersdue.go),
// the last ones in partitions with no event after them included. Handle
// rings give the senders; the attack mix around them gives their lanes
// crossings of their own to judge first.
func TestPartitionedSendersJudgedInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := newPartWorld(t, ctx)
	mix := traffic.Labelled(5, map[traffic.Class]int{traffic.HandleRing: 3})
	rings, err := mix.Records(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wave, err := traffic.Attack(3_000, 7)
	if err != nil {
		t.Fatal(err)
	}
	// The rings' events, each after a slice of the wave, so both run at once.
	var recs []replay.Record
	per := max(len(wave)/len(rings), 1)
	for i, r := range rings {
		recs = append(recs, wave[min(i*per, len(wave)):min((i+1)*per, len(wave))]...)
		recs = append(recs, r)
	}
	if n := len(rings) * per; n < len(wave) {
		recs = append(recs, wave[n:]...)
	}
	sim, want := simulated(t, ctx, w.pol, recs)

	// Decisions made at another account's event: senders judged again.
	owner := map[string]string{}
	for _, r := range recs {
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			t.Fatal(err)
		}
		owner[ev.ID] = ev.Account
	}
	rejudged := 0
	for _, d := range sim.Decisions() {
		if owner[d.EventID] != d.Account {
			rejudged++
		}
	}
	cfg := Config{Location: time.UTC}
	a := w.start(t, enforcement.NewStore(w.js, w.streams.Accounts), cfg)
	b := w.start(t, enforcement.NewStore(w.js, w.streams.Accounts), cfg)
	if _, err := replay.Publish(ctx, w.pub, recs, nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "every event counted and acknowledged", func() bool {
		return a.p.Counted() == uint64(len(recs)) && b.p.Counted() == uint64(len(recs)) && w.settled(t, -1)
	})
	// Senders queued in partitions that had no event after them are judged
	// when their lane finds the partition idle.
	var got map[string][]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = w.decided(t)
		if cmp.Equal(want, got) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.halt(t)
	b.halt(t)
	if rejudged == 0 {
		t.Fatal("no account was decided at another's event alone: nothing here judges senders again")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions by account (-one instance alone +two partitioned):\n%s", diff)
	}
	for part := range natsbus.Partitions {
		if last := max(a.p.count.Load().lastDue(part), b.p.count.Load().lastDue(part)); last > 0 {
			t.Logf("partition %d: senders still queued, the newest due at %d (instances that did not hold it keep them until its holder acknowledges past them)", part, last)
		}
	}
	t.Logf("%d events, %d accounts decided, %d decisions made at another account's event", len(recs), len(got), rejudged)
}

// TestSnapshotKeepsQueuedSenders: a snapshot holds the senders queued for
// judging at events at or below it (a lane may not have judged an idle
// partition's yet), as they were queued, and not those queued later; a
// start from it queues them again under their partitions. A queued sender
// whose account id is not one is refused as corrupt.
func TestSnapshotKeepsQueuedSenders(t *testing.T) {
	cfg := Config{}.withDefaults()
	p := &Pipeline{cfg: cfg, windows: newWindowStore(cfg.MaxStateBytes), env: newEnv(cfg)}
	for i, ev := range accountMix(50) {
		p.observe(ev, uint64(i+1))
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC)
	sender := func(account string, seq uint64) dueJudging {
		return dueJudging{seq: seq, s: senderJudging{
			in: &judgeInput{account: moderation.Account{ID: account, Type: moderation.AccountSubscription, Verified: true, AgeDays: 12},
				signals: map[string]moderation.Signal{
					"destination_campaign": {Name: "destination_campaign", Values: map[string]float64{"accounts": 3, "ad_score": 0.81}, Evidence: "named wx lily_88, which 2 other accounts named in 3 days"},
					"ad_content":           {Name: "ad_content", Values: map[string]float64{"share": 0.5, "broadcasts": 2}},
				}},
			ev: &moderation.Event{ID: "b-" + account, Kind: moderation.KindBroadcast, Account: account, At: at},
		}}
	}
	// queued as a start from an earlier snapshot would queue them
	kept := []dueJudging{sender("oa_first", 40), sender("oa_second", 50)}
	p.snap.due = append(slices.Clone(kept), sender("oa_later", 51))
	p.count.Store(p.newCount())

	parts, _ := p.encodeSnapshot(50)
	rs, err := p.decodeSnapshot(bytes.Join(parts, nil), 50)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]dueJudging{}
	for _, d := range kept {
		want[d.s.ev.Account] = d
	}
	if len(rs.due) != len(kept) {
		t.Fatalf("restored %d queued senders, want %d (not the one queued after the snapshot)", len(rs.due), len(kept))
	}
	for _, got := range rs.due {
		w, ok := want[got.s.ev.Account]
		if !ok {
			t.Fatalf("restored a sender %s that was not queued at or below 50", got.s.ev.Account)
		}
		if got.seq != w.seq || !reflect.DeepEqual(*got.s.in, *w.s.in) || !reflect.DeepEqual(*got.s.ev, *w.s.ev) {
			t.Errorf("restored %+v %+v %+v, want %+v %+v %+v", got.seq, *got.s.in, *got.s.ev, w.seq, *w.s.in, *w.s.ev)
		}
	}
	// A start from it (runPartitioned's newCount) queues them again.
	p.snap.due = rs.due
	again := p.newCount()
	newest := map[int]uint64{}
	for _, d := range kept {
		part := natsbus.PartitionOf(d.s.ev.Account)
		newest[part] = max(newest[part], d.seq)
	}
	for part, seq := range newest {
		if got := again.lastDue(part); got != seq {
			t.Errorf("partition %d: newest sender queued again due at %d, want %d", part, got, seq)
		}
	}
	if p.snap.due != nil {
		t.Error("the restored senders were kept after the count took them")
	}

	p.snap.due = []dueJudging{sender("no such.account", 10)}
	p.count.Store(p.newCount())
	parts, _ = p.encodeSnapshot(50)
	if _, err := p.decodeSnapshot(bytes.Join(parts, nil), 50); err == nil {
		t.Error("a queued sender with an invalid account id: decoded, want refused")
	}
}
