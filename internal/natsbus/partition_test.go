package natsbus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
)

// TestPartitionOfMatchesServer: the events stream stores each event under
// the partition its account hashes to, and PartitionOf, which the lanes
// check every event against, computes the same one.
func TestPartitionOfMatchesServer(t *testing.T) {
	s := natstest.Start(t)
	_, js := s.Connect(t, natsbus.RoleService)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	streams, err := natsbus.Setup(ctx, js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if _, err := js.Publish(ctx, fmt.Sprintf("mod.events.friend_add.acct_%d", i), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	oc, err := streams.Events.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	used := map[int]bool{}
	for i := range n {
		msg, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		account := fmt.Sprintf("acct_%d", i)
		want := fmt.Sprintf("mod.events.friend_add.%s.%d", account, natsbus.PartitionOf(account))
		if msg.Subject() != want {
			t.Fatalf("stored as %s, want %s", msg.Subject(), want)
		}
		if got := events.Partition(msg.Subject()); got != natsbus.PartitionOf(account) {
			t.Errorf("events.Partition(%s) = %d", msg.Subject(), got)
		}
		used[natsbus.PartitionOf(account)] = true
	}
	if len(used) != natsbus.Partitions {
		t.Errorf("%d accounts spread over %d partitions, want all %d", n, len(used), natsbus.Partitions)
	}
}
