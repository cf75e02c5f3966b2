package judge_test

import (
	"context"
	"testing"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/policies"
)

// BenchmarkEvaluate is one policy evaluation at a level crossing, with the
// signals a bulk adder carries, asked again and again: after the first,
// the memo answers (what a wave of bulk adders alike pays per crossing).
// BenchmarkEvaluateMix is OPA's own cost, over both bench mixes' inputs.
func BenchmarkEvaluate(b *testing.B) {
	ctx := context.Background()
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		b.Fatal(err)
	}
	in := judge.Input{
		Account: moderation.Account{ID: "acct_1", Type: moderation.AccountPersonal, AgeDays: 2.5, Status: moderation.ActionWarn},
		Signals: map[string]moderation.Signal{
			"bulk_add":       {Values: map[string]float64{"hour_strangers": 100, "day_strangers": 180, "week_strangers": 180, "month_strangers": 180, "report_ratio": 0.05, "responses": 12}, Evidence: "100 friend requests to strangers in one hour"},
			"shared_targets": {Values: map[string]float64{"ring_accounts": 0, "overlap": 0, "shared": 0}},
		},
		Event: &moderation.Event{ID: "e1", Kind: moderation.KindFriendAdd, Account: "acct_1", At: time.Now()},
	}
	if _, err := pol.Evaluate(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pol.Evaluate(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
