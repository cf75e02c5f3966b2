package detectors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unique"
)

// Snapshots: an account's detector state and the cross-account indexes as
// bytes, so a restart restores them instead of replaying weeks of events
// (internal/pipeline/snapshot.go). The state is unexported fixed arrays of
// small counters, so the encoding is this file's own, on encoding/binary's
// varints: most counters take a byte, empty buckets none (a bit in a
// mask), and an account is written and read at memory speed with no
// reflection and no exported mirror of every type (gob and msgpack would
// need both). What can be derived is not written: the indexes' per-key
// counts are rebuilt from their live entries, which makes a corrupt
// snapshot unable to leave counts that disagree with the entries.
//
// Every value is checked on the way in (ranges, lengths against the bytes
// left, references between entries), so garbage is an error, never a
// panic nor a huge allocation (FuzzSnapshotDecode), and the encoding is
// canonical: decoding and encoding again gives the same bytes.

// SnapshotFormat is the first byte of every encoding written here. Bump it
// whenever what is written, or what a detector's state means, changes: a
// snapshot in another format is refused (ErrSnapshotFormat) and the
// service rebuilds from the events instead.
const SnapshotFormat byte = 8

// ErrSnapshotFormat is a snapshot written in another format, by another
// build.
var ErrSnapshotFormat = errors.New("detector snapshot in another format")

// errCorrupt is a snapshot that does not decode.
var errCorrupt = errors.New("corrupt detector snapshot")

// MarshalBinary encodes the account's detector state.
func (a *Account) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// AppendBinary appends the account's encoding to b: a snapshot of a million
// accounts is one buffer, not a million.
func (a *Account) AppendBinary(b []byte) ([]byte, error) {
	e := writer{b: append(b, SnapshotFormat)}
	a.encode(&e)
	return e.b, nil
}

// UnmarshalBinary replaces the account's state with the one encoded in
// data; on an error the account is left as it was.
func (a *Account) UnmarshalBinary(data []byte) error {
	d := reader{b: data}
	d.format()
	var n Account
	n.decode(&d)
	if err := d.end(); err != nil {
		return fmt.Errorf("decode account: %w", err)
	}
	*a = n
	return nil
}

// What an account's encoding holds besides its fixed fields.
const (
	partBulk = 1 << iota
	partQuota
	partComplaints
	partText
	partRing
	partAnswers // inside BulkAdd
	partRecord  // inside ComplaintRate
)

func (a *Account) encode(e *writer) {
	e.iv(a.created)
	e.iv(a.Last)
	e.iv(int64(a.woke))
	e.uv(uint64(a.dormant))
	e.u8(a.typ)
	e.u8(a.flags)
	var parts uint8
	for bit, on := range []bool{a.BulkAdd != nil, a.Quota != nil, a.Complaints != nil, a.Text != nil, a.Ring != nil} {
		if on {
			parts |= 1 << bit
		}
	}
	e.u8(parts)
	if a.BulkAdd != nil {
		a.BulkAdd.encode(e)
	}
	if q := a.Quota; q != nil {
		e.iv(int64(q.day))
		e.iv(int64(q.month))
		e.uv(uint64(q.dayCount))
		e.uv(uint64(q.monthCount))
	}
	if a.Complaints != nil {
		a.Complaints.encode(e)
	}
	if a.Text != nil {
		a.Text.encode(e)
	}
	if r := a.Ring; r != nil {
		for _, v := range []int32{r.Accounts, r.Targets, r.Shared, r.since} {
			e.iv(int64(v))
		}
		e.iv(r.at)
	}
}

