package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"moderation/internal/moderation"
)

// slowJSON is decodeJSON without its fast path: the reference the fast
// path must match.
func slowJSON(data []byte) (*moderation.Event, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	ev := new(moderation.Event)
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// checkFast runs both paths on data and fails t if the fast path handles
// data differently from encoding/json. It reports whether the fast path
// handled it.
func checkFast(t testing.TB, data []byte) bool {
	t.Helper()
	got, ok := decodeFastJSON(data)
	want, err := slowJSON(data)
	if !ok {
		if got != nil {
			t.Errorf("fast path returned an event without handling %q", data)
		}
		return false
	}
	if err != nil {
		t.Fatalf("fast path handled %q, which encoding/json refuses: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path and encoding/json differ on %q:\n got %s\nwant %s", data, dump(got), dump(want))
	}
	return true
}

// dump shows an event with its pointers followed and its times' zones.
func dump(ev *moderation.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v at=%s", *ev, ev.At.Format(time.RFC3339Nano+" MST"))
	for _, p := range []any{ev.AccountInfo, ev.Broadcast, ev.FriendAdd, ev.Complaint, ev.Unfollow, ev.FriendResponse} {
		if !reflect.ValueOf(p).IsNil() {
			fmt.Fprintf(&b, " %+v", p)
		}
	}
	return b.String()
}

// The fast path knows the fields of the domain types by name and type. A
// field added or retyped there must be added here too, or events carrying
// it would decode without it.
func TestFastJSONKnowsEveryField(t *testing.T) {
	kinds := map[fieldKind]reflect.Type{
		kString: reflect.TypeFor[string](), kTime: reflect.TypeFor[time.Time](),
		kBool: reflect.TypeFor[bool](), kInt: reflect.TypeFor[int64](),
	}
	var check func(path string, typ reflect.Type, fields []fastField)
	check = func(path string, typ reflect.Type, fields []fastField) {
		if len(fields) > 16 {
			t.Errorf("%s: %d fields; object tracks repeated keys in 16 bits", path, len(fields))
		}
		byName := map[string]fastField{}
		for _, f := range fields {
			byName[f.name] = f
		}
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" {
				name = sf.Name
			}
			f, ok := byName[name]
			if !ok {
				t.Errorf("%s.%s (json %q) is not known to the fast path", path, sf.Name, name)
				continue
			}
			delete(byName, name)
			if f.kind == kObject {
				if sf.Type.Kind() != reflect.Pointer || sf.Type.Elem().Kind() != reflect.Struct {
					t.Errorf("%s.%s is %s, the fast path decodes a pointer to a struct", path, sf.Name, sf.Type)
					continue
				}
				check(path+"."+name, sf.Type.Elem(), f.fields)
				continue
			}
			if want := kinds[f.kind]; sf.Type.Kind() != want.Kind() || want == kinds[kTime] && sf.Type != want {
				t.Errorf("%s.%s is %s, the fast path decodes %s", path, sf.Name, sf.Type, want)
			}
		}
		for name := range byName {
			t.Errorf("%s: the fast path decodes %q, which %s does not have", path, name, typ)
		}
	}
	check("Event", reflect.TypeFor[moderation.Event](), eventFields)
}

