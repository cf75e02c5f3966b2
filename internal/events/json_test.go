package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"moderation/internal/moderation"
)

// slowJSON is decodeJSON without sonic: the reference sonic must match.
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

// checkSonic runs both paths on data and fails t if sonic handles data
// differently from encoding/json. It reports whether sonic handled it.
func checkSonic(t testing.TB, data []byte) bool {
	t.Helper()
	if !utf8.Valid(data) {
		return false // decodeJSON refuses it before either
	}
	got, ok := decodeSonic(data)
	want, err := slowJSON(data)
	if !ok {
		if got != nil {
			t.Errorf("sonic returned an event without handling %q", data)
		}
		return false
	}
	if err != nil {
		t.Fatalf("sonic handled %q, which encoding/json refuses: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sonic and encoding/json differ on %q:\n got %s\nwant %s", data, dump(got), dump(want))
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

// Tricky inputs, and whether sonic takes them: every one must give what
// encoding/json gives. Those sonic leaves are invalid JSON (json.Valid
// refuses them) or values of the wrong type or form, whose error
// encoding/json words.
func TestSonicMatchesStdlib(t *testing.T) {
	const head = `"id":"e1","kind":"friend_add","account":"acct_1","at":"2026-03-01T12:30:00Z"`
	ev := func(rest string) string { return `{` + head + rest + `}` }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name    string
		data    string
		handled bool
	}{
		// Taken by sonic.
		{"empty object", `{}`, true},
		{"friend add", ev(`,"friend_add":{"target":"acct_9","message":"hi","source":"qr"}`), true},
		{"whitespace everywhere", " \t\n{ \"id\" : \"e\" ,\r\n \"friend_add\" : { \"target\" : \"t\" } , \"account_info\" : { } } \n", true},
		{"other order", `{"friend_add":{"source":"qr","target":"t"},"at":"2026-03-01T12:30:00Z","id":"e"}`, true},
		{"non-ASCII values unescaped", ev(`,"friend_add":{"target":"t","message":"你好 😀 é"}`), true},
		{"U+FFFD written out", ev(`,"friend_add":{"message":"` + "\uFFFD" + `"}`), true},
		{"unknown fields of every type", ev(`,"a":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","b":-1.5e+10,"c":[1,{"d":[true,false,null,{}],"e":[]},"f"],"g":{},"h":0,"i":-0.0E-0`), true},
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
		{"escape among non-ASCII values", ev(`,"friend_add":{"target":"t","message":"你好 😀 é \u00e9"}`), true},
		{"unknown key with escapes", ev(`,"\u00e9t\u00e9":1`), true},
		{"escape in a value", ev(`,"friend_add":{"target":"\u0041"}`), true},
		{"surrogate pair in a value", ev(`,"friend_add":{"message":"\ud83d\ude00"}`), true},
		{"lone surrogate", ev(`,"friend_add":{"message":"\ud83d"}`), true},
		{"escaped key", `{"\u0069d":"e"}`, true},
		{"key in capitals", `{"ID":"e"}`, true},
		{"key in mixed case", `{"Friend_Add":{"target":"t"}}`, true},
		{"key without underscore", `{"friendadd":{"target":"t"}}`, true},
		{"nested key in capitals", ev(`,"complaint":{"Reason":"ads"}`), true},
		{"nested key with a dash", ev(`,"complaint":{"broadcast-id":"b"}`), true},
		{"key with Kelvin sign", `{"` + "\u212a" + `ind":"broadcast"}`, true},
		{"non-ASCII unknown key", `{"é":1}`, true},
		{"duplicate key", `{"id":"a","id":"b"}`, true},
		{"duplicate body merges", `{"friend_add":{"target":"t"},"friend_add":{"source":"qr"}}`, true},
		{"duplicate nested key", ev(`,"friend_add":{"target":"t","target":"u"}`), true},
		{"duplicate after null", `{"account_info":null,"account_info":{}}`, true},
		{"null", `null`, true},
		{"recipients 19 digits", ev(`,"broadcast":{"recipients":1000000000000000000}`), true},

		// Left to encoding/json: invalid JSON (json.Valid refuses it), values of
		// the wrong type or form, and nesting deeper than sonic goes.
		{"deepest nesting encoding/json takes", `{"x":` + deep(9999) + `}`, false},
		{"unknown field with invalid escape", ev(`,"a":"\x"`), false},
		{"unknown field with short \\u", ev(`,"a":"\u12"`), false},
		{"long unknown field with \\0 (sonic alone takes it)", `{"x":"\0 0123456789012345678901234567890"}`, false},
		{"unknown field with invalid UTF-8", ev(`,"a":"` + "\xff" + `"`), false},
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
		{"array", `[]`, false},
		{"empty", ``, false},
		{"string", `"x"`, false},
		{"too deep for encoding/json", `{"x":` + deep(10000) + `}`, false},
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
			if got := checkSonic(t, []byte(tt.data)); got != tt.handled {
				t.Errorf("handled = %v, want %v", got, tt.handled)
			}
		})
	}
}

