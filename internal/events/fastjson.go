package events

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"

	"moderation/internal/moderation"
)

// The fast path for JSON events.
//
// encoding/json was about half of what the pipeline spends on an event
// (reflection, and an allocation for nearly every value). decodeFastJSON
// reads the events publishers actually send straight from the bytes, with
// one allocation for the structs and one for the short strings.
//
// It is deliberately incomplete. Whenever the input holds anything it is not
// certain to decode exactly as encoding/json would — escapes, a duplicate or
// case-folded key, a value of an unexpected type, a number encoding/json
// would refuse for an int64, deep nesting, trailing data, a syntax error —
// it reports "not handled" and decodeJSON runs encoding/json on the same
// bytes. So the fast path never has to reproduce an encoding/json error or a
// corner of its semantics: its results are a subset of encoding/json's, and
// the differential tests and FuzzFastJSONMatchesStdlib hold it to that.

// fieldKind is the Go type a member decodes into.
type fieldKind uint8

const (
	kString fieldKind = iota // string or named string type; into fastEvent.strs
	kTime                    // time.Time; into fastEvent.times
	kBool                    // bool; fastEvent.verified
	kInt                     // int64; fastEvent.recipients
	kObject                  // pointer to a struct; presence in fastEvent.objects
)

// fastField is one member of an object as the fast path knows it. name is
// the json tag of the domain type (TestFastJSONKnowsEveryField checks them
// against the struct tags and types).
type fastField struct {
	name   string
	kind   fieldKind
	slot   int         // index in strs or times, or the object's bit
	fields []fastField // members of an object
}

// Slots of the strings of an event, in fastEvent.strs.
const (
	sID = iota
	sKind
	sAccount
	sInfoType
	sBroadcastID
	sBroadcastText
	sFriendAddTarget
	sFriendAddMessage
	sFriendAddSource
	sComplaintReporter
	sComplaintReason
	sComplaintBroadcastID
	sUnfollowFollower
	sFriendResponseTarget
	sFriendResponseResponse
	numStrings
)

// Slots of the times, in fastEvent.times.
const (
	tAt = iota
	tCreatedAt
	numTimes
)

// Bits of the objects, in fastEvent.objects.
const (
	oAccountInfo = 1 << iota
	oBroadcast
	oFriendAdd
	oComplaint
	oUnfollow
	oFriendResponse
)

var eventFields = []fastField{
	{name: "id", kind: kString, slot: sID},
	{name: "kind", kind: kString, slot: sKind},
	{name: "account", kind: kString, slot: sAccount},
	{name: "at", kind: kTime, slot: tAt},
	{name: "account_info", kind: kObject, slot: oAccountInfo, fields: []fastField{
		{name: "type", kind: kString, slot: sInfoType},
		{name: "verified", kind: kBool},
		{name: "created_at", kind: kTime, slot: tCreatedAt},
	}},
	{name: "broadcast", kind: kObject, slot: oBroadcast, fields: []fastField{
		{name: "id", kind: kString, slot: sBroadcastID},
		{name: "text", kind: kString, slot: sBroadcastText},
		{name: "recipients", kind: kInt},
	}},
	{name: "friend_add", kind: kObject, slot: oFriendAdd, fields: []fastField{
		{name: "target", kind: kString, slot: sFriendAddTarget},
		{name: "message", kind: kString, slot: sFriendAddMessage},
		{name: "source", kind: kString, slot: sFriendAddSource},
	}},
	{name: "complaint", kind: kObject, slot: oComplaint, fields: []fastField{
		{name: "reporter", kind: kString, slot: sComplaintReporter},
		{name: "reason", kind: kString, slot: sComplaintReason},
		{name: "broadcast_id", kind: kString, slot: sComplaintBroadcastID},
	}},
	{name: "unfollow", kind: kObject, slot: oUnfollow, fields: []fastField{
		{name: "follower", kind: kString, slot: sUnfollowFollower},
	}},
	{name: "friend_response", kind: kObject, slot: oFriendResponse, fields: []fastField{
		{name: "target", kind: kString, slot: sFriendResponseTarget},
		{name: "response", kind: kString, slot: sFriendResponseResponse},
	}},
}

