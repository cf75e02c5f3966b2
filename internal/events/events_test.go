package events

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	created = time.Date(2025, 12, 24, 8, 0, 0, 0, time.UTC)
)

// sample returns one valid event of every kind, keyed by kind.
func sample() map[moderation.Kind]*moderation.Event {
	info := func(t moderation.AccountType, v bool) *moderation.AccountInfo {
		return &moderation.AccountInfo{Type: t, Verified: v, CreatedAt: created}
	}
	return map[moderation.Kind]*moderation.Event{
		moderation.KindBroadcast: {ID: "ev_1", Kind: moderation.KindBroadcast, Account: "acct_1", At: t0,
			AccountInfo: info(moderation.AccountSubscription, true),
			Broadcast:   &moderation.Broadcast{ID: "b_1", Text: "限时特价 buy now! http://x.example", Recipients: 12000}},
		moderation.KindFriendAdd: {ID: "ev_2", Kind: moderation.KindFriendAdd, Account: "acct_2", At: t0,
			AccountInfo: info(moderation.AccountPersonal, false),
			FriendAdd:   &moderation.FriendAdd{Target: "acct_9", Message: "hi", Source: moderation.SourceSearch}},
		moderation.KindComplaint: {ID: "ev_3", Kind: moderation.KindComplaint, Account: "acct_3", At: t0,
			Complaint: &moderation.Complaint{Reporter: "acct_8", Reason: "ads", BroadcastID: "b_1"}},
		moderation.KindUnfollow: {ID: "ev_4", Kind: moderation.KindUnfollow, Account: "acct_4", At: t0,
			Unfollow: &moderation.Unfollow{Follower: "acct_7"}},
		moderation.KindFriendResponse: {ID: "ev_5", Kind: moderation.KindFriendResponse, Account: "acct_5", At: t0,
			FriendResponse: &moderation.FriendResponse{Target: "acct_6", Response: "reported"}},
	}
}

