package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/pipeline"
	"moderation/policies"
)

// TestEarlierSendersJudgedAgain: a ring's members each broadcast once, in
// their own words, sending buyers to one WeChat id, and no one reacts, so
// the first has no later event of its own. An account named the id
// before them, but has since broadcast something else. When the second
// member raises the destination's count to the policy's level (3), the
// first is judged at that broadcast and limited with it; the account that
// moved on is not, its latest broadcast naming no one. With the
// re-judging removed, the first member stays allowed.
func TestEarlierSendersJudgedAgain(t *testing.T) {
	ctx := context.Background()
	pol, err := judge.Compile(ctx, policies.FS, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := pipeline.NewSimulator(pipeline.Config{}, pol)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	texts := []string{
		"限时特价！原价299元现在只要99元，加微信 deal5566 领取优惠券，立即抢购",
		"清仓大促销，全场五折包邮，私聊加V：deal5566 下单，数量有限先到先得",
		"爆款好物今日特惠只要59元！咨询请加微信 deal5566，前100名送赠品",
		"今日秒杀，买一送一，加微信 deal5566 抢购，错过再等一年",
	}
	seq := uint64(0)
	var ids []string
	feed := func(account, text string, at time.Time) string {
		seq++
		id := fmt.Sprintf("e%d", seq)
		ev := &moderation.Event{ID: id, Kind: moderation.KindBroadcast, Account: account, At: at,
			AccountInfo: &moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: start.AddDate(0, 0, -40)},
			Broadcast:   &moderation.Broadcast{ID: "b" + id, Text: text, Recipients: 500}}
		if err := sim.Feed(ctx, ev, seq); err != nil {
			t.Fatal(err)
		}
		return id
	}
	// moved on: named the id, then broadcast something else.
	feed("moved_on", texts[3], start.Add(-30*time.Hour)) // a day apart: within its quota
	feed("moved_on", "今日要闻：市政府发布新的公交线路调整通知，详情见官网。", start)
	for i, text := range texts[:3] {
		ids = append(ids, feed(fmt.Sprintf("ring%d", i), text, start.Add(2*time.Hour+time.Duration(i)*time.Hour)))
	}

	got := map[string]moderation.Decision{}
	for _, d := range sim.Decisions() {
		got[d.Account] = d
	}
	for i := range 3 {
		acct := fmt.Sprintf("ring%d", i)
		d, ok := got[acct]
		if !ok || d.Action.Severity() < moderation.ActionLimit.Severity() {
			t.Errorf("%s: got %v %v, want limited", acct, d.Action, d.Reasons)
			continue
		}
		// Judged at the broadcast that raised the count to the level: the
		// second member's, for the first two.
		if want := ids[max(i, 1)]; d.EventID != want {
			t.Errorf("%s: decided at event %s, want %s", acct, d.EventID, want)
		}
	}
	if d, ok := got["moved_on"]; ok {
		t.Errorf("moved_on, whose latest broadcast names no handle: got %v, want no decision", d.Action)
	}
}