func (a *Account) decode(d *reader) {
	a.created = d.iv()
	a.Last = d.iv()
	a.woke = d.i32()
	a.dormant = uint16(d.uvMax(math.MaxUint16))
	a.typ = d.u8()
	a.flags = d.u8()
	if int(a.typ) >= len(accountTypes) || a.flags&^(flagVerified|flagHasLast|flagUnrecorded) != 0 {
		d.fail("account type or flags")
	}
	parts := d.u8()
	if parts&^(partBulk|partQuota|partComplaints|partText|partRing) != 0 {
		d.fail("account parts")
	}
	if parts&partBulk != 0 {
		a.BulkAdd = &BulkAdd{}
		a.BulkAdd.decode(d)
	}
	if parts&partQuota != 0 {
		a.Quota = &BroadcastQuota{day: d.i32(), month: d.i32(), dayCount: d.uv32(), monthCount: d.uv32()}
	}
	if parts&partComplaints != 0 {
		a.Complaints = &ComplaintRate{}
		a.Complaints.decode(d)
	}
	if parts&partText != 0 {
		a.Text = &BroadcastText{}
		a.Text.decode(d)
	}
	if parts&partRing != 0 {
		a.Ring = &Ring{Accounts: d.i32(), Targets: d.i32(), Shared: d.i32(), since: d.i32(), at: d.iv()}
	}
}

func (b *BulkAdd) encode(e *writer) {
	encodeRing(e, &b.minute)
	encodeRing(e, &b.hour)
	encodeRing(e, &b.hourStrangers)
	encodeRing(e, &b.day)
	encodeRing(e, &b.dayStrangers)
	encodeRing(e, &b.monthStrangers)
	e.uv(uint64(len(b.recent)))
	var prev uint32
	for _, t := range b.recent {
		e.u32(t.hash)
		e.iv(int64(t.at) - int64(prev)) // nearly in time order: small deltas
		prev = t.at
	}
	var parts uint8
	if b.answers != nil {
		parts = partAnswers
	}
	e.u8(parts)
	if b.answers != nil {
		encodeRing(e, &b.answers.all)
		encodeRing(e, &b.answers.reported)
		encodeRing(e, &b.answers.rejected)
		encodeRing(e, &b.answers.strangers)
		encodeRing(e, &b.answers.strangersRejected)
	}
}

func (b *BulkAdd) decode(d *reader) {
	decodeRing(d, &b.minute)
	decodeRing(d, &b.hour)
	decodeRing(d, &b.hourStrangers)
	decodeRing(d, &b.day)
	decodeRing(d, &b.dayStrangers)
	decodeRing(d, &b.monthStrangers)
	if n := d.count(maxRecentTargets, 5); n > 0 {
		b.recent = make([]target, n)
		var prev int64
		for i := range b.recent {
			b.recent[i].hash = d.u32()
			at := prev + d.iv()
			if at < 0 || at > math.MaxUint32 {
				d.fail("target time")
				return
			}
			b.recent[i].at, prev = uint32(at), at
		}
	}
	switch d.u8() {
	case 0:
	case partAnswers:
		b.answers = &answers{}
		decodeRing(d, &b.answers.all)
		decodeRing(d, &b.answers.reported)
		decodeRing(d, &b.answers.rejected)
		decodeRing(d, &b.answers.strangers)
		decodeRing(d, &b.answers.strangersRejected)
	default:
		d.fail("bulk_add parts")
	}
}

// encodeRing writes a ring's head and its non-empty buckets.
func encodeRing[B buckets](e *writer, r *ring[B]) {
	e.iv(int64(r.head))
	var mask uint64
	for i := range len(r.c) {
		if r.c[i] != 0 {
			mask |= 1 << i
		}
	}
	e.uv(mask)
	for i := 0; mask != 0; i, mask = i+1, mask>>1 {
		if mask&1 != 0 {
			e.uv(uint64(r.c[i]))
		}
	}
}

func decodeRing[B buckets](d *reader, r *ring[B]) {
	r.head = d.bucket()
	var c [monthDays]uint16
	decodeSparse(d, c[:len(r.c)])
	for i := range len(r.c) {
		r.c[i] = c[i]
	}
}

