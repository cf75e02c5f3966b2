package detectors

import (
	"math"
	"math/bits"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"moderation/detectors/adtext"
)

// Campaign detection: the same advertising text, with numbers, handles,
// links or a brand name swapped, broadcast by many accounts. Each text gets
// a 64-bit SimHash over shingles of its normalized tokens; texts whose
// SimHashes differ in at most campaignMaxDistance bits are near-duplicates.
// Candidates are found by locality-sensitive hashing: the SimHash is cut
// into four 16-bit bands, and a text is looked up under each band's value
// and every value one bit away. Two SimHashes within 7 bits of each other
// differ in at most one bit in some band (pigeonhole), so every pair within
// campaignMaxDistance is found, for 68 table lookups per text.
const (
	campaignBands       = 4
	campaignBandBits    = 16
	campaignMaxDistance = 6
	// campaignMinChars: texts with fewer letters (a Chinese character or a
	// Latin letter each count one; numbers, links and handles count none)
	// are too generic to call a campaign: "早上好", "thanks all".
	campaignMinChars = 12
	// campaignMinShingles: a text must also have this many token pairs.
	campaignMinShingles = 4
	// campaignProbeDepth caps how many entries one bucket lookup compares,
	// newest first, so a huge campaign whose members share a bucket does
	// not make each text cost a scan of the campaign.
	campaignProbeDepth = 32
)

// Match is the campaign a broadcast text belongs to.
type Match struct {
	// ID names the cluster of near-duplicate texts: "c_" and the hex
	// SimHash of its first member. It stays the same while the cluster has
	// live members. It is empty for texts too short to form a campaign.
	ID string
	// Accounts is how many distinct accounts sent a near-duplicate of the
	// text within the window, this one included; 1 for a text no other
	// account sent.
	Accounts int
}

// Campaigns finds near-duplicate broadcast texts across accounts. There is
// one per service, not one per account. Memory is bounded: an entry is
// evicted once it is older than the window (event time) or when
// maxEntries are live, oldest first. The band tables take a fixed 2 MB.
//
// Campaigns is not safe for concurrent use: the pipeline calls it from one
// goroutine, in event order. The same sequence of Observe calls always
// gives the same Matches (nothing depends on map iteration order or the
// clock), so a replay reproduces the live decisions.
type Campaigns struct {
	window     int64 // nanoseconds
	maxEntries int

	// entries is a ring indexed by sequence number modulo maxEntries; the
	// live entries are those with sequence numbers in [first, next).
	entries     []campaignEntry
	first, next uint64

	// heads[b][v] is 1 + the sequence number of the newest entry whose band
	// b has value v, or 0. Entries link to older ones in the same bucket
	// (campaignEntry.older); a link to an evicted entry (below first) ends
	// the chain, so eviction never touches the tables.
	heads [campaignBands][1 << campaignBandBits]uint64

	clusters    map[uint64]*cluster
	nextCluster uint64
}

type campaignEntry struct {
	sim     uint64
	at      int64
	account uint64 // FNV-1a of the account id
	cluster uint64 // 0 while the entry has no near-duplicate
	older   [campaignBands]uint64
}

type cluster struct {
	id       string
	accounts map[uint64]int32 // live entries per account
	live     int
}

// NewCampaigns returns a detector that counts accounts within window of
// event time and keeps at most maxEntries texts (at least 1).
func NewCampaigns(window time.Duration, maxEntries int) *Campaigns {
	return &Campaigns{
		window:     int64(window),
		maxEntries: max(maxEntries, 1),
		clusters:   map[uint64]*cluster{},
	}
}

// Observe records that account broadcast text at, and returns the campaign
// the text belongs to.
func (c *Campaigns) Observe(account string, at time.Time, text string) Match {
	// The fingerprint is of the text as its reader sees it, so copies
	// disguised differently (加 薇, ＶＸ, zero-width spaces) stay copies.
	return c.observeNormal(account, at, adtext.NormalText(text))
}

