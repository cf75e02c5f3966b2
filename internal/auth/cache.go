package auth

import (
	"hash/maphash"
	"strings"
	"sync"
)

// defaultCacheSize bounds the verified-token cache. An entry costs about
// 0.5 KB, most of it the token, so the cache can reach some 50 MB only if
// that many distinct tokens are live and in use; a deployment's few service
// tokens carry nearly all traffic.
const defaultCacheSize = 100_000

const cacheShards = 64

// tokenCache remembers tokens Verify has accepted, keyed by the token
// itself, with the window in which the answer stands.
//
// The key is the whole token, compared in full by the map, rather than its
// SHA-256: hashing a 300-byte token costs 350 ns to 1 µs here, a map lookup
// 40 ns, and the signing key lives in the same process anyway, so a digest
// would not keep anything more secret from someone who can read its memory.
//
// It is a sharded map with a cap and random eviction rather than ristretto,
// which the module already uses elsewhere, for three reasons that matter in
// an authentication cache:
//   - ristretto identifies a key by two 64-bit non-cryptographic hashes and
//     does not keep the key, so a collision would hand one caller another
//     token's identity; a Go map compares the key in full.
//   - ristretto's Set is asynchronous and its admission policy may drop a
//     new entry, so "verified once, cheap after" would hold only usually.
//   - the working set is small (a few service tokens carry nearly all
//     traffic), so frequency-aware admission buys nothing; random eviction
//     keeps a flood of distinct valid tokens from costing more than the cap.
//
// Only accepted tokens are stored, so callers presenting garbage cannot
// fill it; they pay for a full check each time instead.
type tokenCache struct {
	perShard int
	seed     maphash.Seed
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
}

// cacheEntry is a verified identity and the window, in Unix nanoseconds
// [from, until), in which it may be returned without checking again.
type cacheEntry struct {
	id          Identity
	jti         string // the token's id, checked against revocations on every hit
	from, until int64
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{perShard: max(1, size/cacheShards), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// get returns the entry cached for key if now is inside its window.
func (c *tokenCache) get(key string, now int64) (cacheEntry, bool) {
	s := c.shard(key)
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || now < e.from || now >= e.until {
		return cacheEntry{}, false
	}
	return e, true
}

// put stores e under key, evicting if the shard is full: an expired entry
// if one of the first few looked at is, else whichever came first. Go's map
// iteration starts at a random place, so that is a random entry.
func (c *tokenCache) put(key string, e cacheEntry, now int64) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= c.perShard {
		var victim string
		looked := 0
		for k, old := range s.m {
			if looked == 0 || now >= old.until {
				victim = k
			}
			looked++
			if now >= old.until || looked == 8 {
				break
			}
		}
		delete(s.m, victim)
	}
	// A copy, so the cache does not pin whatever larger buffer (request
	// metadata) the caller's string points into.
	s.m[strings.Clone(key)] = e
}

// len reports how many entries the cache holds, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