func (c *ComplaintRate) encode(e *writer) {
	e.iv(int64(c.head))
	encodeSparse(e, c.delivered[:])
	encodeSparse(e, c.complaints[:])
	encodeSparse(e, c.unfollows[:])
	var reasons [complaintDays * len(ComplaintReasons)]uint16
	for d := range c.reasons {
		copy(reasons[d*len(ComplaintReasons):], c.reasons[d][:])
	}
	encodeSparse(e, reasons[:])
	r := c.record
	if r == nil {
		e.u8(0)
		return
	}
	e.u8(partRecord)
	e.str(r.account.Value())
	e.iv(r.settledHead)
	encodeSparse(e, r.credible[:])
	encodeSparse(e, r.brigade[:])
	e.uv(uint64(len(r.entries)))
	for _, x := range r.entries {
		e.str(x.reporter.Value())
		e.iv(x.atReason)
	}
}

func (c *ComplaintRate) decode(d *reader) {
	c.head = d.bucket()
	decodeSparse(d, c.delivered[:])
	decodeSparse(d, c.complaints[:])
	decodeSparse(d, c.unfollows[:])
	var reasons [complaintDays * len(ComplaintReasons)]uint16
	decodeSparse(d, reasons[:])
	for day := range c.reasons {
		copy(c.reasons[day][:], reasons[day*len(ComplaintReasons):])
	}
	switch d.u8() {
	case 0:
		return
	case partRecord:
	default:
		d.fail("complaint_rate parts")
		return
	}
	r := &complaintRecord{account: unique.Make(d.str())}
	r.settledHead = d.iv()
	if r.settledHead != 0 && (r.settledHead < minBucket || r.settledHead > maxBucket) {
		d.fail("complaint record day")
	}
	decodeSparse(d, r.credible[:])
	decodeSparse(d, r.brigade[:])
	if n := d.count(maxRecordedComplaints, 2); n > 0 {
		r.entries = make([]recordedComplaint, n)
		for i := range r.entries {
			r.entries[i] = recordedComplaint{reporter: unique.Make(d.str()), atReason: d.iv()}
			if r.entries[i].atReason&7 >= int64(len(ComplaintReasons)) {
				d.fail("complaint reason")
			}
		}
	}
	c.record = r
}

func (t *BroadcastText) encode(e *writer) {
	a := &t.Ads
	e.u8(a.n)
	e.u8(a.next)
	for i := range int(a.n) { // the ring fills from slot 0: n slots are used
		e.u32(math.Float32bits(a.scores[i]))
		e.u8(a.kinds[i])
	}
	e.str(a.lastAd)
	e.str(t.Campaign.ID)
	e.uv(uint64(t.Campaign.Accounts))
	e.u64(math.Float64bits(t.LastAdScore))
	e.str(t.Destination.Destination)
	e.uv(uint64(t.Destination.Accounts))
	e.u64(math.Float64bits(t.Destination.AdScore))
	e.u64(math.Float64bits(t.Destination.OwnAdScore))
}

func (t *BroadcastText) decode(d *reader) {
	a := &t.Ads
	a.n, a.next = d.u8(), d.u8()
	if a.n > adRing || a.next >= adRing || a.n < adRing && a.next != a.n {
		d.fail("ad ring")
		return
	}
	for i := range int(a.n) {
		a.scores[i] = math.Float32frombits(d.u32())
		a.kinds[i] = d.u8()
	}
	if a.lastAd = d.str(); len(a.lastAd) > adSampleBytes {
		d.fail("ad sample")
	}
	t.Campaign.ID = d.str()
	t.Campaign.Accounts = int(d.uvMax(math.MaxInt32))
	t.LastAdScore = math.Float64frombits(d.u64())
	t.Destination.Destination = d.str()
	t.Destination.Accounts = int(d.uvMax(math.MaxInt32))
	t.Destination.AdScore = math.Float64frombits(d.u64())
	t.Destination.OwnAdScore = math.Float64frombits(d.u64())
}

// ---- the cross-account indexes ----

// What an Env's encoding holds.
const (
	envWatching = 1 << iota
	envCampaigns
	envReporters
	envDestinations
	envTargets
)

