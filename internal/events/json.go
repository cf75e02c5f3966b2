package events

import (
	"encoding/json"

	"github.com/bytedance/sonic"

	"moderation/internal/moderation"
)

// JSON events are decoded by sonic (github.com/bytedance/sonic), a
// maintained decoder that compiles one for the domain type, and must come
// out exactly as encoding/json would make them: encoding/json is the
// reference, and decodes whatever sonic is not trusted with.
//
// It replaced a hand-written parser (fastjson.go, 804 lines) after issue
// 12 measured both with encoding/json, goccy/go-json and
// segmentio/encoding (BenchmarkJSONDecoders, and the README's "JSON
// decoding"): on the bench mix the hand-written one took 0.41 µs and 2
// allocations an event, sonic behind json.Valid 1.26 µs and 9, but an
// event costs the pipeline 37-60 µs of CPU, and with one service fed
// alternating rounds of each the pipeline rates were within the rounds'
// noise of each other. Of the libraries only sonic, and only behind
// json.Valid, passed a differential fuzz against encoding/json:
//   - sonic alone skips a long unknown value without checking its escapes
//     ({"x":"\0 …32 bytes more"});
//   - segmentio/encoding parses times itself and accepts
//     "0000/01-01T00:00:00Z", and nests past encoding/json's 10,000 levels;
//   - goccy/go-json wraps an int64 that overflows instead of refusing it,
//     folds "K" (Kelvin) unlike encoding/json, and accepts control
//     characters in strings and malformed numbers in values it skips.
// FuzzSonicMatchesStdlib holds sonic to encoding/json, with those inputs
// among its seeds.

// sonicStd is sonic's encoding/json-compatible configuration: strings are
// copied (its default would point them into the message, whose buffer the
// NATS client reuses) and control characters in strings refused.
var sonicStd = sonic.ConfigStd

// decodeSonic decodes data, which must be valid UTF-8, as json.Unmarshal
// into a new moderation.Event would. ok is false when sonic was not sure
// to: data may still be a valid event, or not; the caller must then ask
// encoding/json, whose errors (and so dead-letter texts) stay the ones the
// service always gave.
func decodeSonic(data []byte) (ev *moderation.Event, ok bool) {
	// json.Valid is encoding/json's own scanner: it refuses exactly the
	// syntax json.Unmarshal refuses (nesting past 10,000 levels included),
	// so sonic only ever sees input encoding/json would decode.
	if !json.Valid(data) {
		return nil, false
	}
	ev = new(moderation.Event)
	if err := sonicStd.Unmarshal(data, ev); err != nil {
		return nil, false // a value of the wrong type, a bad time: encoding/json says which
	}
	return ev, true
}
