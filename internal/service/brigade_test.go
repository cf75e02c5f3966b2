package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/pipeline"
	"moderation/internal/replay"
	"moderation/internal/service"
)

// TestPartitionedBrigadeRecords: the brigade review records of the
// brigaded-news fixture are the same, account for account and event for
// event, whether one instance judges every account or two instances in
// partitioned mode share them: each is written by the instance owning its
// account, once.
func TestPartitionedBrigadeRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("three services")
	}
	recs, err := replay.ReadFile("../../fixtures/scenarios/brigaded-news/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	alone := brigadesOf(t, runAlone(t, recs))
	if len(alone) < 2 {
		t.Fatalf("one instance alone recorded %d brigades, want one for each account complained about after its brigade showed: %v", len(alone), alone)
	}

	srv := natstest.Start(t)
	partitioned := func(c *service.Config) {
		c.NATSURL = srv.URL
		c.NATSExternal = natsbus.ExternalConfig{Creds: natsbus.CredsPath(srv.DataDir, natsbus.RoleService)}
		c.Partitioned = true
	}
	svcs := []*service.Service{startServiceWith(t, partitioned), startServiceWith(t, partitioned)}
	_, js := srv.Connect(t, natsbus.RoleService)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every partition drained", 2*time.Minute, func() bool {
		return svcs[0].Pipeline.Counted() >= uint64(len(recs)) && svcs[1].Pipeline.Counted() >= uint64(len(recs)) && allAcknowledged(ctx, t, js)
	})
	if shared := brigadesOf(t, js); !slices.Equal(alone, shared) {
		t.Errorf("brigade records differ:\n alone       %v\n partitioned %v", alone, shared)
	}
	t.Logf("%d brigade records, the same in both modes", len(alone))
}

// brigadesOf lists the brigade records on mod.audit.brigade.* as "account
// event reporters", sorted.
func brigadesOf(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{natsbus.AuditPrefix + "brigade.*"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for remaining := oc.CachedInfo().NumPending; remaining > 0; remaining-- {
		msg, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var r pipeline.BrigadeRecord
		if err := json.Unmarshal(msg.Data(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Account+" "+r.EventID+" "+fmtList(r.Reporters))
	}
	slices.Sort(out)
	return out
}

func fmtList(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}