// A time with an offset that is the local zone's decodes in time.Local, as
// encoding/json does; sonic must follow time.Local, whatever it is.
func TestSonicLocalZone(t *testing.T) {
	saved := time.Local
	defer func() { time.Local = saved }()
	time.Local = time.FixedZone("CST", 8*3600)
	for _, data := range []string{`{"at":"2026-03-01T20:30:00+08:00"}`, `{"at":"2026-03-01T20:30:00+09:00"}`, `{"at":"2026-03-01T20:30:00Z"}`} {
		if !checkSonic(t, []byte(data)) {
			t.Errorf("not handled: %s", data)
		}
	}
}

// The event must not share memory with the message, whose buffer the NATS
// client may reuse.
func TestSonicCopiesStrings(t *testing.T) {
	data := mustJSON(t, sample()[moderation.KindBroadcast])
	ev, ok := decodeSonic(data)
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

// The typical events are sonic's: were they to fall back, nothing would
// fail but the speed-up would be gone.
func TestSonicHandlesTypicalEvents(t *testing.T) {
	for name, data := range typicalEvents(t) {
		t.Run(name, func(t *testing.T) {
			if !checkSonic(t, data) {
				t.Errorf("fell back on %s", data)
			}
		})
	}
	// decodeJSON must hand them to sonic and stop there: were it to skip
	// sonic, or to run encoding/json after it, every answer would stay right
	// and only the speed would go. Either shows in the allocations: sonic
	// makes 8-12 an event here, encoding/json 3 or 4 more (counts that move
	// by one under -race, whose sync.Pool drops some of what sonic pools).
	t.Run("decodeJSON takes sonic's event", func(t *testing.T) {
		if sonic.APIKind != sonic.UseSonicJSON {
			t.Skip("sonic has no JIT for this Go version or platform: it is encoding/json")
		}
		for kind, ev := range sample() {
			data := mustJSON(t, ev)
			viaSonic := testing.AllocsPerRun(100, func() { decodeSonic(data) })
			viaStd := testing.AllocsPerRun(100, func() { _, _ = slowJSON(data) })
			got := testing.AllocsPerRun(100, func() {
				if _, err := decodeJSON(data); err != nil {
					t.Fatal(err)
				}
			})
			if viaSonic+2 > viaStd {
				t.Fatalf("%s: sonic allocates %v times, encoding/json %v: the allocations cannot tell them apart", kind, viaSonic, viaStd)
			}
			if got >= viaStd {
				t.Errorf("%s: decodeJSON allocates %v times, sonic alone %v and encoding/json %v: it does not take sonic's event", kind, got, viaSonic, viaStd)
			}
		}
	})
}

// FuzzSonicMatchesStdlib: whenever sonic handles an input, its event is the
// one encoding/json makes, and it never handles an input that decodeJSON's
// slow path refuses. The seeds include what each library tried in issue 12
// got wrong.
func FuzzSonicMatchesStdlib(f *testing.F) {
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
		// sonic alone: a bad escape in a value it skips.
		`{"":{"":"\0\0","00000000":0,"0000":"00"}}`,
		// segmentio/encoding: a time it parses leniently; an escape in a time.
		`{"At":"0000/01-01T00:00:00Z"}`,
		`{"At":"0000-01-01\00:00:00Z"}`,
		// goccy/go-json: an int64 that overflows; control characters.
		`{"BroAdCAst":{"reCipients":9227000000000000000}}`,
		"{\"id\":\"a\tb\"}",
	} {
		f.Add([]byte(near))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSonic(t, data)
	})
}

func BenchmarkSonicJSON(b *testing.B) {
	data := mustJSON(b, sample()[moderation.KindFriendAdd])
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodeSonic(data); !ok {
			b.Fatal("fell back")
		}
	}
}