// MarshalBinary encodes what the detectors share across accounts: the
// cross-account indexes and the earliest event time seen. The time zone and
// the ad model are configuration, not state, and are not written.
func (e *Env) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// AppendBinary appends the Env's encoding to b.
func (e *Env) AppendBinary(b []byte) ([]byte, error) {
	w := writer{b: append(b, SnapshotFormat)}
	var parts uint8
	for bit, on := range []bool{e.watching, e.Campaigns != nil, e.Reporters != nil, e.Destinations != nil, e.Targets != nil} {
		if on {
			parts |= 1 << bit
		}
	}
	w.u8(parts)
	w.iv(e.watchedFrom)
	if e.Campaigns != nil {
		e.Campaigns.encode(&w)
	}
	if e.Reporters != nil {
		e.Reporters.encode(&w)
	}
	if e.Destinations != nil {
		e.Destinations.encode(&w)
	}
	if e.Targets != nil {
		e.Targets.encode(&w)
	}
	return w.b, nil
}

// UnmarshalBinary replaces the Env's indexes with those encoded in data.
// The Env must have the same indexes, built with the same parameters
// (windows, bounds, reporter parameters), as the one encoded: a snapshot
// of indexes kept otherwise is refused, as their contents would not be
// what this build would have kept. On an error the Env is left as it was.
func (e *Env) UnmarshalBinary(data []byte) error {
	d := reader{b: data}
	d.format()
	parts := d.u8()
	watchedFrom := d.iv()
	var want uint8
	for bit, on := range []bool{false, e.Campaigns != nil, e.Reporters != nil, e.Destinations != nil, e.Targets != nil} {
		if on {
			want |= 1 << bit
		}
	}
	if d.err == nil && parts&^envWatching != want {
		return fmt.Errorf("decode detector indexes: the snapshot has indexes %05b, this service keeps %05b", parts&^envWatching, want)
	}
	var (
		c  *Campaigns
		rs *Reporters
		ds *Destinations
		ts *Targets
	)
	if e.Campaigns != nil {
		c = NewCampaigns(time.Duration(e.Campaigns.window), e.Campaigns.maxEntries)
		c.decode(&d)
	}
	if e.Reporters != nil {
		rs = NewReporters(e.Reporters.p)
		rs.decode(&d)
	}
	if e.Destinations != nil {
		ds = NewDestinations(time.Duration(e.Destinations.window)*time.Second, e.Destinations.maxEntries)
		ds.decode(&d)
	}
	if e.Targets != nil {
		ts = NewTargets(time.Duration(e.Targets.window)*time.Second, e.Targets.maxEntries)
		ts.decode(&d)
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("decode detector indexes: %w", err)
	}
	e.watching, e.watchedFrom = parts&envWatching != 0, watchedFrom
	e.Campaigns, e.Reporters, e.Destinations, e.Targets = c, rs, ds, ts
	return nil
}

// params writes an index's window and bound; checkParams refuses others.
func params(e *writer, window int64, maxEntries int) {
	e.iv(window)
	e.uv(uint64(maxEntries))
}

func checkParams(d *reader, index string, window int64, maxEntries int) {
	w, n := d.iv(), d.uv()
	if d.err == nil && (w != window || n != uint64(maxEntries)) {
		d.err = fmt.Errorf("%s kept with window %d and %d entries, this service keeps %d and %d", index, w, n, window, maxEntries)
		d.b = nil
	}
}

// ring positions: live entries are sequence numbers (first, next], the one
// numbered s at index (s-1) mod maxEntries, in a slice grown to at most
// maxEntries by appending, as Observe leaves it.
func ringBounds(d *reader, maxEntries int) (first, next uint64) {
	first, next = d.uv(), d.uv()
	if first > next || next-first > uint64(maxEntries) {
		d.fail("index bounds")
		return 0, 0
	}
	if next-first > uint64(len(d.b)) { // each entry takes at least a byte
		d.fail("index entries")
		return 0, 0
	}
	return first, next
}

func ringLen(next uint64, maxEntries int) int { return int(min(next, uint64(maxEntries))) }