func mustJSON(t testing.TB, ev *moderation.Event) []byte {
	t.Helper()
	b, err := EncodeJSON(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustProto(t testing.TB, ev *moderation.Event) []byte {
	t.Helper()
	b, err := EncodeProto(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for kind, ev := range sample() {
		for _, enc := range []struct {
			name, contentType string
			encode            func(testing.TB, *moderation.Event) []byte
		}{
			{"json", "", mustJSON},
			{"json", "application/json", mustJSON},
			{"json", "Application/JSON; charset=utf-8", mustJSON},
			{"protobuf", "application/protobuf", mustProto},
			{"protobuf", "application/x-protobuf", mustProto},
		} {
			t.Run(string(kind)+"/"+enc.contentType, func(t *testing.T) {
				got, err := Decode(ev.Subject(), enc.contentType, enc.encode(t, ev))
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !reflect.DeepEqual(got, ev) {
					t.Errorf("round trip through %s:\n got %+v\nwant %+v", enc.name, got, ev)
				}
			})
		}
	}
}

// The JSON of the contract, as a publisher writes it, with a field the
// service does not know yet and a time with an offset.
func TestDecodeContractJSON(t *testing.T) {
	data := `{"id":"e1","kind":"friend_add","account":"acct_42","at":"2026-03-01T20:30:00+08:00",
	  "account_info":{"type":"personal","verified":false,"created_at":"2026-02-28T00:00:00Z"},
	  "friend_add":{"target":"acct_7","source":"qr"},"future_field":{"x":[1,2]}}`
	ev, err := Decode("mod.events.friend_add.acct_42", "", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !ev.At.Equal(t0) || ev.FriendAdd.Source != moderation.SourceQR || ev.AccountInfo.Type != moderation.AccountPersonal {
		t.Errorf("decoded %+v", ev)
	}
}

// Unknown protobuf fields are kept out of the way, not refused.
func TestDecodeProtoUnknownField(t *testing.T) {
	ev := sample()[moderation.KindUnfollow]
	data := mustProto(t, ev)
	data = append(data, 0xf8, 0x06, 0x01) // field 111, varint 1
	if _, err := Decode(ev.Subject(), "application/protobuf", data); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeErrors(t *testing.T) {
	s := sample()
	bc := s[moderation.KindBroadcast]
	bcJSON := string(mustJSON(t, bc))
	with := func(f func(ev *moderation.Event)) *moderation.Event {
		c := *s[moderation.KindBroadcast]
		b := *c.Broadcast
		c.Broadcast = &b
		f(&c)
		return &c
	}
	// Protobuf whose kind names no kind, and one whose timestamp is out of range.
	badKindPB, _ := proto.Marshal(&moderationv1.Event{Id: "e", Kind: "like", Account: "acct_1", At: timestamppb.New(t0)})
	badTimePB, _ := proto.Marshal(&moderationv1.Event{Id: "e", Kind: "unfollow", Account: "acct_1",
		At: &timestamppb.Timestamp{Seconds: 1, Nanos: 2e9}, Body: &moderationv1.Event_Unfollow{Unfollow: &moderationv1.Unfollow{Follower: "f"}}})

	big := with(func(ev *moderation.Event) { ev.Broadcast.Text = strings.Repeat("x", moderation.MaxEventBytes) })

	tests := []struct {
		name        string
		subject     string
		contentType string
		data        []byte
		reason      string
		contains    string
	}{
		{"too large json", bc.Subject(), "", mustJSON(t, big), ReasonTooLarge, "more than the limit"},
		{"too large beats bad subject", "nope", "", make([]byte, moderation.MaxEventBytes+1), ReasonTooLarge, ""},
		{"subject prefix", "mod.event.broadcast.acct_1", "", []byte(bcJSON), ReasonBadSubject, "mod.events.<kind>.<account>"},
		{"subject too short", "mod.events.broadcast", "", []byte(bcJSON), ReasonBadSubject, ""},
		{"subject too long", "mod.events.broadcast.acct_1.x", "", []byte(bcJSON), ReasonBadSubject, ""},
		{"subject empty kind", "mod.events..acct_1", "", []byte(bcJSON), ReasonBadSubject, ""},
		{"subject bad account", "mod.events.broadcast.acct*1", "", []byte(bcJSON), ReasonBadSubject, ""},
		{"subject empty", "", "", []byte(bcJSON), ReasonBadSubject, ""},
		{"content type", bc.Subject(), "text/plain", []byte(bcJSON), ReasonBadContentType, "text/plain"},
		{"not json", bc.Subject(), "", []byte("hello"), ReasonBadJSON, ""},
		{"empty json", bc.Subject(), "", nil, ReasonBadJSON, ""},
		{"trailing data", bc.Subject(), "", []byte(bcJSON + `{"id":"x"}`), ReasonBadJSON, ""},
		{"json wrong type", bc.Subject(), "", []byte(`{"id":"e","kind":"broadcast","broadcast":{"recipients":"many"}}`), ReasonBadJSON, "recipients"},
		{"json bad time", bc.Subject(), "", []byte(`{"id":"e","kind":"broadcast","at":"yesterday"}`), ReasonBadJSON, ""},
		{"json array", bc.Subject(), "", []byte(`[]`), ReasonBadJSON, ""},
		{"json invalid utf8", bc.Subject(), "", []byte("{\"id\":\"\xff\"}"), ReasonBadJSON, "UTF-8"},
		{"not protobuf", bc.Subject(), "application/protobuf", []byte{0xff, 0xff, 0xff}, ReasonBadProtobuf, ""},
		{"protobuf bad timestamp", "mod.events.unfollow.acct_1", "application/protobuf", badTimePB, ReasonBadProtobuf, "at:"},
		{"unknown kind json", "mod.events.like.acct_1", "", []byte(`{"id":"e","kind":"like","account":"acct_1","at":"2026-03-01T00:00:00Z"}`), ReasonUnknownKind, `"like" is not a known kind`},
		{"missing kind", bc.Subject(), "", []byte(`{}`), ReasonUnknownKind, "kind is required"},
		{"unknown kind protobuf", "mod.events.like.acct_1", "application/protobuf", badKindPB, ReasonUnknownKind, "like"},
		{"missing id", bc.Subject(), "", mustJSON(t, with(func(ev *moderation.Event) { ev.ID = "" })), ReasonInvalid, "id is required"},
		{"missing at", bc.Subject(), "", mustJSON(t, with(func(ev *moderation.Event) { ev.At = time.Time{} })), ReasonInvalid, "at is required"},
		{"year 0", bc.Subject(), "", []byte(strings.Replace(bcJSON, "2026-03-01T12:30:00Z", "0001-01-01T00:30:00+01:00", 1)), ReasonBadTime, "before 2011-01-01"},
		{"1969", bc.Subject(), "", []byte(strings.Replace(bcJSON, "2026-03-01T12:30:00Z", "1969-12-31T23:59:59Z", 1)), ReasonBadTime, "at 1969-12-31T23:59:59Z is before 2011-01-01"},
		{"1969 protobuf", bc.Subject(), "application/protobuf", mustProto(t, with(func(ev *moderation.Event) { ev.At = time.Unix(-1, 0) })), ReasonBadTime, "before 2011-01-01"},
		{"just before the platform", bc.Subject(), "", []byte(strings.Replace(bcJSON, "2026-03-01T12:30:00Z", "2010-12-31T23:59:59.999Z", 1)), ReasonBadTime, "before 2011-01-01"},
		{"missing body", bc.Subject(), "", mustJSON(t, with(func(ev *moderation.Event) { ev.Broadcast = nil })), ReasonInvalid, "broadcast"},
		{"missing body protobuf", bc.Subject(), "application/protobuf", mustProto(t, with(func(ev *moderation.Event) { ev.Broadcast = nil })), ReasonInvalid, "broadcast"},
		{"two bodies", bc.Subject(), "", mustJSON(t, with(func(ev *moderation.Event) { ev.Unfollow = &moderation.Unfollow{Follower: "f"} })), ReasonInvalid, "more than one body"},
		{"negative recipients", bc.Subject(), "", mustJSON(t, with(func(ev *moderation.Event) { ev.Broadcast.Recipients = -1 })), ReasonInvalid, "recipients"},
		{"bad account type", bc.Subject(), "application/protobuf", mustProto(t, with(func(ev *moderation.Event) {
			ev.AccountInfo = &moderation.AccountInfo{Type: "robot", CreatedAt: created}
		})), ReasonInvalid, "account_info.type"},
		{"kind mismatch", "mod.events.complaint.acct_1", "", []byte(bcJSON), ReasonSubjectMismatch, "subject kind complaint does not match event kind broadcast"},
		{"account mismatch", "mod.events.broadcast.acct_2", "", []byte(bcJSON), ReasonSubjectMismatch, "subject_mismatch: subject account acct_2 does not match event account acct_1"},
		{"account mismatch protobuf", "mod.events.broadcast.acct_2", "application/protobuf", mustProto(t, bc), ReasonSubjectMismatch, "acct_2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(tt.subject, tt.contentType, tt.data)
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", ev)
			}
			if ev != nil {
				t.Errorf("Decode returned an event with its error")
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError: %v", err, err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q (%v)", got, tt.reason, err)
			}
			if !strings.HasPrefix(err.Error(), tt.reason+": ") || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Error() = %q, want prefix %q containing %q", err, tt.reason+": ", tt.contains)
			}
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			if de.Unwrap() == nil {
				t.Errorf("Unwrap() = nil")
			}
		})
	}
}

func TestReason(t *testing.T) {
	if got := Reason(nil); got != "" {
		t.Errorf("Reason(nil) = %q", got)
	}
	if got := Reason(errors.New("boom")); got != ReasonInvalid {
		t.Errorf("Reason(other) = %q", got)
	}
	wrapped := errors.Join(errors.New("consumer"), &DecodeError{Reason: ReasonBadJSON, Err: errors.New("x")})
	if got := Reason(wrapped); got != ReasonBadJSON {
		t.Errorf("Reason(wrapped) = %q", got)
	}
	var fe *moderation.FieldError
	_, err := Decode("mod.events.broadcast.acct_1", "", []byte(`{"id":"","kind":"broadcast"}`))
	if !errors.As(err, &fe) || fe.Field != "id" {
		t.Errorf("validation error does not unwrap to the FieldError: %v", err)
	}
}

func TestEncodeProtoRefusesTwoBodies(t *testing.T) {
	ev := *sample()[moderation.KindComplaint]
	ev.Unfollow = &moderation.Unfollow{Follower: "f"}
	if _, err := EncodeProto(&ev); err == nil {
		t.Fatal("EncodeProto accepted an event with two bodies")
	}
	ev = *sample()[moderation.KindComplaint]
	ev.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := EncodeProto(&ev); err == nil {
		t.Fatal("EncodeProto accepted a time past year 9999")
	}
}

func FuzzDecode(f *testing.F) {
	for _, ev := range sample() {
		f.Add(ev.Subject(), "", mustJSON(f, ev))
		f.Add(ev.Subject(), "application/protobuf", mustProto(f, ev))
	}
	f.Add("mod.events.broadcast.acct_1", "application/json", []byte(`{"id":"e","kind":"broadcast","account":"acct_1","at":"2026-01-01T00:00:00Z","broadcast":{"id":"b","recipients":-1}}`))
	f.Add("mod.events.x.y", "text/plain", []byte("garbage"))
	f.Add("mod.events..", "application/x-protobuf", []byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, subject, contentType string, data []byte) {
		ev, err := Decode(subject, contentType, data)
		if err != nil {
			if ev != nil {
				t.Fatalf("event returned with error %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error is not a classified *DecodeError: %v", err)
			}
			return
		}
		if verr := ev.Validate(); verr != nil {
			t.Fatalf("Decode accepted an invalid event: %v", verr)
		}
		if ev.Subject() != subject {
			t.Fatalf("Decode accepted event for %s on subject %s", ev.Subject(), subject)
		}
		// An accepted event survives both encodings.
		for _, ct := range []string{"application/json", "application/protobuf"} {
			var b []byte
			if ct == "application/json" {
				b, err = EncodeJSON(ev)
			} else {
				b, err = EncodeProto(ev)
			}
			if err != nil {
				t.Fatalf("encode %s: %v", ct, err)
			}
			if len(b) > moderation.MaxEventBytes {
				continue // re-encoding may grow past the limit (JSON escapes)
			}
			again, err := Decode(subject, ct, b)
			if err != nil {
				t.Fatalf("re-decode %s: %v", ct, err)
			}
			if again.ID != ev.ID || !again.At.Equal(ev.At) {
				t.Fatalf("re-decode %s changed the event: %+v vs %+v", ct, again, ev)
			}
		}
	})
}

