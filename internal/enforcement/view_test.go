package enforcement_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
)

// jetStream is an embedded NATS server with JetStream on a random port
// and the service's streams and buckets.
func jetStream(t *testing.T) (jetstream.JetStream, *natsbus.Streams, *nats.Conn) {
	t.Helper()
	nc, js := natstest.Start(t).Connect(t, natsbus.RoleService)
	streams, err := natsbus.Setup(context.Background(), js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return js, streams, nc
}

func suspended(account string) *moderation.AccountState {
	until := time.Now().Add(time.Hour)
	return &moderation.AccountState{Account: account, Current: &moderation.Decision{Account: account, Action: moderation.ActionSuspend,
		DecisionID: moderation.DecisionID(account, "e"), Until: &until,
		Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "312 friend requests in 1h"}}}}
}

// TestViewBeyondItsBound holds far more states than the cache may keep:
// every account with a state is still answered correctly (read back from
// the bucket when evicted), and accounts without one are clear.
func TestViewBeyondItsBound(t *testing.T) {
	js, streams, nc := jetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := enforcement.NewStore(js, streams.Accounts)
	const accounts = 300
	for i := range accounts {
		if _, err := store.Put(ctx, suspended(fmt.Sprintf("acct_%d", i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	// About 20 states fit in 16 KB.
	view, err := enforcement.Watch(ctx, streams.Accounts, 16<<10, nc.IsConnected, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-view.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("view never loaded")
	}
	for i := range accounts {
		account := fmt.Sprintf("acct_%d", i)
		st := view.Get(account)
		if st == nil || st.Account != account || st.Effective(time.Now()) != moderation.ActionSuspend {
			t.Fatalf("%s: got %+v, want its suspension", account, st)
		}
	}
	for i := range 100 {
		if st := view.Get(fmt.Sprintf("never_%d", i)); st != nil {
			t.Fatalf("never_%d: got %+v, want nil", i, st)
		}
	}
	if view.Stale() {
		t.Error("view reports stale while NATS is up and loaded")
	}
}

// TestViewFollowsUpdatesAndDeletes: a newer state replaces the cached one
// and a deleted key clears the account.
func TestViewFollowsUpdatesAndDeletes(t *testing.T) {
	js, streams, nc := jetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := enforcement.NewStore(js, streams.Accounts)
	view, err := enforcement.Watch(ctx, streams.Accounts, 0, nc.IsConnected, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	<-view.Ready()
	rev, err := store.Put(ctx, suspended("acct_u"), 0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return view.Get("acct_u") != nil })
	restored := suspended("acct_u")
	restored.Current.Action = moderation.ActionRestore
	if _, err := store.Put(ctx, restored, rev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st := view.Get("acct_u")
		return st != nil && st.Effective(time.Now()) == moderation.ActionAllow
	})
	if err := streams.Accounts.Delete(ctx, "acct_u"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return view.Get("acct_u") == nil })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
