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
// the first has no later event of its own. Another member sent its ad a
// day before them and has since posted something ordinary. When the
// second member raises the destination's count to the policy's level
// (3), the first and the one that moved on are judged at that broadcast
// and limited with it: any ad naming the id within 72 hours counts, not
// only the latest broadcast. An account whose ad named the id 80 hours
// before is not, its ad out of the window; nor is an honest shop whose
// site three spammers name, its own notices naming it reading as no ad.
// With the re-judging removed, the first member stays allowed.
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
	news := "今日要闻：市政府发布新的公交线路调整通知，详情见官网。"
	feed("stale", texts[3], start.Add(-80*time.Hour))
	feed("stale", news, start.Add(-50*time.Hour))
	// moved on: named the id in an ad, then broadcast something else.
	feed("moved_on", texts[3], start.Add(-30*time.Hour)) // a day apart: within its quota
	feed("moved_on", news, start)
	for i, text := range texts[:3] {
		ids = append(ids, feed(fmt.Sprintf("ring%d", i), text, start.Add(2*time.Hour+time.Duration(i)*time.Hour)))
	}
	// An honest shop's notices name its site; then three spammers' ads do.
	feed("shop", "本店周一盘点停业一天，营业时间和最新消息见 lilysbakery.com.cn", start.Add(-20*time.Hour))
	feed("shop", "今日菜价：白菜2.1元/斤，土豆1.8元/斤，详情见 lilysbakery.com.cn，热线 13812345678", start.Add(5*time.Hour))
	for i, text := range []string{
		"限时特价！原价299元现在只要99元，详见 lilysbakery.com.cn 领取优惠券，立即抢购",
		"清仓大促销，全场五折包邮，上 lilysbakery.com.cn 下单，数量有限先到先得",
		"爆款好物今日特惠只要59元！抢购请上 lilysbakery.com.cn，前100名送赠品",
	} {
		feed(fmt.Sprintf("spam%d", i), text, start.Add(6*time.Hour+time.Duration(i)*time.Hour))
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
	if d, ok := got["moved_on"]; !ok || d.Action.Severity() < moderation.ActionLimit.Severity() || d.EventID != ids[1] {
		t.Errorf("moved_on, its ad naming the id a day before, then an ordinary post: got %v at %s (%v), want limited at %s", d.Action, d.EventID, d.Reasons, ids[1])
	}
	for _, acct := range []string{"stale", "shop"} {
		if d, ok := got[acct]; ok {
			t.Errorf("%s: got %v %v, want no decision", acct, d.Action, d.Reasons)
		}
	}
	if d := got["spam2"]; d.Action.Severity() < moderation.ActionLimit.Severity() {
		t.Errorf("spam2, the third spammer naming the shop's site: got %v, want limited", d.Action)
	}
}