// observeNormal is Observe for a text already normalised
// (adtext.NormalText), so a caller that normalised it for other uses does
// not pay for it again.
func (c *Campaigns) observeNormal(account string, at time.Time, normal string) Match {
	sim, ok := simhash(normal)
	if !ok {
		return Match{Accounts: 1}
	}
	now := unixNanoSaturating(at)
	c.evict(now)

	best, bestDist := uint64(0), campaignMaxDistance+1
probe:
	for b := 0; b < campaignBands; b++ {
		v := uint16(sim >> (b * campaignBandBits))
		for flip := -1; flip < campaignBandBits; flip++ {
			probe := v
			if flip >= 0 {
				probe ^= 1 << flip
			}
			seq, depth := c.heads[b][probe], 0
			for seq > c.first && depth < campaignProbeDepth {
				e := &c.entries[(seq-1)%uint64(c.maxEntries)]
				// Nearest wins; among equals, the newest (highest sequence):
				// a fixed rule, so replays pick the same cluster.
				if d := bits.OnesCount64(e.sim ^ sim); d < bestDist || d == bestDist && d <= campaignMaxDistance && seq > best {
					best, bestDist = seq, d
					if d == 0 && b == 0 && flip < 0 {
						// Every exact duplicate is in this chain, newest
						// first: nothing later can beat it.
						break probe
					}
				}
				seq = e.older[b]
				depth++
			}
		}
	}

	acct := fnv64(account)
	e := campaignEntry{sim: sim, at: now, account: acct}
	var m Match
	if best == 0 {
		m = Match{ID: clusterID(sim), Accounts: 1}
	} else {
		near := &c.entries[(best-1)%uint64(c.maxEntries)]
		if near.cluster == 0 {
			c.nextCluster++
			near.cluster = c.nextCluster
			c.clusters[near.cluster] = &cluster{id: clusterID(near.sim), accounts: map[uint64]int32{near.account: 1}, live: 1}
		}
		cl := c.clusters[near.cluster]
		cl.accounts[acct]++
		cl.live++
		e.cluster = near.cluster
		m = Match{ID: cl.id, Accounts: len(cl.accounts)}
	}

	seq := c.next + 1
	for b := 0; b < campaignBands; b++ {
		v := uint16(sim >> (b * campaignBandBits))
		e.older[b] = c.heads[b][v]
		c.heads[b][v] = seq
	}
	if len(c.entries) < c.maxEntries {
		c.entries = append(c.entries, e)
	} else {
		c.entries[c.next%uint64(c.maxEntries)] = e
	}
	c.next++
	return m
}

// evict drops entries older than the window before now, and the oldest
// entry when the ring is full. Entries leave in arrival order; with events
// arriving roughly in time order that is oldest first.
func (c *Campaigns) evict(now int64) {
	for c.first < c.next {
		e := &c.entries[c.first%uint64(c.maxEntries)]
		if c.next-c.first < uint64(c.maxEntries) && e.at > subSaturating(now, c.window) {
			return
		}
		if e.cluster != 0 {
			cl := c.clusters[e.cluster]
			if cl.accounts[e.account]--; cl.accounts[e.account] <= 0 {
				delete(cl.accounts, e.account)
			}
			if cl.live--; cl.live == 0 {
				delete(c.clusters, e.cluster)
			}
		}
		c.first++
	}
}

// unixNanoSaturating is t in unix nanoseconds, saturated outside the years
// 1678 to 2262 where time.UnixNano is undefined.
func unixNanoSaturating(t time.Time) int64 {
	const limit = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s >= limit:
		return math.MaxInt64
	case s <= -limit:
		return math.MinInt64
	}
	return t.UnixNano()
}

