// Package appealstore keeps appeals in a JetStream key-value bucket, one
// key per appeal id, each write a compare-and-set on the key's revision. A
// watch on the bucket keeps every appeal in memory as well, for the lists
// (the reviewer queue, an owner's appeals, quality metrics): appeals are
// few, thousands, next to the events. It knows NATS and the appeal types,
// not the appeal rules, gRPC or policies.
package appealstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/appeals"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
)

// KV is an appeals.Store over a JetStream key-value bucket.
type KV struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	// mu guards index. Both the watch and this instance's own writes update
	// it, in either order, so each entry carries its revision and only a
	// newer one replaces it.
	mu    sync.RWMutex
	index map[string]entry

	ready chan struct{}
}

// entry is an appeal as of a revision; a nil appeal marks a deleted key,
// kept so a slower write of an older revision cannot bring it back.
type entry struct {
	a   *appeals.Appeal
	rev uint64
}

var _ appeals.Store = (*KV)(nil)

// Open returns a store over kv and starts watching it; the watch follows
// the bucket until ctx ends. Ready is closed once the appeals already
// stored are in memory.
func Open(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) (*KV, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch appeals: %w", err)
	}
	s := &KV{kv: kv, log: log, index: make(map[string]entry), ready: make(chan struct{})}
	go s.follow(ctx, w)
	return s, nil
}

// Ready is closed once every stored appeal has been loaded.
func (s *KV) Ready() <-chan struct{} { return s.ready }

func (s *KV) follow(ctx context.Context, w jetstream.KeyWatcher) {
	if natsbus.FollowKV(ctx, w, s.applyEntry, func() { close(s.ready) }) {
		// Nobody else would notice lists going stale.
		s.log.Warn("appeal watch ended; lists no longer follow the bucket")
	}
}

func (s *KV) applyEntry(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		s.apply(e.Key(), nil, e.Revision())
		return
	}
	a, err := decode(e.Key(), e.Value())
	if err != nil {
		// Skipped, not fatal: the lists serve every other appeal, and the
		// previous version of this one if there was one.
		natsbus.Skip(s.log, natsbus.SourceAppeals, err, "key", e.Key(), "revision", e.Revision())
		return
	}
	s.apply(e.Key(), a, e.Revision())
}

// apply puts a at rev in the index unless the index already holds that
// revision or a later one.
func (s *KV) apply(id string, a *appeals.Appeal, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.index[id]; ok && cur.rev >= rev {
		return
	}
	s.index[id] = entry{a: a, rev: rev}
}

// decode reads the appeal stored under key; anything that is not one
// ("null" decodes without error) is moderation.ErrCorrupt.
func decode(key string, b []byte) (*appeals.Appeal, error) {
	var a appeals.Appeal
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode appeal %s: %w (%v)", key, moderation.ErrCorrupt, err)
	}
	if a.ID != key {
		return nil, fmt.Errorf("decode appeal %s: %w (it names appeal %q)", key, moderation.ErrCorrupt, a.ID)
	}
	return &a, nil
}

// Get reads an appeal from the bucket rather than from memory, so the
// revision it returns is the latest and an Update based on it can succeed.
func (s *KV) Get(ctx context.Context, id string) (*appeals.Appeal, uint64, error) {
	e, err := s.kv.Get(ctx, id)
	// An id that cannot be a key names no appeal.
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return nil, 0, fmt.Errorf("appeal %s not found: %w", id, moderation.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get appeal %s: %w", id, err)
	}
	a, err := decode(id, e.Value())
	if err != nil { // moderation.ErrCorrupt: this one appeal cannot be read
		return nil, 0, fmt.Errorf("revision %d: %w", e.Revision(), err)
	}
	return a, e.Revision(), nil
}

// Create stores a new appeal; moderation.ErrConflict when its id is taken,
// as when the same decision is appealed twice at once.
func (s *KV) Create(ctx context.Context, a *appeals.Appeal) (uint64, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return 0, fmt.Errorf("encode appeal %s: %w", a.ID, err)
	}
	rev, err := s.kv.Create(ctx, a.ID, b)
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return 0, fmt.Errorf("create appeal %s: it already exists: %w", a.ID, moderation.ErrConflict)
	case errors.Is(err, jetstream.ErrInvalidKey):
		return 0, fmt.Errorf("create appeal %q: %w", a.ID, moderation.Invalid("id", "must be an appeal id"))
	case err != nil:
		return 0, fmt.Errorf("create appeal %s: %w", a.ID, err)
	}
	s.stored(a.ID, b, rev)
	return rev, nil
}

// Update stores a if its key is still at rev; moderation.ErrConflict when
// another reviewer or instance wrote it first.
func (s *KV) Update(ctx context.Context, a *appeals.Appeal, rev uint64) (uint64, error) {
	if rev == 0 {
		// The bucket would take revision 0 as "must not exist" and create
		// the appeal; an update always starts from one that was read.
		return 0, fmt.Errorf("update appeal %s: %w", a.ID, moderation.Invalid("revision", "must be the revision the appeal was read at"))
	}
	b, err := json.Marshal(a)
	if err != nil {
		return 0, fmt.Errorf("encode appeal %s: %w", a.ID, err)
	}
	newRev, err := s.kv.Update(ctx, a.ID, b, rev)
	switch {
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("update appeal %s at revision %d: changed meanwhile: %w", a.ID, rev, moderation.ErrConflict)
	case errors.Is(err, jetstream.ErrInvalidKey):
		return 0, fmt.Errorf("update appeal %q: %w", a.ID, moderation.Invalid("id", "must be an appeal id"))
	case err != nil:
		return 0, fmt.Errorf("update appeal %s: %w", a.ID, err)
	}
	s.stored(a.ID, b, newRev)
	return newRev, nil
}

// stored applies this instance's own write to the index at once, so a
// List right after it sees it without waiting for the watch. It decodes
// what was written, rather than keeping a, so the index holds its own copy
// in the form every other instance reads.
func (s *KV) stored(id string, b []byte, rev uint64) {
	a, err := decode(id, b)
	if err != nil { // cannot happen for what we just encoded; the watch will still deliver it
		s.log.Error("appeal just written unreadable", "appeal", id, "revision", rev, "err", err)
		return
	}
	s.apply(id, a, rev)
}

// List returns copies of the appeals matching f, oldest filed first. It
// waits until the stored appeals are loaded, so it never answers with part
// of them.
func (s *KV) List(ctx context.Context, f appeals.Filter) ([]*appeals.Appeal, error) {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("list appeals: still loading: %w", ctx.Err())
	}
	// One instant for every appeal, so a lease running out mid-list cannot
	// count one appeal as filed and the next as in review.
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	var out []*appeals.Appeal
	s.mu.RLock()
	for _, e := range s.index {
		if e.a != nil && f.Match(e.a) {
			out = append(out, clone(e.a))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *appeals.Appeal) int {
		return cmp.Or(a.FiledAt.Compare(b.FiledAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// clone copies a deep enough that the caller may change it: its slices
// are the only parts shared.
func clone(a *appeals.Appeal) *appeals.Appeal {
	c := *a
	c.EvidenceURLs = slices.Clone(a.EvidenceURLs)
	c.Steps = slices.Clone(a.Steps)
	return &c
}
