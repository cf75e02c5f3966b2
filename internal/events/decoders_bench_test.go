package events_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	goccy "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"

	"moderation/internal/events"
	"moderation/internal/moderation"
	"moderation/internal/traffic"
)

// Issue 12 asked whether a maintained JSON decoder could replace the
// hand-written one (fastjson.go, removed since: its figures are in the
// README's "JSON decoding", from the commit that added this file). These
// are decodeJSON, sonic behind json.Valid, and the candidates it was chosen
// from, each in decodeJSON's place: the event's JSON decoded as
// json.Unmarshal decodes it into a new moderation.Event, invalid UTF-8
// refused, nothing shared with the input. TestJSONDecodersAgree holds them
// to that on realistic events; on hostile input only sonic behind
// json.Valid matches encoding/json (json.go says what the others got wrong).

type jsonDecoder struct {
	name   string
	decode func([]byte) (*moderation.Event, error)
}

var errNotUTF8 = errors.New("event is not valid UTF-8")

// viaUnmarshal is decodeJSON with a library's Unmarshal in place of
// encoding/json's: the UTF-8 check first, since encoding/json (and so its
// look-alikes) would replace invalid bytes with U+FFFD rather than refuse.
func viaUnmarshal(unmarshal func([]byte, any) error) func([]byte) (*moderation.Event, error) {
	return func(data []byte) (*moderation.Event, error) {
		if !utf8.Valid(data) {
			return nil, errNotUTF8
		}
		ev := new(moderation.Event)
		if err := unmarshal(data, ev); err != nil {
			return nil, err
		}
		return ev, nil
	}
}

var jsonDecoders = []jsonDecoder{
	{"decodeJSON", events.DecodeJSON},
	{"encoding-json", viaUnmarshal(json.Unmarshal)},
	{"goccy-go-json", viaUnmarshal(goccy.Unmarshal)},
	{"segmentio-encoding", viaUnmarshal(segjson.Unmarshal)},
	// ConfigStd is sonic's encoding/json-compatible setting: it copies
	// strings (the default keeps pointers into the input, which the NATS
	// client reuses) and refuses control characters in strings.
	{"sonic-std", viaUnmarshal(sonic.ConfigStd.Unmarshal)}, // without json.Valid
}

type jsonCorpus struct {
	name   string
	events [][]byte
}

// jsonCorpora are the events the decoders are measured on: the mix modctl
// bench publishes (mostly friend adds from personal accounts, English
// notices, one promotion in a hundred in Chinese), and the labelled mix of
// evasions and look-alikes (disguised Chinese ads, rings, fairs, brigades)
// one kind at a time.
func jsonCorpora(tb testing.TB) []jsonCorpus {
	tb.Helper()
	recs, err := traffic.Synthetic(20_000, 1)
	if err != nil {
		tb.Fatal(err)
	}
	out := []jsonCorpus{{name: "bench-mix"}}
	for _, r := range recs {
		out[0].events = append(out[0].events, r.Data)
	}
	instances := map[traffic.Class]int{}
	for _, c := range traffic.Classes {
		instances[c] = 1
	}
	byKind := map[moderation.Kind][][]byte{}
	for _, ev := range traffic.Labelled(1, instances).Events {
		data, err := events.EncodeJSON(ev)
		if err != nil {
			tb.Fatal(err)
		}
		byKind[ev.Kind] = append(byKind[ev.Kind], data)
	}
	for _, k := range []moderation.Kind{moderation.KindBroadcast, moderation.KindFriendAdd, moderation.KindComplaint, moderation.KindUnfollow, moderation.KindFriendResponse} {
		if len(byKind[k]) == 0 {
			tb.Fatalf("the labelled mix has no %s events", k)
		}
		out = append(out, jsonCorpus{name: "labelled-" + string(k), events: byKind[k]})
	}
	return out
}

// Every candidate decodes the events of the corpora (a thousand of each,
// spread over it) to the event encoding/json makes, which Validate judges
// the same, and keeps none of the input's memory: were one to differ, its
// figures would not count.
func TestJSONDecodersAgree(t *testing.T) {
	for _, c := range jsonCorpora(t) {
		t.Run(c.name, func(t *testing.T) {
			step := max(len(c.events)/1000, 1)
			for i := 0; i < len(c.events); i += step {
				data := c.events[i]
				want := new(moderation.Event)
				if err := json.Unmarshal(data, want); err != nil {
					t.Fatalf("encoding/json refuses %s: %v", data, err)
				}
				wantReason := events.Reason(events.Validate(want))
				for _, d := range jsonDecoders {
					buf := slices.Clone(data)
					got, err := d.decode(buf)
					if err != nil {
						t.Fatalf("%s refuses %s: %v", d.name, data, err)
					}
					clear(buf) // as when the NATS client reuses the buffer
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s decodes %s\nto   %s\nwant %s", d.name, data, events.Dump(got), events.Dump(want))
					}
					if r := events.Reason(events.Validate(got)); r != wantReason {
						t.Fatalf("%s: Validate says %q of %s, want %q", d.name, r, data, wantReason)
					}
				}
			}
		})
	}
}

// BenchmarkJSONDecoders decodes and validates one event per op, cycling
// through each corpus, with each candidate:
// go test -run '^$' -bench JSONDecoders ./internal/events
// The pipeline's figures for the same decoders are in the README.
func BenchmarkJSONDecoders(b *testing.B) {
	if sonic.APIKind != sonic.UseSonicJSON {
		b.Log("sonic has no JIT for this Go version or platform: its figures are encoding/json's")
	}
	for _, c := range jsonCorpora(b) {
		size := 0
		for _, data := range c.events {
			size += len(data)
		}
		b.Run(c.name, func(b *testing.B) {
			for _, d := range jsonDecoders {
				b.Run(d.name, func(b *testing.B) {
					if _, err := d.decode(c.events[0]); err != nil { // sonic compiles its decoder on first use
						b.Fatal(err)
					}
					b.SetBytes(int64(size / len(c.events)))
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						ev, err := d.decode(c.events[i])
						if err != nil {
							b.Fatal(err)
						}
						if err := events.Validate(ev); err != nil {
							b.Fatal(err)
						}
						if i++; i == len(c.events) {
							i = 0
						}
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}