func (c *Campaigns) encode(e *writer) {
	params(e, c.window, c.maxEntries)
	e.uv(c.first)
	e.uv(c.next)
	e.uv(c.nextCluster)
	// Clusters in key order, with their names; their counts follow from
	// the entries.
	var keys []uint64
	for k := range c.clusters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uv(uint64(len(keys)))
	for _, k := range keys {
		e.uv(k)
		e.str(c.clusters[k].id)
	}
	var prev int64
	for seq := c.first + 1; seq <= c.next; seq++ {
		x := &c.entries[(seq-1)%uint64(c.maxEntries)]
		e.u64(x.sim)
		e.iv(int64(uint64(x.at) - uint64(prev))) // wraps and unwraps exactly
		prev = x.at
		e.u64(x.account)
		e.uv(x.cluster)
		for _, older := range x.older {
			// An older link at or below first ends a chain as 0 does.
			if older > c.first {
				e.uv(seq - older)
			} else {
				e.uv(0)
			}
		}
	}
}

func (c *Campaigns) decode(d *reader) {
	checkParams(d, "campaigns", c.window, c.maxEntries)
	first, next := ringBounds(d, c.maxEntries)
	c.nextCluster = d.uv()
	n := d.count(c.maxEntries, 2)
	for range n {
		k, id := d.uv(), d.str()
		if k == 0 || k > c.nextCluster || c.clusters[k] != nil {
			d.fail("campaign cluster")
			return
		}
		c.clusters[k] = &cluster{id: id, accounts: map[uint64]int32{}}
	}
	if d.err != nil {
		return
	}
	c.first, c.next = first, next
	c.entries = make([]campaignEntry, ringLen(next, c.maxEntries))
	var prev int64
	for seq := first + 1; seq <= next && d.err == nil; seq++ {
		x := &c.entries[(seq-1)%uint64(c.maxEntries)]
		x.sim = d.u64()
		x.at = int64(uint64(prev) + uint64(d.iv()))
		prev = x.at
		x.account = d.u64()
		if x.cluster = d.uv(); x.cluster != 0 {
			cl := c.clusters[x.cluster]
			if cl == nil {
				d.fail("campaign entry's cluster")
				return
			}
			cl.accounts[x.account]++
			cl.live++
		}
		for b := range x.older {
			if back := d.uv(); back != 0 {
				if back >= seq-first {
					d.fail("campaign chain")
					return
				}
				x.older[b] = seq - back
			}
			c.heads[b][uint16(x.sim>>(b*campaignBandBits))] = seq
		}
	}
	for _, cl := range c.clusters {
		if cl.live == 0 {
			d.fail("campaign cluster without entries")
			return
		}
	}
}

func (d *Destinations) encode(e *writer) {
	params(e, d.window, d.maxEntries)
	e.uv(d.first)
	e.uv(d.next)
	// Keys in the order their oldest live entry names them, with their
	// score sums (kept as they were summed: a sum taken again would differ
	// in the last bits); their account counts follow from the entries.
	index := make(map[*destKey]uint64, len(d.keys))
	var keys []*destKey
	for seq := d.first + 1; seq <= d.next; seq++ {
		k := d.entries[(seq-1)%uint64(d.maxEntries)].key
		if _, ok := index[k]; !ok {
			index[k] = uint64(len(keys))
			keys = append(keys, k)
		}
	}
	e.uv(uint64(len(keys)))
	for _, k := range keys {
		e.str(k.name)
		e.u64(math.Float64bits(k.scores))
	}
	var prev int64
	for seq := d.first + 1; seq <= d.next; seq++ {
		x := &d.entries[(seq-1)%uint64(d.maxEntries)]
		e.uv(index[x.key])
		e.str(x.account)
		e.iv(int64(uint64(x.at) - uint64(prev)))
		prev = x.at
		e.u64(math.Float64bits(x.score))
	}
}