// known are the values a string slot usually holds. They are returned as
// constants instead of allocated; a value not listed is only allocated, so
// this list affects speed, never results.
var known = [numStrings][]string{
	sKind: {string(moderation.KindBroadcast), string(moderation.KindFriendAdd), string(moderation.KindComplaint),
		string(moderation.KindUnfollow), string(moderation.KindFriendResponse)},
	sInfoType: {string(moderation.AccountPersonal), string(moderation.AccountSubscription),
		string(moderation.AccountService), string(moderation.AccountEnterprise)},
	sFriendAddSource: {string(moderation.SourceSearch), string(moderation.SourceGroup), string(moderation.SourceContact),
		string(moderation.SourceQR), string(moderation.SourceCard), string(moderation.SourceOther)},
	sComplaintReason:        {"spam", "ads", "fraud", "porn", "harassment", "other"},
	sFriendResponseResponse: {"accepted", "ignored", "reported"},
}

// span is where a string's contents are in the input; empty for a string
// that is absent, null or "", which all decode to "".
type span struct{ start, end int }

// fastEvent is what the parser found, kept on the stack; event turns it
// into a moderation.Event only once the whole input is known to be handled.
type fastEvent struct {
	strs       [numStrings]span
	set        uint16 // bit i: strs[i] was read
	times      [numTimes]time.Time
	verified   bool
	recipients int64
	objects    uint8
}

// maxSkipDepth bounds the nesting of an unknown value. encoding/json allows
// 10000 levels; deeper than this the fast path leaves it to encoding/json
// rather than keep a stack.
const maxSkipDepth = 64

// decodeFastJSON decodes data as json.Unmarshal into a new moderation.Event
// would, and only data that is valid UTF-8 (which decodeJSON requires
// before json.Unmarshal). ok is false when it cannot be sure to: data may
// still be a valid event, or not; the caller must then take the slow path.
// It never returns an error of its own.
func decodeFastJSON(data []byte) (ev *moderation.Event, ok bool) {
	p := fastParser{data: data}
	var e fastEvent
	if p.peek() != '{' {
		return nil, false // null, arrays, empty input: rare, and not an event
	}
	p.pos++
	if !p.object(eventFields, &e) {
		return nil, false
	}
	if p.peek(); p.pos != len(data) {
		return nil, false // trailing data: json.Unmarshal refuses it
	}
	return e.event(data), true
}

type fastParser struct {
	data []byte
	pos  int
}

