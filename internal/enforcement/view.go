package enforcement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// View answers "what is this account's enforcement?" from memory, kept
// fresh by a watch on the account-state bucket, so Check never waits on
// NATS.
//
// States live in a ristretto cache bounded in bytes. Beside it the view
// keeps the set of every account that has a state (8 bytes each), so a
// miss is answered without NATS for the accounts never judged, which are
// nearly all of them; only an account evicted from the cache is read back
// from the bucket.
type View struct {
	kv        jetstream.KeyValue
	cache     *ristretto.Cache[string, *entry]
	seed      maphash.Seed
	connected func() bool
	log       *slog.Logger

	// mu orders writes to the cache, so a state read back from the bucket
	// never replaces a newer one the watch delivered meanwhile; and guards
	// present.
	mu      sync.RWMutex
	present map[uint64]struct{}

	ready  chan struct{}
	loaded atomic.Bool
}

type entry struct {
	st  *moderation.AccountState
	rev uint64
}

// DefaultCacheBytes bounds the states held in memory unless told otherwise.
const DefaultCacheBytes = 64 << 20

// Watch starts a view over kv holding at most cacheBytes of states (0: the
// default); it follows updates until ctx ends, across NATS outages.
// connected reports whether NATS is reachable, so answers can say when they
// may be behind.
func Watch(ctx context.Context, kv jetstream.KeyValue, cacheBytes int64, connected func() bool, log *slog.Logger) (*View, error) {
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	cache, err := ristretto.NewCache(&ristretto.Config[string, *entry]{
		NumCounters: max(cacheBytes/100, 1000), // ~10 counters per state of ~1 KB
		MaxCost:     cacheBytes,
		BufferItems: 64,
	})
	if err != nil {
		return nil, fmt.Errorf("make account-state cache: %w", err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		cache.Close()
		return nil, fmt.Errorf("watch account states: %w", err)
	}
	v := &View{kv: kv, cache: cache, seed: maphash.MakeSeed(), connected: connected, log: log,
		present: make(map[uint64]struct{}), ready: make(chan struct{})}
	go v.follow(ctx, w)
	return v, nil
}

func (v *View) follow(ctx context.Context, w jetstream.KeyWatcher) {
	defer v.cache.Close()
	if natsbus.FollowKV(ctx, w, v.apply, v.markLoaded) {
		v.log.Warn("account-state watch ended; Check no longer follows the bucket")
	}
}

func (v *View) apply(e jetstream.KeyValueEntry) {
	key := maphash.String(v.seed, e.Key())
	if e.Operation() != jetstream.KeyValuePut {
		v.mu.Lock()
		delete(v.present, key)
		v.cache.Del(e.Key())
		v.mu.Unlock()
		return
	}
	st, err := decodeState(e.Key(), e.Value())
	if err != nil {
		// The previous state, if any, stays: the last one known is a
		// better answer for Check than none.
		natsbus.Skip(v.log, natsbus.SourceAccountStates, err, "key", e.Key(), "revision", e.Revision())
		return
	}
	v.mu.Lock()
	v.present[key] = struct{}{}
	v.set(e.Key(), &entry{st: st, rev: e.Revision()}, len(e.Value()))
	v.mu.Unlock()
}

// markLoaded is called once every stored state has been delivered.
func (v *View) markLoaded() {
	v.cache.Wait()
	v.loaded.Store(true)
	close(v.ready)
}

// set stores an entry. Once loaded it waits until the cache applied it, so
// the next writer under mu sees it; while loading only the watch writes
// (readBack does not cache), and the cache applies its writes in order, so
// the start need not wait on each of possibly millions. Callers hold mu.
func (v *View) set(account string, en *entry, size int) {
	// A state's cost is its stored size plus the decoded copy's overhead.
	v.cache.Set(account, en, int64(2*size+256))
	if v.loaded.Load() {
		v.cache.Wait()
	}
}

// decodeState reads the state stored under key; anything that is not one
// ("null" decodes without error) is moderation.ErrCorrupt.
func decodeState(key string, b []byte) (*moderation.AccountState, error) {
	var st moderation.AccountState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode state of %s: %w (%v)", key, moderation.ErrCorrupt, err)
	}
	if st.Account != key {
		return nil, fmt.Errorf("decode state of %s: %w (it names account %q)", key, moderation.ErrCorrupt, st.Account)
	}
	return &st, nil
}

// Ready is closed once every stored state has been loaded.
func (v *View) Ready() <-chan struct{} { return v.ready }

// Stale reports whether answers may be behind the account-state bucket:
// still loading, or NATS unreachable.
func (v *View) Stale() bool {
	return !v.loaded.Load() || (v.connected != nil && !v.connected())
}

// fallbackTimeout bounds the read of an evicted state: Check must answer
// even when NATS is slow.
const fallbackTimeout = 250 * time.Millisecond

// Get returns an account's state, nil when it has none, or when its state
// was evicted and cannot be read back (NATS unreachable; Stale says so).
func (v *View) Get(account string) *moderation.AccountState {
	if en, ok := v.cache.Get(account); ok {
		return en.st
	}
	key := maphash.String(v.seed, account)
	v.mu.RLock()
	_, has := v.present[key]
	v.mu.RUnlock()
	if !has {
		return nil
	}
	return v.readBack(account)
}

// Lookup answers an account's state and its revision from memory: ok is
// false when memory cannot say (the state was evicted, or the view is
// still loading), and the caller reads the bucket. It may lag a write by
// the watch's delay, so a writer must still compare-and-set against the
// revision it got. The state is shared with Check: do not change it.
func (v *View) Lookup(account string) (st *moderation.AccountState, rev uint64, ok bool) {
	if en, hit := v.cache.Get(account); hit {
		return en.st, en.rev, true
	}
	if !v.loaded.Load() {
		return nil, 0, false
	}
	v.mu.RLock()
	_, has := v.present[maphash.String(v.seed, account)]
	v.mu.RUnlock()
	return nil, 0, !has
}

// readBack reads an evicted state from the bucket and caches it again.
func (v *View) readBack(account string) *moderation.AccountState {
	ctx, cancel := context.WithTimeout(context.Background(), fallbackTimeout)
	defer cancel()
	e, err := v.kv.Get(ctx, account)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // a hash shared with another account
	}
	if err != nil {
		v.log.Debug("read back account state", "account", account, "err", err)
		return nil
	}
	st, err := decodeState(account, e.Value())
	if err != nil {
		natsbus.Skip(v.log, natsbus.SourceAccountStates, err, "key", account, "revision", e.Revision())
		return nil
	}
	if !v.loaded.Load() {
		return st // the watch is still loading: it will cache this account
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur, ok := v.cache.Get(account); ok && cur.rev >= e.Revision() {
		return cur.st // the watch delivered a newer state meanwhile
	}
	v.set(account, &entry{st: st, rev: e.Revision()}, len(e.Value()))
	return st
}