func (d *Destinations) decode(r *reader) {
	checkParams(r, "destinations", d.window, d.maxEntries)
	first, next := ringBounds(r, d.maxEntries)
	keys := make([]*destKey, r.count(d.maxEntries, 9))
	for i := range keys {
		name := r.str()
		if name == "" || d.keys[name] != nil {
			r.fail("destination")
			return
		}
		keys[i] = &destKey{name: name, accounts: map[string]destSender{}, scores: math.Float64frombits(r.u64())}
		d.keys[name] = keys[i]
	}
	if r.err != nil {
		return
	}
	d.first, d.next = first, next
	d.entries = make([]destEntry, ringLen(next, d.maxEntries))
	var prev int64
	for seq := first + 1; seq <= next && r.err == nil; seq++ {
		x := &d.entries[(seq-1)%uint64(d.maxEntries)]
		i := r.uv()
		if i >= uint64(len(keys)) {
			r.fail("destination entry's key")
			return
		}
		x.key, x.account = keys[i], r.str()
		x.at = int64(uint64(prev) + uint64(r.iv()))
		prev = x.at
		x.score = math.Float64frombits(r.u64())
		d.add(x.key, x.account, seq-1) // positions count from 0, seq here from 1
	}
	for _, k := range keys {
		if k.live == 0 {
			r.fail("destination without entries")
			return
		}
	}
}

func (t *Targets) encode(e *writer) {
	params(e, t.window, t.maxEntries)
	e.uv(t.first)
	e.uv(t.next)
	var prev int64
	for seq := t.first + 1; seq <= t.next; seq++ {
		x := &t.entries[(seq-1)%uint64(t.maxEntries)]
		e.u64(x.target)
		e.u64(x.adder)
		e.iv(int64(uint64(x.at) - uint64(prev)))
		prev = x.at
	}
}

func (t *Targets) decode(d *reader) {
	checkParams(d, "targets", t.window, t.maxEntries)
	first, next := ringBounds(d, t.maxEntries)
	if d.err != nil {
		return
	}
	t.first, t.next = first, next
	t.entries = make([]targetEntry, ringLen(next, t.maxEntries))
	var prev int64
	for seq := first + 1; seq <= next && d.err == nil; seq++ {
		x := &t.entries[(seq-1)%uint64(t.maxEntries)]
		x.target, x.adder = d.u64(), d.u64()
		x.at = int64(uint64(prev) + uint64(d.iv()))
		prev = x.at
		inc(t.byTarget, x.target, x.adder)
		inc(t.byAdder, x.adder, x.target)
	}
}

// written is the parameters as a snapshot holds them, in one list for
// encode to write and decode to compare.
func (p ReporterParams) written() [9]int64 {
	return [...]int64{int64(p.BrigadeTargets), int64(p.BrigadeSpan), int64(p.BrigadeShared), int64(p.BrigadeCoTargets),
		int64(p.Settle), int64(p.ProlificMin), int64(math.Float64bits(p.ProlificFactor)), int64(p.Window), int64(p.MaxReporters)}
}

func (rs *Reporters) encode(e *writer) {
	for _, v := range rs.p.written() {
		e.iv(v)
	}
	e.iv(rs.now)
	e.uv(rs.version)
	e.iv(rs.dayHead)
	encodeSparse(e, rs.newTargets[:])
	e.uv(uint64(len(rs.byID)))
	for r := rs.head; r != nil; r = r.next { // idle longest first, as they are linked
		e.str(r.id.Value())
		e.iv(r.last)
		e.iv(r.brigadeAt)
		e.iv(r.dayHead)
		encodeSparse(e, r.newTargets[:])
		e.u8(r.n)
		for _, tg := range r.targets[:r.n] {
			e.str(tg.account.Value())
			e.iv(tg.at)
		}
	}
}

