package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
	"moderation/internal/service"
	"moderation/internal/traffic"
)

// TestPartitionedInstancesShareTheWork: three instances in partitioned
// mode on one NATS share the 32 partitions (the first to pull gives up all
// but its share); one stops midway and the others take its partitions
// over; every event is processed, no event is decided twice, and the
// decisions are exactly those one instance alone makes of the same
// events.
func TestPartitionedInstancesShareTheWork(t *testing.T) {
	if testing.Short() {
		t.Skip("four services")
	}
	recs, err := traffic.Attack(8_000, 7)
	if err != nil {
		t.Fatal(err)
	}
	alone := decisionsOf(t, runAlone(t, recs))

	srv := natstest.Start(t)
	partitioned := func(c *service.Config) {
		c.NATSURL = srv.URL
		c.NATSExternal = natsbus.ExternalConfig{Creds: natsbus.CredsPath(srv.DataDir, natsbus.RoleService)}
		c.Partitioned = true
	}
	svcs := []*service.Service{startServiceWith(t, partitioned), startServiceWith(t, partitioned), startServiceWith(t, partitioned)}
	_, js := srv.Connect(t, natsbus.RoleService)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	half := len(recs) / 2
	if _, err := replay.Publish(ctx, js, recs[:half], nil); err != nil {
		t.Fatal(err)
	}
	processed := func() uint64 {
		var n uint64
		for _, s := range svcs {
			n += s.Pipeline.Processed()
		}
		return n
	}
	waitFor(t, "a quarter processed", time.Minute, func() bool { return processed() >= uint64(len(recs)/4) })
	// The first to pull holds every partition; once it counts the others
	// it gives up what is above its share (32 over 3: 11), for them to take
	// when their events come.
	waitFor(t, "the surplus given up", time.Minute, func() bool {
		held := 0
		for _, s := range svcs {
			held = max(held, ownedBy(t, s))
		}
		return held <= (natsbus.Partitions+2)/3
	})
	for i, s := range svcs {
		t.Logf("instance %d holds %d partitions", i, ownedBy(t, s))
	}
	for i, s := range svcs {
		t.Logf("instance %d before the stop: %d events acknowledged", i, s.Pipeline.Processed())
	}
	stopped := time.Now()
	svcs[0].Stop()
	if _, err := replay.Publish(ctx, js, recs[half:], nil); err != nil {
		t.Fatal(err)
	}
	tick := time.Now()
	waitFor(t, "every partition drained", 2*time.Minute, func() bool {
		if time.Since(tick) > 5*time.Second {
			tick = time.Now()
			for i, s := range svcs[1:] {
				t.Logf("instance %d: counted through %d, acknowledged %d", i+1, s.Pipeline.Counted(), s.Pipeline.Processed())
			}

		}
		return allAcknowledged(ctx, t, js)
	})
	t.Logf("all events acknowledged %s after one of three instances stopped", time.Since(stopped).Round(time.Millisecond))
	var after uint64
	for i, s := range svcs[1:] {
		t.Logf("instance %d: %d events acknowledged", i+1, s.Pipeline.Processed())
		after += s.Pipeline.Processed()
	}
	if after < uint64(len(recs)-half) {
		t.Errorf("the survivors acknowledged %d events, fewer than the %d published after the stop", after, len(recs)-half)
	}
	shared := decisionsOf(t, js)
	if len(alone) == 0 {
		t.Fatal("one instance alone decided nothing: the mix tests nothing")
	}
	if !slices.Equal(alone, shared) {
		t.Errorf("decisions differ: one instance made %d, three made %d", len(alone), len(shared))
		for _, d := range alone {
			if !slices.Contains(shared, d) {
				t.Logf("only alone: %s", d)
			}
		}
		for _, d := range shared {
			if !slices.Contains(alone, d) {
				t.Logf("only shared: %s", d)
			}
		}
	}
	t.Logf("%d events, %d decisions, the same as one instance's", len(recs), len(shared))
}

// ownedBy is how many partitions svc's lanes hold (moderation_partition_owned).
func ownedBy(t *testing.T, svc *service.Service) int {
	t.Helper()
	families, err := svc.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if f.GetName() == "moderation_partition_owned" {
			for _, m := range f.GetMetric() {
				if m.GetGauge().GetValue() == 1 {
					n++
				}
			}
		}
	}
	return n
}

// runAlone runs recs through one instance in the default mode and returns
// a connection to its streams.
func runAlone(t *testing.T, recs []replay.Record) jetstream.JetStream {
	t.Helper()
	svc := startService(t)
	_, js := publisher(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every event processed alone", 2*time.Minute, func() bool { return svc.Pipeline.Processed() >= uint64(len(recs)) })
	return svc.JS
}

// allAcknowledged reports whether every partition consumer has nothing
// pending or in flight.
func allAcknowledged(ctx context.Context, t *testing.T, js jetstream.JetStream) bool {
	t.Helper()
	s, err := js.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		return false
	}
	for p := range natsbus.Partitions {
		c, err := s.Consumer(ctx, natsbus.PartitionConsumer(p))
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
			return false
		}
	}
	return true
}

// decisionsOf lists every decision on mod.enforcement as
// "account action rule-or-reason decision_id", sorted, failing on a
// second decision for the same event.
func decisionsOf(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{natsbus.EnforcementPrefix + "*"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	for remaining := oc.CachedInfo().NumPending; remaining > 0; remaining-- {
		msg, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var d moderation.Decision
		if err := json.Unmarshal(msg.Data(), &d); err != nil {
			t.Fatal(err)
		}
		key := d.Account + " " + d.EventID
		if seen[key] {
			t.Errorf("event %s of %s decided twice", d.EventID, d.Account)
		}
		seen[key] = true
		code := ""
		if len(d.Reasons) > 0 {
			code = d.Reasons[0].Code
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", d.Account, d.Action, code, d.DecisionID))
	}
	slices.Sort(out)
	return out
}
