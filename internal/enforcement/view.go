package enforcement

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
)

// View answers "what is this account's enforcement?" from memory, kept
// fresh by a watch on the account-state bucket, so Check never waits on
// NATS. Only accounts with enforcement state are held, and every such
// account is loaded before the view reports ready, so a miss means clear.
type View struct {
	mu        sync.RWMutex
	accounts  map[string]*moderation.AccountState
	ready     chan struct{}
	loaded    atomic.Bool
	connected func() bool
	log       *slog.Logger
}

// Watch starts a view over kv; it follows updates until ctx ends, across
// NATS outages. connected reports whether NATS is reachable, so answers
// can say when they may be behind.
func Watch(ctx context.Context, kv jetstream.KeyValue, connected func() bool, log *slog.Logger) (*View, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch account states: %w", err)
	}
	v := &View{accounts: make(map[string]*moderation.AccountState), ready: make(chan struct{}), connected: connected, log: log}
	go v.follow(ctx, w)
	return v, nil
}

func (v *View) follow(ctx context.Context, w jetstream.KeyWatcher) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // the watcher's marker: every existing key has been sent
				if v.loaded.CompareAndSwap(false, true) {
					close(v.ready)
				}
				continue
			}
			v.apply(e)
		}
	}
}

func (v *View) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		v.mu.Lock()
		delete(v.accounts, e.Key())
		v.mu.Unlock()
		return
	}
	var st moderation.AccountState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		v.log.Error("account state unreadable; keeping the previous one", "account", e.Key(), "revision", e.Revision(), "err", err)
		return
	}
	v.mu.Lock()
	v.accounts[e.Key()] = &st
	v.mu.Unlock()
}

// Ready is closed once every stored state has been loaded.
func (v *View) Ready() <-chan struct{} { return v.ready }

// Stale reports whether answers may be behind the account-state bucket:
// still loading, or NATS unreachable.
func (v *View) Stale() bool {
	return !v.loaded.Load() || (v.connected != nil && !v.connected())
}

// Get returns an account's state, nil when it has none.
func (v *View) Get(account string) *moderation.AccountState {
	v.mu.RLock()
	st := v.accounts[account]
	v.mu.RUnlock()
	return st
}
