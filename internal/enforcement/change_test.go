package enforcement_test

import (
	"context"
	"testing"

	"moderation/internal/enforcement"
	"moderation/internal/moderation"
)

// staleKnown answers every account with the state it was given, however
// old: what a View that has not yet seen the latest write answers.
type staleKnown struct {
	st  *moderation.AccountState
	rev uint64
}

func (k staleKnown) Lookup(string) (*moderation.AccountState, uint64, bool) { return k.st, k.rev, true }

// TestApplyWithAStaleMemory: a change that starts from a state in memory
// older than the bucket's loses the compare-and-set, reads the bucket and
// decides again on the latest state; the stale answer is never written
// over the newer one, and the copy handed to fn is not the memory's own.
func TestApplyWithAStaleMemory(t *testing.T) {
	ctx := context.Background()
	js, streams, _ := jetStream(t)
	store := enforcement.NewStore(js, streams.Accounts)
	old := suspended("acct_s")
	rev, err := store.Put(ctx, old, 0)
	if err != nil {
		t.Fatal(err)
	}
	newer := suspended("acct_s")
	newer.Current.Action = moderation.ActionClose
	if _, err := store.Put(ctx, newer, rev); err != nil {
		t.Fatal(err)
	}
	store.Known = staleKnown{st: old, rev: rev}

	var seen []moderation.Action
	_, err = store.Apply(ctx, moderation.PathJudge, "acct_s", func(st *moderation.AccountState) (*moderation.Change, error) {
		seen = append(seen, st.Current.Action)
		st.StrikeTimes = append(st.StrikeTimes, st.Current.At) // changing the copy must not change memory
		next := *st
		next.EventSeq = 7
		return &moderation.Change{State: &next}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != moderation.ActionSuspend || seen[1] != moderation.ActionClose {
		t.Errorf("fn saw %v; want the stale suspend first, then, after the conflict, the stored close", seen)
	}
	got, _, err := store.Get(ctx, "acct_s")
	if err != nil {
		t.Fatal(err)
	}
	if got.Current.Action != moderation.ActionClose || got.EventSeq != 7 {
		t.Errorf("stored %s at event %d; want the change made on the close", got.Current.Action, got.EventSeq)
	}
	if len(old.StrikeTimes) != 0 {
		t.Errorf("the state in memory was changed through the copy handed to fn: %v", old.StrikeTimes)
	}
}
