package pipeline

import (
	"context"
	"slices"
	"strings"

	"moderation/detectors"
	"moderation/internal/judge"
	"moderation/internal/moderation"
)

// Judging a destination's earlier senders again. A ring member that
// broadcast once, while the ring was still small, kept a small count of
// the accounts naming its destination; its count is read again at its own
// later events (detectors' refreshShared), and one with none (no
// complaint, no unfollow) was never judged again. So when a broadcast
// raises a destination's count of accounts through a level the policy
// watches (destination_campaign.accounts), every other account that named
// it within the window, in any of its broadcasts, is judged at that
// broadcast with the count as it stands and the highest ad score of its
// broadcasts naming it (detectors.Account.WithDestination), if that
// crosses one of its own watched destination_campaign levels: a member
// that followed its ad with an ordinary post is judged by its ad.
//
// step finds them, in stream order, so what it finds is a function of the
// events alone. Each is judged where the sender's own events are, in
// order with them: handle in a lone instance, once the lanes finished
// the crossings handed to them before (and before it acknowledges the
// event); in partitioned mode the lane holding the sender's partition,
// which countAll queues it for (sendersdue.go); and the Simulator. A sender's own window is not
// changed (it keeps what its own events gave it), so a restart's rebuild
// gives the same windows; the decision records the broadcast that raised
// the count as its event. Judging happens at level crossings only, so a
// ring of n members costs a few judgings of at most n accounts.

// senderJudging is a destination's earlier sender to judge at the event
// that raised the destination's count.
type senderJudging struct {
	in *judgeInput
	ev *moderation.Event // the raising event's id, kind and time, for the sender
}

// findSenders records, for the caller of step to judge, the earlier
// senders of the destinations ev raised through a watched level. Callers
// hold mu, and have cleared the index's risen list before observing ev
// (an event not observed, a redelivery, then raises nothing).
func (p *Pipeline) findSenders(ev *moderation.Event) {
	p.senders = p.senders[:0]
	d := p.env.Destinations
	if d == nil || ev.Kind != moderation.KindBroadcast {
		return
	}
	risen := d.TakeRisen()
	if len(risen) == 0 {
		return
	}
	var dest []judge.Watched
	var levels []float64
	for _, m := range p.watching(moderation.KindBroadcast) {
		if strings.HasPrefix(m.Name, "destination_campaign.") {
			dest = append(dest, m)
			if m.Name == "destination_campaign.accounts" {
				levels = m.Levels
			}
		}
	}
	var seen map[string]bool
	for _, r := range risen {
		if !reachedAt(levels, r.Accounts) {
			continue
		}
		for _, id := range d.Senders(r.Destination) {
			if id == ev.Account || seen[id] {
				continue
			}
			w, ok := p.windows.Get(id)
			if !ok {
				continue
			}
			c, ok := w.det.WithDestination(id, r.Destination, p.env)
			if !ok || !raises(dest, &w.det, c, p.env) {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[id] = true
			p.senders = append(p.senders, senderJudging{
				in: &judgeInput{account: moderation.Account{ID: id, Type: c.Type(), Verified: c.Verified(), AgeDays: wholeDays(c.AgeDays())},
					signals: c.Signals(p.env)},
				ev: &moderation.Event{ID: ev.ID, Kind: ev.Kind, Account: id, At: ev.At},
			})
		}
	}
}

// reachedAt reports whether a count of n reaches a level that n-1 did not.
func reachedAt(levels []float64, n int) bool {
	return slices.ContainsFunc(levels, func(l float64) bool { return float64(n-1) < l && l <= float64(n) })
}

// raises reports whether after reaches a level of one of watched that
// before did not.
func raises(watched []judge.Watched, before, after *detectors.Account, env *detectors.Env) bool {
	for _, m := range watched {
		b, _ := before.Value(m.Name, env)
		a, _ := after.Value(m.Name, env)
		if m.Reached(a) > m.Reached(b) {
			return true
		}
	}
	return false
}

// takeSenders removes and returns the senders the last step found.
func (p *Pipeline) takeSenders() []senderJudging {
	p.mu.Lock()
	defer p.mu.Unlock()
	todo := slices.Clone(p.senders)
	p.senders = p.senders[:0]
	return todo
}

// judgeSenders judges senders at the event (sequence seq) that found them.
// It returns the first failure that is not permanent (stopping); a
// permanent one is logged and the next sender judged.
func (p *Pipeline) judgeSenders(ctx context.Context, todo []senderJudging, seq uint64) error {
	for _, s := range todo {
		if err := p.judgeSender(ctx, s, seq); err != nil {
			return err
		}
	}
	return nil
}

// judgeSender judges one sender at the event (sequence seq) that found
// it. It returns a failure that is not permanent (stopping); a permanent
// one is logged and counted.
func (p *Pipeline) judgeSender(ctx context.Context, s senderJudging, seq uint64) error {
	err := p.retry(ctx, func(ctx context.Context) error { return p.judge(ctx, s.in, s.ev, seq) })
	if err == nil {
		return nil
	}
	reason := permanentReason(err)
	if reason == "" {
		return err
	}
	p.metrics.permanent(reason)
	p.log.Error("judging a destination's earlier sender failed for good", "seq", seq, "account", s.ev.Account, "event", s.ev.ID, "reason", reason, "err", err)
	return nil
}
