package traffic

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// Watcher follows enforcement from outside the service, as a platform
// service does, and keeps the strongest action published for each
// account: what a labelled mix is scored by.
type Watcher struct {
	sub *nats.Subscription

	mu        sync.Mutex
	strongest map[string]moderation.Decision
	last      time.Time // when the last decision arrived
	bad       int       // messages that were not decisions
}

// WatchEnforcement subscribes to mod.enforcement.> on nc. Subscribe before
// publishing the mix, so no decision is missed.
func WatchEnforcement(nc *nats.Conn) (*Watcher, error) {
	w := &Watcher{strongest: map[string]moderation.Decision{}, last: time.Now()}
	sub, err := nc.Subscribe(natsbus.EnforcementPrefix+">", func(m *nats.Msg) {
		var d moderation.Decision
		err := json.Unmarshal(m.Data, &d)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.last = time.Now()
		if err != nil || d.Account == "" {
			w.bad++
			return
		}
		if cur, ok := w.strongest[d.Account]; !ok || d.Action.Severity() >= cur.Action.Severity() {
			w.strongest[d.Account] = d
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to enforcement: %w", err)
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe to enforcement: %w", err)
	}
	w.sub = sub
	return w, nil
}

// Mark restarts the quiet period now, as if a decision had arrived: call it
// when publishing ends, so a mix that draws no decisions for a while is
// not taken as settled before the service has read it.
func (w *Watcher) Mark() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = time.Now()
}

// Quiet reports whether no decision has arrived for d.
func (w *Watcher) Quiet(d time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Since(w.last) >= d
}

// Strongest is the strongest action seen per account, and how many
// messages on the subject were not decisions.
func (w *Watcher) Strongest() (map[string]moderation.Action, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]moderation.Action, len(w.strongest))
	for a, d := range w.strongest {
		out[a] = d.Action
	}
	return out, w.bad
}

// Decision is the strongest decision seen for account, if any.
func (w *Watcher) Decision(account string) (moderation.Decision, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.strongest[account]
	return d, ok
}

// Stop ends the subscription.
func (w *Watcher) Stop() error { return w.sub.Unsubscribe() }