// subSaturating is a-b for b ≥ 0, saturated at the smallest int64.
func subSaturating(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// Len is the number of live entries.
func (c *Campaigns) Len() int { return int(c.next - c.first) }

// Bytes estimates the detector's memory: the band tables, the ring and the
// clusters' account maps.
func (c *Campaigns) Bytes() int64 {
	n := int64(len(c.heads)*len(c.heads[0])*8) + int64(cap(c.entries))*int64(campaignEntrySize)
	for _, cl := range c.clusters {
		n += 64 + int64(len(cl.id)) + 48*int64(len(cl.accounts))
	}
	return n
}

const campaignEntrySize = 8*4 + 8*campaignBands

// clusterID is "c_" and the 16 hex digits of sim.
func clusterID(sim uint64) string {
	const digits = "0123456789abcdef"
	b := [18]byte{'c', '_'}
	for i := 0; i < 16; i++ {
		b[2+i] = digits[sim>>(60-4*i)&0xF]
	}
	return string(b[:])
}

// ---- normalization and SimHash ----

// Placeholder tokens stand for what a marketer swaps between copies of an
// ad. Their hashes are small constants no real token hashes to in practice.
const (
	tokNumber uint64 = iota + 1
	tokURL
	tokHandle
	tokName // a brand or shop name: "Bella Boutique", 【雪肌坊】
)

// maxTagRunes is the longest 【tag】 read as a name: ads open with the
// brand or shop in brackets, news with the outlet.
const maxTagRunes = 12

// simhash normalizes text into tokens, hashes each pair of consecutive
// tokens (a shingle), and folds the shingle hashes into one 64-bit SimHash.
// Tokens are: each Chinese (or other non-Latin) letter on its own, so pairs
// are character bigrams; each Latin word; and placeholders for numbers,
// links and handles. Case, white space and punctuation are folded away.
// ok is false for texts too short to say anything about.
func simhash(text string) (sim uint64, ok bool) {
	var t tokenizer
	t.run(text)
	if t.chars < campaignMinChars || t.shingles < campaignMinShingles {
		return 0, false
	}
	levels := t.ones[:bits.Len(uint(t.shingles))]
	for i := 0; i < 64; i++ {
		ones := 0
		for j, c := range levels {
			ones |= int(c>>i&1) << j
		}
		if 2*ones > t.shingles { // more shingles vote 1 than 0 at bit i
			sim |= 1 << i
		}
	}
	return sim, true
}

type tokenizer struct {
	// ones counts, for each of the 64 bit positions, how many shingle
	// hashes have that bit set, as bit-sliced counters: bit i of ones[j]
	// is bit j of the count at position i. Adding a hash is a ripple of
	// carries, about two word operations, instead of 64 increments.
	ones     [20]uint64 // counts up to 2^20 shingles; a text has at most 20000
	prev     uint64     // hash of the previous token; 0 before the first
	marker   bool       // previous token announces a handle (加V, wechat, ...)
	sentence bool       // at the start of a sentence, where a capital means nothing
	title    bool       // the Latin run being read is Title-case: Bella
	chars    int
	shingles int
	latin    [64]byte // the Latin run being read
	nLatin   int
	long     bool // the Latin run overflowed latin
}

func (t *tokenizer) run(text string) {
	t.sentence = true
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if r >= 0xFF01 && r <= 0xFF5E { // fullwidth ASCII
			r -= 0xFF01 - '!'
		}
		if r == '【' || r == '[' {
			if end := tagEnd(text, i); end > 0 {
				t.flushLatin()
				t.token(tokName, false)
				i = end
				continue
			}
		}
		if r < utf8.RuneSelf && isLatinRunByte(byte(r), text, i) {
			c := byte(r)
			switch {
			case c >= 'A' && c <= 'Z':
				if t.nLatin == 0 {
					t.title = true
				} else if t.nLatin == 1 {
					t.title = false // FLASH, SALE: shouting, not a name
				}
				c += 'a' - 'A'
			case c >= 'a' && c <= 'z' && t.nLatin == 0:
				t.title = false
			}
			if t.nLatin < len(t.latin) {
				t.latin[t.nLatin] = c
				t.nLatin++
			} else {
				t.long = true
			}
			continue
		}
		t.flushLatin()
		switch r {
		case '.', '!', '?', '。', '！', '？', '\n', ':', '：':
			t.sentence = true
		}
		switch {
		case r == '微' && strings.HasPrefix(text[i:], "信"):
			// 微信, the canonical form of every WeChat spelling Normalize
			// undoes (加V, vx, 薇信), is one marker token like "wechat".
			t.chars += 2
			t.token(fnv64("wechat"), true)
			i += len("信")
		case unicode.IsLetter(r):
			t.chars++
			r = unicode.ToLower(r)
			t.token(mix64(uint64(r)), r == '微' || r == '信' || r == '薇')
		case unicode.IsDigit(r):
			t.token(tokNumber, false)
		}
		// Anything else (space, punctuation, emoji) separates tokens and
		// is otherwise ignored.
	}
	t.flushLatin()
}

// tagEnd returns the index after the 】 or ] closing a tag that opens at
// text[i], or 0 when none closes within maxTagRunes.
func tagEnd(text string, i int) int {
	for n := 0; i < len(text) && n <= maxTagRunes; n++ {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if r == '】' || r == ']' {
			if n == 0 {
				return 0
			}
			return i
		}
	}
	return 0
}