// Tricky inputs, and whether the fast path takes them: every one must give
// what encoding/json gives, and the fallbacks stay fallbacks on purpose.
func TestFastJSONMatchesStdlib(t *testing.T) {
	const head = `"id":"e1","kind":"friend_add","account":"acct_1","at":"2026-03-01T12:30:00Z"`
	ev := func(rest string) string { return `{` + head + rest + `}` }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name    string
		data    string
		handled bool
	}{
		// Handled.
		{"empty object", `{}`, true},
		{"friend add", ev(`,"friend_add":{"target":"acct_9","message":"hi","source":"qr"}`), true},
		{"whitespace everywhere", " \t\n{ \"id\" : \"e\" ,\r\n \"friend_add\" : { \"target\" : \"t\" } , \"account_info\" : { } } \n", true},
		{"other order", `{"friend_add":{"source":"qr","target":"t"},"at":"2026-03-01T12:30:00Z","id":"e"}`, true},
		{"escape among non-ASCII values", ev(`,"friend_add":{"target":"t","message":"你好 😀 é \u00e9"}`), false},
		{"non-ASCII values unescaped", ev(`,"friend_add":{"target":"t","message":"你好 😀 é"}`), true},
		{"U+FFFD written out", ev(`,"friend_add":{"message":"` + "\uFFFD" + `"}`), true},
		{"unknown fields of every type", ev(`,"a":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","b":-1.5e+10,"c":[1,{"d":[true,false,null,{}],"e":[]},"f"],"g":{},"h":0,"i":-0.0E-0`), true},
		{"unknown field with invalid escape", ev(`,"a":"\x"`), false},
		{"unknown field with short \\u", ev(`,"a":"\u12"`), false},
		{"unknown field with invalid UTF-8", ev(`,"a":"` + "\xff" + `"`), false},
		{"unknown key with escapes", ev(`,"\u00e9t\u00e9":1`), false},
		{"nulls", `{"id":null,"kind":null,"account":null,"at":null,"account_info":null,"broadcast":null,"friend_add":null,"complaint":null,"unfollow":null,"friend_response":null}`, true},
		{"nulls inside", `{"account_info":{"type":null,"verified":null,"created_at":null},"broadcast":{"id":null,"text":null,"recipients":null}}`, true},
		{"empty bodies", `{"account_info":{},"broadcast":{},"friend_add":{},"complaint":{},"unfollow":{},"friend_response":{}}`, true},
		{"every field", `{"id":"e","kind":"k","account":"a","at":"2026-03-01T12:30:00.5Z","account_info":{"type":"service","verified":true,"created_at":"2020-02-29T23:59:59.999999999Z"},` +
			`"broadcast":{"id":"b","text":"t","recipients":7},"friend_add":{"target":"t","message":"m","source":"s"},"complaint":{"reporter":"r","reason":"spam","broadcast_id":"b"},` +
			`"unfollow":{"follower":"f"},"friend_response":{"target":"t","response":"ignored"}}`, true},
		{"long strings", ev(`,"broadcast":{"id":"` + strings.Repeat("b", 100) + `","text":"` + strings.Repeat("限时特价 ", 500) + `"}`), true},
		{"unknown values", `{"kind":"like","account_info":{"type":"robot"},"friend_add":{"source":"moon"},"complaint":{"reason":"boredom"}}`, true},
		{"time with offset", ev(`,"account_info":{"created_at":"2026-03-01T20:30:00+08:00"}`), true},
		{"time with odd offset", `{"at":"2026-03-01T20:30:00-05:45"}`, true},
		{"time -00:00", `{"at":"2026-03-01T20:30:00-00:00"}`, true},
		{"time single-digit hour", `{"at":"2026-03-01T1:30:00Z"}`, true},
		{"time year 0", `{"at":"0000-01-01T00:00:00Z"}`, true},
		{"time long fraction", `{"at":"2026-03-01T12:30:00.1234567891234Z"}`, true},
		{"time comma fraction", `{"at":"2026-03-01T12:30:00,5Z"}`, true},
		{"recipients", ev(`,"broadcast":{"recipients":-0}`), true},
		{"recipients 18 digits", ev(`,"broadcast":{"recipients":-999999999999999999}`), true},
		{"two bodies", ev(`,"unfollow":{"follower":"f"},"friend_add":{"target":"t"}`), true},
		{"bare minimum nesting", `{"x":` + deep(maxSkipDepth) + `}`, true},

		// Left to encoding/json.
		{"escape in a value", ev(`,"friend_add":{"target":"\u0041"}`), false},
		{"surrogate pair in a value", ev(`,"friend_add":{"message":"\ud83d\ude00"}`), false},
		{"lone surrogate", ev(`,"friend_add":{"message":"\ud83d"}`), false},
		{"escaped key", `{"\u0069d":"e"}`, false},
		{"key in capitals", `{"ID":"e"}`, false},
		{"key in mixed case", `{"Friend_Add":{"target":"t"}}`, false},
		{"key without underscore", `{"friendadd":{"target":"t"}}`, false},
		{"nested key in capitals", ev(`,"complaint":{"Reason":"ads"}`), false},
		{"nested key with a dash", ev(`,"complaint":{"broadcast-id":"b"}`), false},
		{"key with Kelvin sign", `{"` + "\u212a" + `ind":"broadcast"}`, false},
		{"non-ASCII unknown key", `{"é":1}`, false},
		{"duplicate key", `{"id":"a","id":"b"}`, false},
		{"duplicate body merges", `{"friend_add":{"target":"t"},"friend_add":{"source":"qr"}}`, false},
		{"duplicate nested key", ev(`,"friend_add":{"target":"t","target":"u"}`), false},
		{"duplicate after null", `{"account_info":null,"account_info":{}}`, false},
		{"invalid UTF-8 in a value", "{\"id\":\"\xff\"}", false},
		{"invalid UTF-8 in a key", "{\"\xffid\":\"e\"}", false},
		{"encoded surrogate", "{\"id\":\"\xed\xa0\x80\"}", false},
		{"control character", "{\"id\":\"a\tb\"}", false},
		{"trailing data", ev(``) + `{}`, false},
		{"trailing garbage", ev(``) + ` x`, false},
		{"trailing comma", `{"id":"e",}`, false},
		{"leading comma", `{,"id":"e"}`, false},
		{"missing colon", `{"id" "e"}`, false},
		{"missing comma", `{"id":"e" "kind":"k"}`, false},
		{"unterminated", `{"id":"e"`, false},
		{"unterminated string", `{"id":"e`, false},
		{"byte order mark", "\ufeff{}", false},
		{"null", `null`, false},
		{"array", `[]`, false},
		{"empty", ``, false},
		{"string", `"x"`, false},
		{"too deep", `{"x":` + deep(maxSkipDepth+1) + `}`, false},
		{"unbalanced", `{"x":[}`, false},
		{"mismatched", `{"x":[1}]}`, false},
		{"object key not a string", `{"x":{1:2}}`, false},
		{"id a number", `{"id":1}`, false},
		{"id an object", `{"id":{}}`, false},
		{"at a number", `{"at":1}`, false},
		{"at not a time", `{"at":"yesterday"}`, false},
		{"at February 30", `{"at":"2026-02-30T00:00:00Z"}`, false},
		{"at hour 24", `{"at":"2026-03-01T24:00:00Z"}`, false},
		{"at lowercase z", `{"at":"2026-03-01t20:30:00z"}`, false},
		{"at escaped", `{"at":"2026-03-01T12:30:00\u005a"}`, false},
		{"verified a string", `{"account_info":{"verified":"true"}}`, false},
		{"verified a number", `{"account_info":{"verified":1}}`, false},
		{"body a string", `{"friend_add":"t"}`, false},
		{"body an array", `{"friend_add":[]}`, false},
		{"body true", `{"friend_add":true}`, false},
		{"recipients a string", ev(`,"broadcast":{"recipients":"12"}`), false},
		{"recipients a fraction", ev(`,"broadcast":{"recipients":1.0}`), false},
		{"recipients an exponent", ev(`,"broadcast":{"recipients":1e3}`), false},
		{"recipients 19 digits", ev(`,"broadcast":{"recipients":1000000000000000000}`), false},
		{"recipients overflow", ev(`,"broadcast":{"recipients":99999999999999999999}`), false},
		{"recipients leading zero", ev(`,"broadcast":{"recipients":01}`), false},
		{"recipients minus", ev(`,"broadcast":{"recipients":-}`), false},
		{"recipients plus", ev(`,"broadcast":{"recipients":+1}`), false},
		{"number syntax", `{"x":1.}`, false},
		{"number syntax exponent", `{"x":1e}`, false},
		{"number leading dot", `{"x":.5}`, false},
		{"number leading zero", `{"x":-01}`, false},
		{"literal truncated", `{"x":tru}`, false},
		{"literal too long", `{"x":nulll}`, false},
		{"literal capitalised", `{"x":True}`, false},
		{"null truncated", `{"id":nul}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkFast(t, []byte(tt.data)); got != tt.handled {
				t.Errorf("handled = %v, want %v", got, tt.handled)
			}
		})
	}
}

// A time with an offset that is the local zone's decodes in time.Local, as
// encoding/json does; the fast path must follow time.Local, whatever it is.
func TestFastJSONLocalZone(t *testing.T) {
	saved := time.Local
	defer func() { time.Local = saved }()
	time.Local = time.FixedZone("CST", 8*3600)
	for _, data := range []string{`{"at":"2026-03-01T20:30:00+08:00"}`, `{"at":"2026-03-01T20:30:00+09:00"}`, `{"at":"2026-03-01T20:30:00Z"}`} {
		if !checkFast(t, []byte(data)) {
			t.Errorf("not handled: %s", data)
		}
	}
}

// The event must not share memory with the message, whose buffer the NATS
// client may reuse.
func TestFastJSONCopiesStrings(t *testing.T) {
	data := mustJSON(t, sample()[moderation.KindBroadcast])
	ev, ok := decodeFastJSON(data)
	if !ok {
		t.Fatal("not handled")
	}
	want := *ev
	wantBody := *ev.Broadcast
	for i := range data {
		data[i] = 'x'
	}
	if !reflect.DeepEqual(*ev, want) || *ev.Broadcast != wantBody {
		t.Errorf("event changed with the input: %+v", ev)
	}
}

// typicalEvents are events as publishers send them: every kind from the
// encoder, indented, with times in RFC 3339 with nanoseconds and offsets,
// without account_info and with fields the service does not know yet.
func typicalEvents(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for kind, ev := range sample() {
		out[string(kind)] = mustJSON(t, ev)
		indented, err := json.MarshalIndent(ev, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out[string(kind)+"/indented"] = indented
		nano := *ev
		nano.At = nano.At.Add(123456789)
		nano.AccountInfo = nil
		out[string(kind)+"/nanoseconds"] = mustJSON(t, &nano)
	}
	out["contract"] = []byte(`{"id":"e1","kind":"friend_add","account":"acct_42","at":"2026-03-01T20:30:00+08:00",
	  "account_info":{"type":"personal","verified":false,"created_at":"2026-02-28T00:00:00Z"},
	  "friend_add":{"target":"acct_7","source":"qr"},"future_field":{"x":[1,2]}}`)
	out["future fields"] = []byte(`{"id":"e1","schema":2,"kind":"broadcast","account":"acct_1","at":"2026-03-01T12:30:00.5Z",` +
		`"trace":{"id":"abc","sampled":true,"tags":["a","b"],"parent":null},"broadcast":{"id":"b","text":"hello\nworld \"quoted\"","recipients":3,"lang":"en"}}`)
	return out
}

// The typical events take the fast path: were they to fall back, nothing
// would fail but the speed-up would be gone.
func TestFastJSONHandlesTypicalEvents(t *testing.T) {
	for name, data := range typicalEvents(t) {
		t.Run(name, func(t *testing.T) {
			if !checkFast(t, data) {
				// "future fields" has escapes in a known field: that one
				// may fall back; everything else must not.
				if name != "future fields" {
					t.Errorf("fell back on %s", data)
				}
			}
		})
	}
	t.Run("allocations", func(t *testing.T) {
		ev := sample()[moderation.KindFriendAdd]
		data, subject := mustJSON(t, ev), ev.Subject()
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := Decode(subject, "application/json", data); err != nil {
				t.Fatal(err)
			}
		})
		// The event with its account info and body, and the short strings.
		if allocs > 2 {
			t.Errorf("Decode of a friend_add allocates %v times, want 2", allocs)
		}
	})
}

// parseUTC must give what time.Time's UnmarshalJSON gives, whenever it
// takes a time: every day of years chosen for their calendar, at random
// times, with fractions of every length.
func TestParseUTC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	years := []int{0, 1, 3, 4, 99, 100, 200, 399, 400, 1600, 1700, 1899, 1900, 1969, 1970, 1971, 2000, 2024, 2026, 2100, 9999}
	for range 20 {
		years = append(years, rng.IntN(10000))
	}
	taken := 0
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				frac, n := "", rng.IntN(12)
				if n > 0 {
					frac = "." + fmt.Sprintf("%012d", rng.Int64N(1e12))[:n]
				}
				s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, rng.IntN(25), rng.IntN(61), rng.IntN(61), frac)
				got, ok := parseUTC([]byte(s))
				var want time.Time
				err := want.UnmarshalJSON([]byte(`"` + s + `"`))
				if !ok {
					// Left to UnmarshalJSON: what it refuses, and fractions
					// finer than nanoseconds.
					if err == nil && n <= 9 {
						t.Errorf("parseUTC(%s) refused a time UnmarshalJSON takes", s)
					}
					continue
				}
				taken++
				if err != nil {
					t.Fatalf("parseUTC(%s) took a time UnmarshalJSON refuses: %v", s, err)
				}
				if got != want {
					t.Fatalf("parseUTC(%s) = %#v, want %#v", s, got, want)
				}
			}
		}
	}
	if taken < len(years)*200 {
		t.Errorf("parseUTC took only %d times", taken)
	}
}

// FuzzFastJSONMatchesStdlib: whenever the fast path handles an input, its
// event is the one encoding/json makes, and it never handles an input that
// decodeJSON's slow path refuses.
func FuzzFastJSONMatchesStdlib(f *testing.F) {
	for _, data := range typicalEvents(f) {
		f.Add(data)
	}
	for _, near := range []string{
		`{"id":"e","kind":"broadcast","account":"acct_1","at":"2026-03-01T12:30:00Z","broadcast":{"id":"b","text":"t","recipients":1}}`,
		`{"ID":"e","kind":"broadcast"}`,
		`{"id":"e","id":"f"}`,
		`{"id":"\u0065"}`,
		`{"at":"2026-03-01T12:30:00+08:00","account_info":{"created_at":"0000-01-01T00:00:00-01:00"}}`,
		`{"broadcast":{"recipients":-9223372036854775808}}`,
		`{"broadcast":{"recipients":1.5e3}}`,
		`{"friend_add":null,"x":[{"y":[1,-2.5e-3,true,false,null,"\ud83d\ude00"]}]}`,
		`{"complaint":{"reporter":"r","reason":"spam","broadcast_id":"b"},"unfollow":{"follower":"f"}}`,
		`{"friend_response":{"target":"t","response":"accepted"}} `,
		`{"id":"e"}{}`,
		`{"at":"1900-02-29T00:00:00Z","account_info":{"created_at":"2000-02-29T23:59:59.999999999Z"}}`,
		"{\"id\":\"\xc3\"}",
	} {
		f.Add([]byte(near))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}

func BenchmarkFastJSON(b *testing.B) {
	data := mustJSON(b, sample()[moderation.KindFriendAdd])
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodeFastJSON(data); !ok {
			b.Fatal("fell back")
		}
	}
}

// str skips eight plain bytes at a time: every byte value, at every offset
// within and across those words, must stop it exactly where a byte-by-byte
// scan stops.
func TestFastJSONStringScan(t *testing.T) {
	naive := func(d []byte, mode strMode) (end int, ok bool) {
		for i := 1; i < len(d); i++ {
			switch c := d[i]; {
			case c == '"':
				s := d[1:i]
				if mode == strKey && strings.ContainsFunc(string(s), func(r rune) bool { return r >= utf8.RuneSelf }) || !utf8.Valid(s) {
					return 0, false
				}
				return i, true
			case c == '\\' && mode == strSkip:
				if i+1 < len(d) && strings.IndexByte(`"\/bfnrt`, d[i+1]) >= 0 {
					i++
					continue
				}
				return 0, false // no \u in these inputs
			case c < 0x20 || c == '\\':
				return 0, false
			}
		}
		return 0, false
	}
	for _, mode := range []strMode{strValue, strKey, strSkip} {
		for c := range 256 {
			for pos := range 20 {
				for _, tail := range []string{`"`, `"}` + strings.Repeat(" ", 10), `a"`, `\n"   `} {
					d := []byte(`"` + strings.Repeat("a", pos) + string([]byte{byte(c)}) + tail)
					p := fastParser{data: d}
					_, end, ok := p.str(mode)
					wantEnd, wantOK := naive(d, mode)
					if ok != wantOK || ok && end != wantEnd {
						t.Fatalf("str(%d) on %q = %d, %v; want %d, %v", mode, d, end, ok, wantEnd, wantOK)
					}
				}
			}
		}
	}
}
