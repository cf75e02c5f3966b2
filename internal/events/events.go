// Package events translates events from the wire (the events contract:
// JSON or protobuf on mod.events.<kind>.<account>) to the domain type, and
// classifies what fails so the consumer can route it to the dead-letter
// stream mod.dlq.<reason>.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"moderation/internal/moderation"
)

// Dead-letter reasons, the last token of mod.dlq.<reason>. Decode checks
// them in this order and reports the first that applies.
const (
	ReasonTooLarge        = "too_large"        // payload over moderation.MaxEventBytes
	ReasonBadSubject      = "bad_subject"      // subject is not mod.events.<kind>.<account>
	ReasonBadContentType  = "bad_content_type" // Content-Type is neither JSON nor protobuf
	ReasonBadJSON         = "bad_json"         // payload is not a JSON event
	ReasonBadProtobuf     = "bad_protobuf"     // payload is not a protobuf moderation.v1.Event
	ReasonUnknownKind     = "unknown_kind"     // kind missing or not one the service accepts
	ReasonInvalid         = "invalid"          // any other contract violation
	ReasonSubjectMismatch = "subject_mismatch" // subject kind/account differ from the event's
	ReasonBadTime         = "bad_time"         // at before Earliest, or more than the allowed skew ahead of the clock
)

// Reasons the pipeline gives events it decoded but could not finish: the
// failure is permanent, so retrying would stall every account behind it.
const (
	ReasonBadState      = "bad_state"      // the account's stored state cannot be decoded
	ReasonMissingStream = "missing_stream" // a stream the event's effects go to does not exist and cannot be declared
)

// Earliest is the oldest event time accepted: before it the platform did
// not exist, so an older event is a publisher's bug or an attack (1969 is
// what a zero unix time looks like west of Greenwich).
var Earliest = time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultMaxClockSkew is how far ahead of the service's clock an event may
// be dated: publishers' clocks drift, but an event from the future would
// drag the account's windows forward and leave its real events behind them.
const DefaultMaxClockSkew = 10 * time.Minute

// Content types of the events contract. Parameters (";charset=utf-8") are
// ignored and the comparison is case-insensitive.
const (
	ContentTypeJSON     = "application/json"
	ContentTypeProtobuf = "application/protobuf"
)

// DecodeError is an event that cannot be accepted. Reason is the dead-letter
// reason (one of the Reason constants); Err says what is wrong in words.
// errors.Is(err, moderation.ErrInvalid) holds for every DecodeError.
type DecodeError struct {
	Reason string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes every DecodeError match moderation.ErrInvalid: it is bad input.
func (e *DecodeError) Is(target error) bool { return target == moderation.ErrInvalid }

// Reason is the dead-letter reason of err: the Reason of a DecodeError in
// its chain, "invalid" for any other error, "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ReasonInvalid
}

func fail(reason string, err error) *DecodeError { return &DecodeError{Reason: reason, Err: err} }

// Decode reads one event published on subject with the given Content-Type
// header ("" means JSON). It returns a valid event whose kind and account
// match the subject, or a *DecodeError. Unknown fields are ignored (in both
// encodings) so publishers may add fields before the service knows them.
func Decode(subject, contentType string, data []byte) (*moderation.Event, error) {
	if len(data) > moderation.MaxEventBytes {
		return nil, fail(ReasonTooLarge, fmt.Errorf("event is %d bytes, more than the limit of %d", len(data), moderation.MaxEventBytes))
	}
	kind, account, ok := parseSubject(subject)
	if !ok {
		return nil, fail(ReasonBadSubject, fmt.Errorf("%q is not mod.events.<kind>.<account>", subject))
	}

	var ev *moderation.Event
	switch mediaType(contentType) {
	case ctJSON:
		var err error
		if ev, err = decodeJSON(data); err != nil {
			return nil, err
		}
	case ctProtobuf:
		var err error
		if ev, err = decodeProto(data); err != nil {
			return nil, err
		}
	default:
		return nil, fail(ReasonBadContentType, fmt.Errorf("content type %q is neither %s nor %s", contentType, ContentTypeJSON, ContentTypeProtobuf))
	}

	if err := Validate(ev); err != nil {
		return nil, err
	}
	if string(ev.Kind) != kind {
		return nil, fail(ReasonSubjectMismatch, fmt.Errorf("subject kind %s does not match event kind %s", kind, ev.Kind))
	}
	if ev.Account != account {
		return nil, fail(ReasonSubjectMismatch, fmt.Errorf("subject account %s does not match event account %s", account, ev.Account))
	}
	return ev, nil
}

