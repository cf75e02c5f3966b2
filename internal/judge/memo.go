package judge

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// memo remembers verdicts by what the policy reads of its input, so that a
// spam wave, whose accounts cross the same levels with the same counts,
// asks OPA once per distinct input rather than once per account. It is
// used only for a policy that reads neither input.account.id nor the
// event's id or time (memoizable): its answer is then a function of the
// rest, which is the key. Bounded: when full it starts again empty.
type memo struct {
	mu      sync.Mutex
	seed    maphash.Seed
	entries map[uint64]Verdict
}

// memoEntries bounds the verdicts remembered (a few hundred bytes each).
const memoEntries = 50_000

func newMemo() *memo { return &memo{seed: maphash.MakeSeed(), entries: map[uint64]Verdict{}} }

func (m *memo) get(k uint64) (Verdict, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.entries[k]
	return v, ok
}

func (m *memo) put(k uint64, v Verdict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= memoEntries {
		clear(m.entries)
	}
	m.entries[k] = v
}

// key hashes the input the policy reads: the account without its id, the
// event's kind, and every signal's values and evidence, in a fixed order.
// The seed is the process's own, so no one can choose inputs that collide.
func (m *memo) key(in Input) uint64 {
	var h keyHash
	h.SetSeed(m.seed)
	str, num := h.str, h.num
	h.account(in, in.Account.AgeDays)
	for _, name := range slices.Sorted(maps.Keys(in.Signals)) {
		s := in.Signals[name]
		str(name)
		for _, k := range slices.Sorted(maps.Keys(s.Values)) {
			str(k)
			num(s.Values[k])
		}
		str(s.Evidence)
	}
	return h.Sum64()
}

// keyHash hashes a key's parts so that no two keys run together: each
// string with its length first, each number by its bits.
type keyHash struct {
	maphash.Hash
	buf [8]byte
}

func (h *keyHash) str(s string) {
	binary.LittleEndian.PutUint64(h.buf[:], uint64(len(s)))
	h.Write(h.buf[:])
	h.WriteString(s)
}

func (h *keyHash) num(f float64) {
	binary.LittleEndian.PutUint64(h.buf[:], math.Float64bits(f))
	h.Write(h.buf[:])
}

// account writes what both memos key on of the account, with age as the
// caller reckons it, and the event's kind: everything the policy may read
// but the account's id and the signals.
func (h *keyHash) account(in Input, age float64) {
	a := in.Account
	h.str(string(a.Type))
	if a.Verified {
		h.num(1)
	} else {
		h.num(0)
	}
	h.num(age)
	h.num(float64(a.Strikes))
	h.str(string(a.Status))
	if in.Event != nil {
		h.str(string(in.Event.Kind))
	}
}

// memoizable reports whether the compiled policy reads the input only
// through the parts memo.key covers: never input.account.id, never the
// event's id or time, never the account, the event or the input whole, and
// never those objects by a computed key.
func memoizable(compiler *ast.Compiler) bool {
	ok := true
	for _, mod := range compiler.Modules {
		ast.WalkRefs(mod, func(r ast.Ref) bool {
			if !ok || !r[0].Equal(ast.InputRootDocument) {
				return false
			}
			if len(r) < 2 {
				ok = false // input as a whole
				return false
			}
			switch part := r[1].Value.(type) {
			case ast.String:
				switch string(part) {
				case "signals":
					return false
				case "account", "event":
					if len(r) < 3 {
						ok = false
						return false
					}
					field, isString := r[2].Value.(ast.String)
					if !isString || field == "id" || (part == "event" && field != "kind") {
						ok = false
					}
				default:
					ok = false // a part of the input key does not cover
				}
			default:
				ok = false // input[x]
			}
			return false
		})
	}
	return ok
}

// memoHits counts evaluations answered from a memo, across policies.
var memoHits atomic.Uint64

// MemoHits is how many evaluations were answered without OPA since start.
func MemoHits() uint64 { return memoHits.Load() }