func (rs *Reporters) decode(d *reader) {
	p := rs.p
	for _, v := range p.written() {
		if got := d.iv(); d.err == nil && got != v {
			d.err, d.b = fmt.Errorf("reporters kept with other parameters than this service's %+v", p), nil
		}
	}
	rs.now = d.iv()
	rs.version = d.uv()
	rs.dayHead = d.day()
	decodeSparse(d, rs.newTargets[:])
	n := d.count(p.MaxReporters, 6)
	for range n {
		id := unique.Make(d.str())
		r := &reporter{id: id, last: d.iv(), brigadeAt: d.iv(), dayHead: d.day()}
		decodeSparse(d, r.newTargets[:])
		if r.n = d.u8(); r.n > reporterTargets {
			d.fail("reporter targets")
			return
		}
		for i := range r.targets[:r.n] {
			r.targets[i] = reporterTarget{account: unique.Make(d.str()), at: d.iv()}
		}
		if d.err != nil {
			return
		}
		if rs.byID[id] != nil {
			d.fail("reporter twice")
			return
		}
		rs.byID[id] = r
		rs.pushBack(r)
	}
}

// ---- the wire ----

// writer appends to a buffer.
type writer struct{ b []byte }

func (e *writer) u8(v uint8)   { e.b = append(e.b, v) }
func (e *writer) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *writer) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *writer) uv(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *writer) iv(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *writer) str(s string) { e.uv(uint64(len(s))); e.b = append(e.b, s...) }

// encodeSparse writes counters as a mask of the non-zero ones and their
// values: an account's windows are mostly empty buckets.
func encodeSparse[T uint16 | uint32](e *writer, c []T) {
	var mask uint64
	for i, v := range c {
		if v != 0 {
			mask |= 1 << i
		}
	}
	e.uv(mask)
	for _, v := range c {
		if v != 0 {
			e.uv(uint64(v))
		}
	}
}

func decodeSparse[T uint16 | uint32](d *reader, c []T) {
	mask := d.uv()
	if len(c) < 64 && mask>>len(c) != 0 {
		d.fail("counter mask")
		return
	}
	limit := uint64(^T(0))
	for i := range c {
		if mask&(1<<i) == 0 {
			continue
		}
		v := d.uv()
		if v == 0 || v > limit {
			d.fail("counter")
			return
		}
		c[i] = T(v)
	}
}

// reader reads what writer wrote. The first error sticks: every later read
// returns zero, so decoders check once, at the end.
type reader struct {
	b   []byte
	err error
}

func (d *reader) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
	d.b = nil
}

func (d *reader) format() {
	switch v := d.u8(); {
	case d.err != nil:
	case v != SnapshotFormat:
		d.err = fmt.Errorf("%w: format %d, this build reads format %d", ErrSnapshotFormat, v, SnapshotFormat)
		d.b = nil
	}
}

// end reports the first error, or trailing bytes.
func (d *reader) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("length: bytes left over")
	}
	return d.err
}

func (d *reader) u8() uint8 {
	if len(d.b) < 1 {
		d.fail("length")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *reader) u32() uint32 {
	if len(d.b) < 4 {
		d.fail("length")
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *reader) u64() uint64 {
	if len(d.b) < 8 {
		d.fail("length")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *reader) uv() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 { // overlong: not what writer writes
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reader) iv() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reader) uvMax(limit uint64) uint64 {
	v := d.uv()
	if v > limit {
		d.fail("count")
		return 0
	}
	return v
}

func (d *reader) uv32() uint32 { return uint32(d.uvMax(math.MaxUint32)) }

func (d *reader) i32() int32 {
	v := d.iv()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("int32")
		return 0
	}
	return int32(v)
}

// bucket reads a ring's head: a bucket number as bucket clamps it, or 0.
func (d *reader) bucket() int32 {
	v := d.i32()
	if v != 0 && int64(v) < minBucket {
		d.fail("bucket")
		return 0
	}
	return v
}

// day reads a daily ring's head day (int64, clamped like a bucket).
func (d *reader) day() int64 {
	v := d.iv()
	if v != 0 && (v < minBucket || v > maxBucket) {
		d.fail("day")
		return 0
	}
	return v
}

// count reads a length of at most limit, each element taking at least
// minBytes of what is left: garbage cannot make the decoder allocate more
// than the input justifies.
func (d *reader) count(limit, minBytes int) int {
	n := d.uv()
	if n > uint64(limit) || n > uint64(len(d.b)/minBytes) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *reader) str() string {
	n := d.uv()
	if n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
