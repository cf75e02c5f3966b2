// Package traffic makes synthetic platform traffic for the bench, tests and
// demos: realistic, mostly benign, deterministic for a seed.
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
// accounts adding people they know, official accounts broadcasting and
// drawing the odd complaint, and a few new accounts adding strangers in
// bulk. Event time advances 10 ms per event. The same seed gives the same
// events.
func Synthetic(n int, seed uint64) ([]replay.Record, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	personal := max(n/50, 10)
	official := max(n/500, 4)
	bulk := max(n/5000, 5)
	introduced := make(map[string]bool)
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
		case x < 700:
			ev.Account = fmt.Sprintf("person_%d", r.IntN(personal))
			info = moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: base.AddDate(0, 0, -30-r.IntN(2000))}
			ev.Kind = moderation.KindFriendAdd
			source := []moderation.Source{moderation.SourceContact, moderation.SourceQR, moderation.SourceCard, moderation.SourceSearch, moderation.SourceGroup}[r.IntN(5)]
			ev.FriendAdd = &moderation.FriendAdd{Target: fmt.Sprintf("user_%d", r.IntN(1_000_000)), Source: source}
		case x < 900:
			ev.Account = fmt.Sprintf("official_%d", r.IntN(official))
			info = moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: base.AddDate(-2, 0, 0)}
			ev.Kind = moderation.KindBroadcast
			ev.Broadcast = &moderation.Broadcast{ID: fmt.Sprintf("b%d", i), Text: "This week in the city: three new exhibitions and a night market on Saturday.", Recipients: int64(1000 + r.IntN(100_000))}
		default:
			ev.Account = fmt.Sprintf("official_%d", r.IntN(official))
			info = moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: base.AddDate(-2, 0, 0)}
			ev.Kind = moderation.KindComplaint
			ev.Complaint = &moderation.Complaint{Reporter: fmt.Sprintf("user_%d", r.IntN(1_000_000)), Reason: "ads"}
		}
		if !introduced[ev.Account] {
			introduced[ev.Account] = true
			ev.AccountInfo = &info
		}
		data, err := events.EncodeJSON(ev)
		if err != nil {
			return nil, fmt.Errorf("encode synthetic event %d: %w", i, err)
		}
		h := nats.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(nats.MsgIdHdr, ev.ID)
		recs = append(recs, replay.Record{Subject: ev.Subject(), Header: h, Data: data})
	}
	return recs, nil
}
