package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"
)

var cacheT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

func TestCacheHoldsOnlyAccepted(t *testing.T) {
	key := testKey(t)
	v := NewVerifier(key.Public().(ed25519.PublicKey))
	tok, _, err := NewIssuer(key).Mint(Identity{Subject: "svc", Role: RoleService}, time.Hour, cacheT0)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a.b.c", tok + "x"} {
		if _, err := v.Verify(bad, cacheT0); err == nil {
			t.Fatalf("verify %q: got no error, want one", bad)
		}
	}
	if _, err := v.Verify(tok, cacheT0.Add(2*time.Hour)); err == nil {
		t.Fatal("expired token: got no error, want one")
	}
	if got := v.cache.len(); got != 0 {
		t.Fatalf("after failures: got %d cached, want 0", got)
	}
	for range 3 {
		if _, err := v.Verify(tok, cacheT0); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.cache.len(); got != 1 {
		t.Fatalf("after one token verified three times: got %d cached, want 1", got)
	}
}

// TestCacheHit shows a hit is answered from the cache alone: an entry put
// there by hand is returned for a string that is no token at all.
func TestCacheHit(t *testing.T) {
	v := NewVerifier(testKey(t).Public().(ed25519.PublicKey))
	want := Identity{Subject: "svc", Role: RoleService}
	fake := "not-a-token"
	v.cache.put(fake, cacheEntry{id: want, from: cacheT0.UnixNano(), until: cacheT0.Add(time.Hour).UnixNano()}, cacheT0.UnixNano())
	got, err := v.Verify(fake, cacheT0.Add(time.Minute))
	if err != nil || got != want {
		t.Fatalf("got %+v, %v, want %+v from the cache", got, err, want)
	}
	if _, err := v.Verify(fake, cacheT0.Add(time.Hour)); err == nil {
		t.Fatal("at until: got no error, want the cache to stop answering")
	}
}

func TestCacheBounded(t *testing.T) {
	key := testKey(t)
	const size = 2 * cacheShards
	v := newVerifier(key.Public().(ed25519.PublicKey), size)
	iss := NewIssuer(key)
	for i := range 4 * size {
		tok, _, err := iss.Mint(Identity{Subject: fmt.Sprintf("svc-%d", i), Role: RoleService}, time.Hour, cacheT0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok, cacheT0); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.cache.len(); got > size {
		t.Fatalf("got %d cached, want at most %d", got, size)
	}
}

func TestCacheEvictsExpiredFirst(t *testing.T) {
	c := newTokenCache(2 * cacheShards) // two entries a shard
	now := cacheT0.UnixNano()
	a, b, d := sameShard(t, c)
	c.put(a, cacheEntry{id: Identity{Subject: "a"}, until: now + 100}, now)
	c.put(b, cacheEntry{id: Identity{Subject: "b"}, until: now + 1}, now)
	c.put(d, cacheEntry{id: Identity{Subject: "d"}, until: now + 100}, now+10)
	for _, tc := range []struct {
		key  string
		want bool
	}{{a, true}, {b, false}, {d, true}} {
		c.shard(tc.key).mu.RLock()
		_, got := c.shard(tc.key).m[tc.key]
		c.shard(tc.key).mu.RUnlock()
		if got != tc.want {
			t.Errorf("entry %s: got present %v, want %v", tc.key, got, tc.want)
		}
	}
}

// sameShard returns three distinct keys that land in one shard of c.
func sameShard(t *testing.T, c *tokenCache) (a, b, d string) {
	t.Helper()
	var keys []string
	for i := 0; len(keys) < 3; i++ {
		k := fmt.Sprintf("key-%d", i)
		if len(keys) == 0 || c.shard(k) == c.shard(keys[0]) {
			keys = append(keys, k)
		}
	}
	return keys[0], keys[1], keys[2]
}

// BenchmarkVerify compares a cache hit, the cost of every Check call after
// a caller's first, with a full Ed25519 verification.
func BenchmarkVerify(b *testing.B) {
	key := testKey(b)
	tok, _, err := NewIssuer(key).Mint(Identity{Subject: "svc-broadcast", Role: RoleService}, time.Hour, cacheT0)
	if err != nil {
		b.Fatal(err)
	}
	now := cacheT0.Add(time.Minute)
	b.Run("cached", func(b *testing.B) {
		v := NewVerifier(key.Public().(ed25519.PublicKey))
		if _, err := v.Verify(tok, now); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		v := NewVerifier(key.Public().(ed25519.PublicKey))
		if _, err := v.Verify(tok, now); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(tok, now); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		v := NewVerifier(key.Public().(ed25519.PublicKey))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, _, err := v.verify(tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
