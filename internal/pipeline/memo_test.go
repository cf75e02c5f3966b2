package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/pipeline"
	"moderation/internal/traffic"
	"moderation/policies"
)

// TestMemoAnswersABulkAddWave: the bulk adders of the attack mix, new
// accounts crossing the same levels with the same counts, ask the policy
// alike, and the memo of verdicts answers a large share of those
// questions without OPA (about half; README, Speed). The whole mix's
// broadcasters ask with ad scores that differ per text, so it is not
// held to a share.
func TestMemoAnswersABulkAddWave(t *testing.T) {
	ctx := context.Background()
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := pipeline.NewSimulator(pipeline.Config{}, pol)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := traffic.Attack(20_000, 3)
	if err != nil {
		t.Fatal(err)
	}
	before := judge.MemoHits()
	for i, r := range recs {
		if !strings.Contains(r.Subject, "friend_add."+traffic.AttackPrefix+"new_") { // the bulk adders, not the established persons
			continue
		}
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := sim.Feed(ctx, ev, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	asked, hits := sim.Evaluations(), float64(judge.MemoHits()-before)
	t.Logf("bulk adds of the attack mix: %.0f questions to the policy, %.0f answered from the memo (%.0f%%), %d decisions", asked, hits, 100*hits/asked, len(sim.Decisions()))
	if asked < 50 || hits < 0.3*asked {
		t.Errorf("memo answered %.0f of %.0f questions; want at least 30%% of a wave of accounts alike", hits, asked)
	}

	// The whole mix, for the figure the README gives beside it.
	whole, err := pipeline.NewSimulator(pipeline.Config{}, pol)
	if err != nil {
		t.Fatal(err)
	}
	before = judge.MemoHits()
	for i, r := range recs {
		ev, err := events.Decode(r.Subject, r.Header.Get("Content-Type"), r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := whole.Feed(ctx, ev, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	asked, hits = whole.Evaluations(), float64(judge.MemoHits()-before)
	t.Logf("the whole attack mix: %.0f questions, %.0f answered from the memo (%.1f%%)", asked, hits, 100*hits/asked)
}