// peek skips JSON whitespace and returns the next byte, or 0 at the end
// (NUL cannot start or end any JSON token, so it needs no other signal).
func (p *fastParser) peek() byte {
	if p.pos < len(p.data) && p.data[p.pos] > ' ' {
		return p.data[p.pos] // compact JSON: no whitespace to skip
	}
	for ; p.pos < len(p.data); p.pos++ {
		switch c := p.data[p.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// object reads the members of an object whose '{' is consumed, into e.
func (p *fastParser) object(fields []fastField, e *fastEvent) bool {
	var seen uint16
	next := 0 // the field expected next: publishers keep the struct's order
	for first := true; ; first = false {
		c := p.peek()
		if c == '}' {
			p.pos++
			return true
		}
		if !first {
			if c != ',' {
				return false
			}
			p.pos++
			c = p.peek() // a '}' now would be a syntax error
		}
		if c != '"' {
			return false
		}
		i := p.key(fields, next)
		if i < 0 || p.peek() != ':' {
			return false
		}
		p.pos++
		if i == len(fields) {
			if !p.skip() {
				return false
			}
			continue
		}
		// A repeated key: encoding/json lets the last win, and merges
		// repeated objects into one struct. Rare; not worth copying.
		if seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		next = i + 1
		if !p.member(&fields[i], e) {
			return false
		}
	}
}

// key reads the key at p.pos and returns the index of the field it names,
// len(fields) for a key the service does not know, or -1 to fall back.
// next is the field to try first.
func (p *fastParser) key(fields []fastField, next int) int {
	// The usual case, a field's name and its closing quote, costs a
	// comparison (usually one, with next) and no scan.
	for k := range fields {
		i := next + k
		if i >= len(fields) {
			i -= len(fields)
		}
		name := fields[i].name
		end := p.pos + 1 + len(name)
		if end < len(p.data) && p.data[end] == '"' && string(p.data[p.pos+1:end]) == name {
			p.pos = end + 1
			return i
		}
	}
	start, end, ok := p.str(strKey)
	if !ok {
		return -1
	}
	// encoding/json matches keys case-insensitively (and its v2 engine can
	// also ignore '_' and '-'): such a key is not unknown, and which of two
	// spellings wins is its business.
	for i := range fields {
		if looseEqual(p.data[start:end], fields[i].name) {
			return -1
		}
	}
	return len(fields)
}

// member reads the value of a known field into e.
func (p *fastParser) member(f *fastField, e *fastEvent) bool {
	c := p.peek()
	if c == 'n' {
		// null leaves a string, bool, number or time.Time as it was (zero,
		// since keys are not repeated) and a pointer nil: as json.Unmarshal.
		return p.literal("null")
	}
	switch f.kind {
	case kString:
		if c != '"' {
			return false
		}
		start, end, ok := p.str(strValue)
		e.strs[f.slot] = span{start, end}
		e.set |= 1 << f.slot
		return ok
	case kTime:
		if c != '"' {
			return false
		}
		start := p.pos
		if _, _, ok := p.str(strValue); !ok {
			return false
		}
		if t, ok := parseUTC(p.data[start+1 : p.pos-1]); ok {
			e.times[f.slot] = t
			return true
		}
		// encoding/json hands the quoted string to time.Time's
		// UnmarshalJSON; calling it on the same bytes gives the same time,
		// zone (Local when the offset matches it) and leniency.
		return e.times[f.slot].UnmarshalJSON(p.data[start:p.pos]) == nil
	case kBool:
		switch c {
		case 't':
			e.verified = true
			return p.literal("true")
		case 'f':
			return p.literal("false")
		}
		return false
	case kInt:
		return p.int(&e.recipients)
	case kObject:
		if c != '{' {
			return false
		}
		p.pos++
		e.objects |= uint8(f.slot)
		return p.object(f.fields, e)
	}
	return false
}

// plain marks the bytes that stand for themselves inside a string: not a
// quote, a backslash, a control character (a syntax error) or non-ASCII.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// What str accepts in a string besides plain characters.
type strMode uint8

const (
	strValue strMode = iota // valid UTF-8; no escapes, which would have to be decoded (surrogates and all)
	strKey                  // ASCII only: a non-ASCII key might fold (Unicode folding, K for k) to a known one
	strSkip                 // valid UTF-8 and valid escapes: the string is not kept
)

// str reads a string at p.pos and returns where its contents are. Any
// invalid UTF-8 sends the input to encoding/json: it would replace it with
// U+FFFD, and decodeJSON refuses it before that.
func (p *fastParser) str(mode strMode) (start, end int, ok bool) {
	d := p.data
	start = p.pos + 1
	high := false
	for i := start; i < len(d); i++ {
		if len(d)-i >= 8 {
			// Eight bytes at a time, to the first that needs a look: a
			// quote, a backslash, a control character or a non-ASCII byte
			// (the classic SWAR tests; the lowest byte flagged is exact).
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			x := binary.LittleEndian.Uint64(d[i:])
			q, b := x^(ones*'"'), x^(ones*'\\')
			special := ((x - ones*0x20) | (q-ones)&^q | (b-ones)&^b | x) & highs
			if special == 0 {
				i += 7
				continue
			}
			i += bits.TrailingZeros64(special) / 8
		}
		switch c := d[i]; {
		case c == '"':
			if high && (mode == strKey || !utf8.Valid(d[start:i])) {
				return 0, 0, false
			}
			p.pos = i + 1
			return start, i, true
		case plain[c]:
		case c >= utf8.RuneSelf:
			high = true
		case c == '\\' && mode == strSkip:
			if i++; i == len(d) {
				return 0, 0, false
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(d)-i <= 4 {
					return 0, 0, false
				}
				for _, h := range d[i+1 : i+5] {
					if !isDigit(h) && !('a' <= h|0x20 && h|0x20 <= 'f') {
						return 0, 0, false
					}
				}
				i += 4
			default:
				return 0, 0, false
			}
		default:
			return 0, 0, false // a control character: a syntax error
		}
	}
	return 0, 0, false
}

// int reads an int64 the way encoding/json does for a number: plain
// integers only (it refuses fractions and exponents for an int64). More
// than 18 digits might overflow; those go to encoding/json.
func (p *fastParser) int(n *int64) bool {
	i := p.pos
	neg := i < len(p.data) && p.data[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for ; i < len(p.data) && isDigit(p.data[i]); i++ {
		v = v*10 + int64(p.data[i]-'0')
	}
	digits := i - start
	if digits == 0 || digits > 18 || digits > 1 && p.data[start] == '0' {
		return false
	}
	if i < len(p.data) {
		if c := p.data[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	if neg {
		v = -v
	}
	*n, p.pos = v, i
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *fastParser) literal(lit string) bool {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return false
	}
	p.pos += len(lit)
	return true
}

// skip reads a value of a field the service does not know, of any JSON type,
// checking its syntax as strictly as encoding/json (which refuses the whole
// input for a syntax error anywhere) without decoding it. It keeps its own
// stack of open arrays and objects, one bit a level, so it does not recurse.
func (p *fastParser) skip() bool {
	var arrays uint64 // bit d: level d is an array
	depth := 0
	for {
		// A value.
		switch c := p.peek(); {
		case c == '{' || c == '[':
			p.pos++
			if depth == maxSkipDepth {
				return false
			}
			if c == '[' {
				arrays |= 1 << depth
				if p.peek() == ']' {
					p.pos++
					break
				}
				depth++
				continue
			}
			arrays &^= 1 << depth
			if p.peek() == '}' {
				p.pos++
				break
			}
			depth++
			if !p.skipKey() {
				return false
			}
			continue
		case c == '"':
			if !p.strSkip() {
				return false
			}
		case c == 't':
			if !p.literal("true") {
				return false
			}
		case c == 'f':
			if !p.literal("false") {
				return false
			}
		case c == 'n':
			if !p.literal("null") {
				return false
			}
		case c == '-' || isDigit(c):
			if !p.skipNumber() {
				return false
			}
		default:
			return false
		}
		// After a value: close what ends here, up to the next value.
		for {
			if depth == 0 {
				return true
			}
			inArray := arrays&(1<<(depth-1)) != 0
			c := p.peek()
			p.pos++
			switch {
			case c == ',' && inArray:
			case c == ',':
				if !p.skipKey() {
					return false
				}
			case c == ']' && inArray, c == '}' && !inArray:
				depth--
				continue
			default:
				return false
			}
			break
		}
	}
}

// skipKey reads a key of an unknown object and its colon.
func (p *fastParser) skipKey() bool {
	if p.peek() != '"' || !p.strSkip() || p.peek() != ':' {
		return false
	}
	p.pos++
	return true
}

func (p *fastParser) strSkip() bool {
	_, _, ok := p.str(strSkip)
	return ok
}

// skipNumber reads a number with the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *fastParser) skipNumber() bool {
	d, i := p.data, p.pos
	digits := func() bool {
		start := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		return i > start
	}
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	p.pos = i
	return true
}

// looseEqual reports whether key could name the field name for a JSON
// decoder more lenient than an exact match: ASCII case ignored, and '_' and
// '-' too.
func looseEqual(key []byte, name string) bool {
	i, j := 0, 0
	for {
		for i < len(key) && (key[i] == '_' || key[i] == '-') {
			i++
		}
		for j < len(name) && (name[j] == '_' || name[j] == '-') {
			j++
		}
		if i == len(key) || j == len(name) {
			return i == len(key) && j == len(name)
		}
		if key[i]|0x20 != name[j]|0x20 {
			return false
		}
		i++
		j++
	}
}

// box holds an event with its account info and body, so that one
// allocation makes all three.
type box[B any] struct {
	ev   moderation.Event
	info moderation.AccountInfo
	body B
}

// event builds the moderation.Event from what the parser found.
func (e *fastEvent) event(data []byte) *moderation.Event {
	var s [numStrings]string
	e.strings(data, &s)

	var ev *moderation.Event
	var info *moderation.AccountInfo
	switch {
	case e.objects&oFriendAdd != 0:
		b := new(box[moderation.FriendAdd])
		ev, info, b.ev.FriendAdd = &b.ev, &b.info, &b.body
	case e.objects&oBroadcast != 0:
		b := new(box[moderation.Broadcast])
		ev, info, b.ev.Broadcast = &b.ev, &b.info, &b.body
	case e.objects&oComplaint != 0:
		b := new(box[moderation.Complaint])
		ev, info, b.ev.Complaint = &b.ev, &b.info, &b.body
	case e.objects&oUnfollow != 0:
		b := new(box[moderation.Unfollow])
		ev, info, b.ev.Unfollow = &b.ev, &b.info, &b.body
	case e.objects&oFriendResponse != 0:
		b := new(box[moderation.FriendResponse])
		ev, info, b.ev.FriendResponse = &b.ev, &b.info, &b.body
	default:
		b := new(box[struct{}])
		ev, info = &b.ev, &b.info
	}

	ev.ID = s[sID]
	ev.Kind = moderation.Kind(s[sKind])
	ev.Account = s[sAccount]
	ev.At = e.times[tAt]
	if e.objects&oAccountInfo != 0 {
		*info = moderation.AccountInfo{Type: moderation.AccountType(s[sInfoType]), Verified: e.verified, CreatedAt: e.times[tCreatedAt]}
		ev.AccountInfo = info
	}
	// More than one body makes an invalid event, which Validate refuses; it
	// still decodes as encoding/json would, the others allocated apart.
	if e.objects&oBroadcast != 0 {
		if ev.Broadcast == nil {
			ev.Broadcast = new(moderation.Broadcast)
		}
		*ev.Broadcast = moderation.Broadcast{ID: s[sBroadcastID], Text: s[sBroadcastText], Recipients: e.recipients}
	}
	if e.objects&oFriendAdd != 0 {
		*ev.FriendAdd = moderation.FriendAdd{Target: s[sFriendAddTarget], Message: s[sFriendAddMessage], Source: moderation.Source(s[sFriendAddSource])}
	}
	if e.objects&oComplaint != 0 {
		if ev.Complaint == nil {
			ev.Complaint = new(moderation.Complaint)
		}
		*ev.Complaint = moderation.Complaint{Reporter: s[sComplaintReporter], Reason: s[sComplaintReason], BroadcastID: s[sComplaintBroadcastID]}
	}
	if e.objects&oUnfollow != 0 {
		if ev.Unfollow == nil {
			ev.Unfollow = new(moderation.Unfollow)
		}
		*ev.Unfollow = moderation.Unfollow{Follower: s[sUnfollowFollower]}
	}
	if e.objects&oFriendResponse != 0 {
		if ev.FriendResponse == nil {
			ev.FriendResponse = new(moderation.FriendResponse)
		}
		*ev.FriendResponse = moderation.FriendResponse{Target: s[sFriendResponseTarget], Response: s[sFriendResponseResponse]}
	}
	return ev
}

// maxShared is the longest string that shares an allocation with the
// others of its event. Ids, accounts and the like are short and often kept
// (as map keys, in decisions); a long string (a broadcast's text) gets its
// own allocation so that keeping an account id never keeps a text alive.
const maxShared = 64

// strings makes the strings of the event: known values as constants, long
// ones apart, and all the other short ones in one allocation.
func (e *fastEvent) strings(data []byte, out *[numStrings]string) {
	shared := 0
	for set := e.set; set != 0; set &= set - 1 {
		i := bits.TrailingZeros16(set)
		b := data[e.strs[i].start:e.strs[i].end]
		switch {
		case len(b) == 0:
		case intern(known[i], b, &out[i]):
		case len(b) > maxShared:
			out[i] = string(b)
		default:
			shared += len(b)
		}
	}
	if shared == 0 {
		return
	}
	// The builder never moves what it holds once grown to the total, so
	// every string cut from it shares the one array.
	var sb strings.Builder
	sb.Grow(shared)
	for set := e.set; set != 0; set &= set - 1 {
		i := bits.TrailingZeros16(set)
		if b := data[e.strs[i].start:e.strs[i].end]; len(b) > 0 && out[i] == "" {
			n := sb.Len()
			sb.Write(b)
			out[i] = sb.String()[n:]
		}
	}
}

func intern(values []string, b []byte, out *string) bool {
	for _, v := range values {
		if string(b) == v {
			*out = v
			return true
		}
	}
	return false
}

// parseUTC parses the commonest form of an RFC 3339 time, in UTC
// ("2006-01-02T15:04:05Z", with up to nine digits of fraction), exactly as
// time.Time's UnmarshalJSON does (same range checks, same Time value) but
// without its overhead. ok is false for anything else, offsets included,
// which are left to UnmarshalJSON.
func parseUTC(b []byte) (t time.Time, ok bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(s []byte) int {
		n := 0
		for _, c := range s {
			if !isDigit(c) {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, minute, sec := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		if nsec = num(frac[1:]); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	unix := (daysSinceEpoch(year, month, day)*24+int64(hour))*3600 + int64(minute)*60 + int64(sec)
	// time.Date(..., time.UTC), which UnmarshalJSON uses, builds exactly
	// this value: Unix time, no monotonic reading, nil location.
	return time.Unix(unix, int64(nsec)).UTC(), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date, in the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil), for years
// 0 to 9999.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := (y+400)/400 - 1 // floor(y/400) for y >= -400
	yoe := y - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