func BenchmarkDecodeJSON(b *testing.B) {
	ev := sample()[moderation.KindFriendAdd]
	data := mustJSON(b, ev)
	subject := ev.Subject()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(subject, "application/json", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeProto(b *testing.B) {
	ev := sample()[moderation.KindFriendAdd]
	data := mustProto(b, ev)
	subject := ev.Subject()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(subject, "application/protobuf", data); err != nil {
			b.Fatal(err)
		}
	}
}

// An event may be dated up to the allowed skew ahead of the clock that
// took it in, and from Earliest on; 9999 and 2100 are what an attacker
// sent to drag an account's windows out of reach.
func TestCheckClock(t *testing.T) {
	ref := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Time
		skew time.Duration
		want string // reason, "" for accepted
	}{
		{"now", ref, 0, ""},
		{"an hour old", ref.Add(-time.Hour), 0, ""},
		{"at the default skew", ref.Add(DefaultMaxClockSkew), 0, ""},
		{"past the default skew", ref.Add(DefaultMaxClockSkew + time.Nanosecond), 0, ReasonBadTime},
		{"inside a wider skew", ref.Add(30 * time.Minute), time.Hour, ""},
		{"past a narrower skew", ref.Add(2 * time.Second), time.Second, ReasonBadTime},
		{"2100", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 0, ReasonBadTime},
		{"9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 0, ReasonBadTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &moderation.Event{At: tt.at}
			err := CheckClock(ev, ref, tt.skew)
			if got := Reason(err); got != tt.want {
				t.Fatalf("CheckClock(%s): got reason %q (%v), want %q", tt.at, got, err, tt.want)
			}
			if err != nil && (!errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), "ahead of the service's clock")) {
				t.Errorf("got error %q, want an invalid-input error saying the event is ahead of the clock", err)
			}
		})
	}
}
