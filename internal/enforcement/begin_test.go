package enforcement_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// change is fn for a change to action at event seq, with its decision.
func change(account string, seq uint64, action moderation.Action) func(*moderation.AccountState) (*moderation.Change, error) {
	return func(st *moderation.AccountState) (*moderation.Change, error) {
		if st != nil && seq <= st.EventSeq {
			return nil, nil
		}
		d := &moderation.Decision{Account: account, Action: action, DecisionID: moderation.DecisionID(account, fmt.Sprint("e", seq)),
			Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "many"}}}
		return &moderation.Change{State: &moderation.AccountState{Account: account, Current: d, EventSeq: seq}, Decisions: []*moderation.Decision{d}}, nil
	}
}

// begin starts a change and waits for its outcome, as a lane does later.
func begin(t *testing.T, store *enforcement.Store, account string, from *enforcement.StateAt, fn func(*moderation.AccountState) (*moderation.Change, error)) (*enforcement.Write, enforcement.StateAt, error) {
	t.Helper()
	called := make(chan *enforcement.Write, 1)
	w, err := store.Begin(context.Background(), moderation.PathJudge, account, from, fn, func(w *enforcement.Write) { called <- w })
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the write never ended")
	}
	if w.Change != nil && w.Change.State != nil {
		if got := <-called; got != w {
			t.Fatal("done was called with another write")
		}
	}
	at, err := w.Result()
	return w, at, err
}

// decisionsOn is the decisions the stream holds for an account, in order.
func decisionsOn(t *testing.T, js jetstream.JetStream, account string) []string {
	t.Helper()
	ctx := context.Background()
	stream, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := uint64(1); ; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			info, _ := stream.Info(ctx)
			if seq > info.State.LastSeq {
				return ids
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject == "mod.enforcement."+account {
			ids = append(ids, msg.Header.Get(nats.MsgIdHdr))
		}
	}
}

// TestBeginWritesThenPublishes: a change begun without waiting is stored
// at the revision its Result gives, its decision published once; the next
// change, started from that Result, is written over it without a
// conflict, even though nothing else has read the bucket since; a change
// started from a stale revision fails as a conflict and publishes
// nothing, leaving the stored state as it was.
func TestBeginWritesThenPublishes(t *testing.T) {
	ctx := context.Background()
	js, streams, _ := jetStream(t)
	store := enforcement.NewStore(js, streams.Accounts)
	const acct = "acct_b"

	_, first, err := begin(t, store, acct, nil, change(acct, 1, moderation.ActionWarn))
	if err != nil {
		t.Fatal(err)
	}
	st, rev, err := store.Get(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if rev != first.Rev || st.Current.Action != moderation.ActionWarn || len(st.Outbox) != 1 {
		t.Fatalf("stored %+v at revision %d; Result said revision %d", st, rev, first.Rev)
	}

	_, second, err := begin(t, store, acct, &first, change(acct, 2, moderation.ActionLimit))
	if err != nil {
		t.Fatalf("a change from the first's Result: %v", err)
	}
	if second.Rev <= first.Rev || second.State.Current.Action != moderation.ActionLimit {
		t.Fatalf("second change: %+v", second)
	}

	// From the first's revision again: another write (the second) came
	// since.
	w, _, err := begin(t, store, acct, &first, change(acct, 3, moderation.ActionSuspend))
	if !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("a change from a stale revision: %v; want a conflict", err)
	}
	if w.Change == nil || w.Change.State == nil {
		t.Fatal("the stale change asked for nothing")
	}
	st, rev, err = store.Get(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if rev != second.Rev || st.Current.Action != moderation.ActionLimit {
		t.Errorf("after the conflict the bucket holds %s at revision %d; want the second change's limit at %d", st.Current.Action, rev, second.Rev)
	}

	// Nothing to change: done at once, nothing written.
	w, at, err := begin(t, store, acct, &second, change(acct, 2, moderation.ActionClose))
	if err != nil || at.State != nil || (w.Change != nil && w.Change.State != nil) {
		t.Errorf("an event applied before: %+v, %+v, %v; want nothing written", w.Change, at, err)
	}

	want := []string{moderation.DecisionID(acct, "e1"), moderation.DecisionID(acct, "e2")}
	if got := decisionsOn(t, js, acct); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("decisions published: %v; want %v (none for the change that lost)", got, want)
	}
}

// TestBeginPrefersANewerKnownState: the caller's own last write is used
// only while Known has nothing later; a later write by another path, once
// Known has it, is where the change starts, so it does not lose a
// compare-and-set it could have won.
func TestBeginPrefersANewerKnownState(t *testing.T) {
	ctx := context.Background()
	js, streams, _ := jetStream(t)
	store := enforcement.NewStore(js, streams.Accounts)
	const acct = "acct_k"
	_, first, err := begin(t, store, acct, nil, change(acct, 1, moderation.ActionWarn))
	if err != nil {
		t.Fatal(err)
	}
	manual := suspended(acct)
	manual.EventSeq = 1
	rev, err := store.Put(ctx, manual, first.Rev)
	if err != nil {
		t.Fatal(err)
	}
	store.Known = staleKnown{st: manual, rev: rev}
	var seen moderation.Action
	_, _, err = begin(t, store, acct, &first, func(st *moderation.AccountState) (*moderation.Change, error) {
		seen = st.Current.Action
		return change(acct, 2, moderation.ActionClose)(st)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != moderation.ActionSuspend {
		t.Errorf("fn saw %s; want the suspension Known holds, not the caller's older warning", seen)
	}
}