// isLatinRunByte reports whether ASCII byte c continues a Latin run: letters,
// digits and the characters of links, handles and numbers. A colon only
// joins when "//" follows, so "v:lily88" splits into a marker and a handle.
func isLatinRunByte(c byte, text string, next int) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '.', c == '_', c == '-', c == '/', c == '@', c == '?', c == '=', c == '&', c == '%', c == '#', c == '+', c == '~':
		return true
	case c == ':':
		return len(text)-next >= 2 && text[next] == '/' && text[next+1] == '/'
	}
	return false
}

var handleMarkers = map[string]bool{
	"v": true, "vx": true, "wx": true, "wechat": true, "weixin": true, "telegram": true, "tg": true,
	"whatsapp": true, "line": true, "qq": true, "ig": true, "instagram": true, "kik": true, "snapchat": true,
}

// flushLatin classifies the Latin run just read and emits its tokens.
func (t *tokenizer) flushLatin() {
	if t.nLatin == 0 {
		return
	}
	run := t.latin[:t.nLatin]
	long, title, sentence := t.long, t.title, t.sentence
	t.nLatin, t.long, t.title, t.sentence = 0, false, false, false
	trimmed := trimPunct(run)
	if len(trimmed) == 0 {
		return
	}
	var letters, digits int
	dot, at := false, trimmed[0] == '@'
	for _, c := range trimmed {
		switch {
		case c >= 'a' && c <= 'z':
			letters++
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dot = true
		}
	}
	switch {
	case long || hasSub(trimmed, "://") || hasSub(trimmed, "www.") || dot && letters > 0 && looksLikeHost(trimmed):
		t.token(tokURL, false)
	case at || t.marker && letters+digits > 0:
		t.token(tokHandle, false)
	case letters == 0 && digits > 0:
		t.token(tokNumber, false)
	case letters > 0 && digits > 0:
		// lily8899, wxid_abc12, iphone15: an ID or a model number, which
		// copies of one ad swap.
		t.token(tokHandle, false)
	case title && !sentence && !handleMarkers[string(trimmed)]:
		// A capitalized word inside a sentence is a name, and the brand or
		// shop is the name copies of one ad swap.
		t.chars += letters
		t.token(tokName, false)
	default:
		// Plain words, split at any punctuation left inside the run.
		start := -1
		for i := 0; i <= len(trimmed); i++ {
			if i < len(trimmed) && trimmed[i] >= 'a' && trimmed[i] <= 'z' {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				w := trimmed[start:i]
				t.chars += len(w)
				t.token(fnv64(w), handleMarkers[string(w)])
				start = -1
			}
		}
	}
}

func trimPunct(b []byte) []byte {
	isPunct := func(c byte) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '@') }
	for len(b) > 0 && isPunct(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isPunct(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func hasSub(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == sub {
			return true
		}
	}
	return false
}

// looksLikeHost reports whether a run with a dot reads as a host: a label
// of letters after the last dot (shop88.vip/x, t.cn/abc), not "3.5".
func looksLikeHost(b []byte) bool {
	end := len(b)
	for i, c := range b {
		if c == '/' {
			end = i
			break
		}
	}
	host := b[:end]
	dot := -1
	for i, c := range host {
		if c == '.' {
			dot = i
		}
	}
	if dot <= 0 || dot == len(host)-1 {
		return false
	}
	for _, c := range host[dot+1:] {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return len(host)-dot-1 >= 2
}

// token adds the token with hash h: it forms a shingle with the previous
// one. A run of one placeholder ("138 1234 5678" is three numbers) counts
// once.
func (t *tokenizer) token(h uint64, marker bool) {
	if h <= tokName && h == t.prev {
		return
	}
	t.marker = marker
	if t.prev != 0 {
		t.shingle(mix64(t.prev*31 ^ h))
	}
	t.prev = h
}

func (t *tokenizer) shingle(h uint64) {
	t.shingles++
	carry := h
	for j := 0; carry != 0 && j < len(t.ones); j++ {
		t.ones[j], carry = t.ones[j]^carry, t.ones[j]&carry
	}
}

// fnv64 is FNV-1a; written out so it does not allocate, and unseeded so a
// replay on another machine hashes the same.
func fnv64[S ~string | ~[]byte](s S) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// mix64 is the SplitMix64 finalizer: SimHash needs every bit of a shingle
// hash to be a fair coin, which FNV's low bits are not.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
