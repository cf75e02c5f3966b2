// Package traffic makes synthetic platform traffic for the bench, tests and
// demos: realistic, mostly benign (Synthetic) or a spam wave (Attack),
// deterministic for a seed.
package traffic

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/replay"
)

// Synthetic makes n events of realistic, mostly benign traffic: personal
// accounts adding people they know and answering requests, official
// accounts each sending a broadcast (news, notices, the odd promotion) and
// drawing complaints and unfollows, and a few new accounts adding strangers
// in bulk. Event time advances 10 ms per event. The same seed gives the
// same events.
func Synthetic(n int, seed uint64) ([]replay.Record, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	personal := max(n/50, 10)
	bulk := max(n/5000, 5)
	introduced := make(map[string]bool)
	broadcasts := 0 // official accounts broadcast in turn, once each, as their quotas allow
	recs := make([]replay.Record, 0, n)
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		ev := &moderation.Event{ID: fmt.Sprintf("bench-%d-%d", seed, i), At: at}
		var info moderation.AccountInfo
		switch x := r.IntN(1000); {
		case x < 20: // 2%: new accounts adding strangers in bulk
			ev.Account = fmt.Sprintf("bulk_%d", r.IntN(bulk))
			info = moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.Add(-6 * time.Hour)}
			ev.Kind = moderation.KindFriendAdd
			ev.FriendAdd = &moderation.FriendAdd{Target: fmt.Sprintf("stranger_%d", r.IntN(1_000_000)), Message: "hi, add me for deals", Source: moderation.SourceSearch}
		case x < 820:
			ev.Account = fmt.Sprintf("person_%d", r.IntN(personal))
			info = moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.AddDate(0, 0, -30-r.IntN(2000))}
			ev.Kind = moderation.KindFriendAdd
			source := []moderation.Source{moderation.SourceContact, moderation.SourceQR, moderation.SourceCard, moderation.SourceSearch, moderation.SourceGroup}[r.IntN(5)]
			ev.FriendAdd = &moderation.FriendAdd{Target: fmt.Sprintf("user_%d", r.IntN(1_000_000)), Source: source}
		case x < 920:
			ev.Account = fmt.Sprintf("person_%d", r.IntN(personal))
			info = moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.AddDate(0, 0, -30-r.IntN(2000))}
			ev.Kind = moderation.KindFriendResponse
			answer := "accepted"
			if y := r.IntN(100); y < 3 {
				answer = "reported"
			} else if y < 15 {
				answer = "ignored"
			}
			ev.FriendResponse = &moderation.FriendResponse{Target: fmt.Sprintf("user_%d", r.IntN(1_000_000)), Response: answer}
		case x < 940 || broadcasts == 0:
			ev.Account = fmt.Sprintf("official_%d", broadcasts)
			info = officialInfo(r, base)
			broadcasts++
			ev.Kind = moderation.KindBroadcast
			ev.Broadcast = &moderation.Broadcast{ID: fmt.Sprintf("b%d", i), Text: broadcastText(r, broadcasts), Recipients: int64(1000 + r.IntN(100_000))}
		case x < 970:
			ev.Account = fmt.Sprintf("official_%d", r.IntN(broadcasts))
			info = officialInfo(r, base)
			ev.Kind = moderation.KindComplaint
			ev.Complaint = &moderation.Complaint{Reporter: fmt.Sprintf("user_%d", r.IntN(1_000_000)), Reason: []string{"ads", "spam", "other", "fraud"}[r.IntN(4)]}
		default:
			ev.Account = fmt.Sprintf("official_%d", r.IntN(broadcasts))
			info = officialInfo(r, base)
			ev.Kind = moderation.KindUnfollow
			ev.Unfollow = &moderation.Unfollow{Follower: fmt.Sprintf("user_%d", r.IntN(1_000_000))}
		}
		if !introduced[ev.Account] {
			introduced[ev.Account] = true
			ev.AccountInfo = &info
		}
		rec, err := record(ev)
		if err != nil {
			return nil, fmt.Errorf("encode synthetic event %d: %w", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// record encodes an event as a platform service publishes it: JSON, with
// the event id as the message id.
func record(ev *moderation.Event) (replay.Record, error) {
	data, err := events.EncodeJSON(ev)
	if err != nil {
		return replay.Record{}, err
	}
	h := nats.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(nats.MsgIdHdr, ev.ID)
	return replay.Record{Subject: ev.Subject(), Header: h, Data: data}, nil
}

func officialInfo(r *rand.Rand, base time.Time) moderation.AccountInfo {
	typ := moderation.AccountSubscription
	if r.IntN(10) < 3 {
		typ = moderation.AccountService
	}
	return moderation.AccountInfo{Type: typ, Verified: r.IntN(2) == 0, CreatedAt: base.AddDate(0, 0, -100-r.IntN(2000))}
}

var topics = []string{"exhibitions", "the night market", "road works on Main Street", "the school calendar", "flu vaccination", "the library's new hours",
	"a concert in the park", "river clean-up volunteers", "the marathon route", "new bus lines", "recycling days", "the spring fair"}

// broadcastText is an official account's message: mostly news and notices,
// about one in a hundred a promotion.
func broadcastText(r *rand.Rand, k int) string {
	if r.IntN(100) == 0 {
		return fmt.Sprintf("限时特价！原价%d元现在只要%d元，加V：wx%d 领取优惠券 https://t.cn/%d", 100+r.IntN(900), 9+r.IntN(90), r.IntN(100000), r.IntN(1_000_000))
	}
	return fmt.Sprintf("Update %d: this week, %s and %s. Details on our page.", k, topics[r.IntN(len(topics))], topics[r.IntN(len(topics))])
}