// Validate checks ev against the events contract and classifies a failure
// as unknown_kind or invalid. It is what Decode does after parsing, for
// events that arrive by other ways (gRPC Ingest).
func Validate(ev *moderation.Event) error {
	if !ev.Kind.Known() {
		if ev.Kind == "" {
			return fail(ReasonUnknownKind, moderation.Invalid("kind", "is required"))
		}
		return fail(ReasonUnknownKind, moderation.Invalid("kind", fmt.Sprintf("%q is not a known kind", ev.Kind)))
	}
	if err := ev.Validate(); err != nil {
		var fe *moderation.FieldError
		if errors.As(err, &fe) && fe.Field == "kind" {
			return fail(ReasonUnknownKind, err)
		}
		return fail(ReasonInvalid, err)
	}
	// Year 0, which JSON can carry and protobuf cannot, is far below it.
	if ev.At.Before(Earliest) {
		return fail(ReasonBadTime, moderation.Invalid("at", fmt.Sprintf("%s is before %s: the platform did not exist", ev.At.UTC().Format(time.RFC3339), Earliest.Format(time.DateOnly))))
	}
	// JSON can carry year 0; protobuf (and so gRPC) cannot. Refuse what one
	// encoding cannot represent so both accept the same events.
	if ai := ev.AccountInfo; ai != nil && outOfRange(ai.CreatedAt) {
		return fail(ReasonInvalid, moderation.Invalid("account_info.created_at", "is before year 1"))
	}
	return nil
}

// CheckClock refuses (bad_time) an event dated more than maxSkew after ref,
// the service's clock when it took the event in; maxSkew ≤ 0 means
// DefaultMaxClockSkew. Validate cannot do it: it has no clock, and the
// pipeline's clock is the time the events stream stored the event, so a
// replay or a rebuild judges an event's time exactly as it was judged live.
func CheckClock(ev *moderation.Event, ref time.Time, maxSkew time.Duration) error {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxClockSkew
	}
	if limit := ref.Add(maxSkew); ev.At.After(limit) {
		return fail(ReasonBadTime, moderation.Invalid("at", fmt.Sprintf("%s is more than %s ahead of the service's clock (%s)",
			ev.At.UTC().Format(time.RFC3339), maxSkew, ref.UTC().Format(time.RFC3339))))
	}
	return nil
}

// outOfRange reports whether t is outside what a protobuf Timestamp holds.
// RFC 3339 cannot write years after 9999, so only the lower end matters.
func outOfRange(t time.Time) bool { return t.UTC().Year() < 1 }

// parseSubject splits mod.events.<kind>.<account>, as published, or
// mod.events.<kind>.<account>.<partition>, as the events stream stores it,
// without allocating. Both tokens must be non-empty and the account must be
// a valid account id.
func parseSubject(s string) (kind, account string, ok bool) {
	rest, found := strings.CutPrefix(Published(s), "mod.events.")
	if !found {
		return "", "", false
	}
	kind, account, found = strings.Cut(rest, ".")
	if !found || kind == "" || strings.IndexByte(account, '.') >= 0 || !moderation.ValidAccountID(account) {
		return "", "", false
	}
	return kind, account, true
}

// Published is the subject an event was published on: subject without
// the partition token the events stream added, if any.
func Published(subject string) string {
	if Partition(subject) < 0 {
		return subject
	}
	return subject[:strings.LastIndexByte(subject, '.')]
}

// Partition is the partition token the events stream added to a stored
// subject (mod.events.<kind>.<account>.<partition>); -1 when the subject
// has none or it is not a number.
func Partition(subject string) int {
	if strings.Count(subject, ".") != 4 {
		return -1
	}
	tok := subject[strings.LastIndexByte(subject, '.')+1:]
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || tok != strconv.Itoa(n) {
		return -1
	}
	return n
}

type contentType int

const (
	ctUnknown contentType = iota
	ctJSON
	ctProtobuf
)

// mediaType classifies a Content-Type header without allocating.
func mediaType(h string) contentType {
	if i := strings.IndexByte(h, ';'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSpace(h)
	switch {
	case h == "", strings.EqualFold(h, ContentTypeJSON):
		return ctJSON
	case strings.EqualFold(h, ContentTypeProtobuf), strings.EqualFold(h, "application/x-protobuf"):
		return ctProtobuf
	}
	return ctUnknown
}

// decodeJSON decodes straight into the domain type, whose json tags are the
// contract, as json.Unmarshal does; invalid UTF-8, which encoding/json would
// replace with U+FFFD, is refused. json.Unmarshal already refuses trailing
// data after the value. sonic (json.go) takes the events it is sure to
// decode exactly as encoding/json would; everything else, bad input
// included, goes to encoding/json, so errors and their reasons are its own.
func decodeJSON(data []byte) (*moderation.Event, error) {
	if !utf8.Valid(data) {
		return nil, fail(ReasonBadJSON, errors.New("event is not valid UTF-8"))
	}
	if ev, ok := decodeSonic(data); ok {
		return ev, nil
	}
	ev := new(moderation.Event)
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fail(ReasonBadJSON, err)
	}
	return ev, nil
}

// EncodeJSON is the JSON form of ev under the events contract. It does not
// validate ev, so tests can build bad events with it.
func EncodeJSON(ev *moderation.Event) ([]byte, error) {
	return json.Marshal(ev)
}
