package transparency

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/appeals"
	"moderation/internal/auth"
	"moderation/internal/enforcement"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/pipeline"
)

// trail is a real embedded NATS with the service's streams, and a
// publisher of records onto the decisions stream as the service writes
// them.
type trail struct {
	*Trail
	js jetstream.JetStream
}

func startTrail(t *testing.T) *trail {
	t.Helper()
	srv := natstest.Start(t)
	_, js := srv.Connect(t, natsbus.RoleService)
	streams, err := natsbus.Setup(context.Background(), js, natsbus.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &trail{Trail: NewTrail(streams.Decisions), js: js}
}

func (tr *trail) put(t *testing.T, subject string, body any) uint64 {
	t.Helper()
	data, ok := body.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	ack, err := tr.js.Publish(context.Background(), subject, data)
	if err != nil {
		t.Fatalf("publish on %s: %v", subject, err)
	}
	return ack.Sequence
}

func (tr *trail) scan(t *testing.T, f Filter) []Entry {
	t.Helper()
	var out []Entry
	if _, err := tr.Scan(context.Background(), f, func(e *Entry, _ Progress) error {
		if e != nil {
			out = append(out, *e)
		}
		return nil
	}); err != nil {
		t.Fatalf("scan %+v: %v", f, err)
	}
	return out
}

func seqs(es []Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func equal(a, b []uint64) bool {
	return len(a) == len(b) && string(jsonOf(a)) == string(jsonOf(b))
}

func jsonOf(v any) []byte { b, _ := json.Marshal(v); return b }

// TestSearchFilters writes the kinds of record the service writes (policy
// and manual decisions, a manual action's record, an appeal step, a token
// mint, a purge notice, and one record that is not JSON) and finds them
// by account, actor, rule, kind and stored time.
func TestSearchFilters(t *testing.T) {
	tr := startTrail(t)
	// A decision whose body names another account than its subject: the
	// subject narrows the scan, the body decides the match.
	d1 := tr.put(t, "mod.enforcement.acct_a", decisions()[0])
	limit := &moderation.Decision{Account: "acct_a", Action: moderation.ActionLimit, DecisionID: "dec_1", PolicyVersion: "embedded@1",
		Reasons: []moderation.Reason{{Code: "bulk_add", Detail: "312 friend requests in 1h"}}, At: time.Now()}
	s1 := tr.put(t, "mod.enforcement.acct_a", limit)
	s2 := tr.put(t, "mod.audit.manual.acct_b", enforcement.ManualRecord{Account: "acct_b", Actor: "reviewer:alice", Action: moderation.ActionSuspend, DecisionID: "dec_2", Note: "ticket 9"})
	s3 := tr.put(t, "mod.enforcement.acct_b", &moderation.Decision{Account: "acct_b", Action: moderation.ActionSuspend, DecisionID: "dec_2",
		PolicyVersion: "manual", Actor: "reviewer:alice", Reasons: []moderation.Reason{{Code: "ad_content", Detail: "ads"}}})
	tr.put(t, "mod.audit.manual.acct_b", []byte("not json")) // skipped and reported, never fails a search
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	s5 := tr.put(t, "mod.audit.appeal.acct_a", appeals.Record{AppealID: "apl_1", Account: "acct_a", DecisionID: "dec_1", Rule: "bulk_add",
		State: appeals.Overturned, Actor: "reviewer:bob", Reply: "They were attendees of your conference."})
	s6 := tr.put(t, "mod.audit.token.tok_1", auth.TokenRecord{Op: auth.OpMint, TokenID: "tok_1", Subject: "carol", Role: auth.RoleReviewer, Actor: "admin:root"})
	s7 := tr.put(t, "mod.purge.acct_b", appeals.PurgeNotice{Account: "acct_b", DecisionID: "dec_2", EligibleAt: time.Now()})

	all := tr.scan(t, Filter{})
	if len(all) != 7 {
		t.Fatalf("everything: got %d entries %v, want 7 (the record that is not JSON skipped)", len(all), seqs(all))
	}
	for _, c := range []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"account", Filter{Account: "acct_b"}, []uint64{s2, s3, s7}},
		{"actor whole", Filter{Actor: "reviewer:alice"}, []uint64{s2, s3}},
		{"actor subject", Filter{Actor: "bob"}, []uint64{s5}},
		{"policy", Filter{Actor: ActorPolicy, Account: "acct_a"}, []uint64{s1}},
		{"rule", Filter{Rule: "bulk_add"}, []uint64{d1, s1, s5}},
		{"rule and account", Filter{Rule: "bulk_add", Account: "acct_a"}, []uint64{s1, s5}},
		{"kind", Filter{Kind: "token"}, []uint64{s6}},
		{"kind and account", Filter{Kind: KindEnforcement, Account: "acct_b"}, []uint64{s3}},
		{"since", Filter{Since: mid}, []uint64{s5, s6, s7}},
		{"until", Filter{Until: mid, Account: "acct_a"}, []uint64{s1}},
		{"from", Filter{FromSeq: s5, Actor: "admin:root"}, []uint64{s6}},
	} {
		if got := seqs(tr.scan(t, c.f)); !equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}

	byseq := map[uint64]Entry{}
	for _, e := range all {
		byseq[e.Seq] = e
	}
	if e := byseq[s5]; e.Kind != "appeal" || e.Action != "overturned" || e.DecisionID != "dec_1" || !strings.Contains(e.Summary, "attendees") {
		t.Errorf("appeal entry: %+v", e)
	}
	if e := byseq[s6]; e.Kind != "token" || e.Action != "mint" || e.Actor != "admin:root" || !strings.Contains(e.Summary, "carol") {
		t.Errorf("token entry: %+v", e)
	}
	if e := byseq[s1]; e.Actor != ActorPolicy || e.Rule != "bulk_add" || e.Summary != "312 friend requests in 1h" {
		t.Errorf("decision entry: %+v", e)
	}
}

// TestScanPagesAndStops: a page stops where its callback says, the next
// starts after it, and a scan never reads past what was stored when it
// began.
func TestScanPagesAndStops(t *testing.T) {
	tr := startTrail(t)
	var want []uint64
	for i := range 10 {
		want = append(want, tr.put(t, "mod.audit.manual.acct_p", enforcement.ManualRecord{Account: "acct_p", Actor: "reviewer:alice", Note: string(rune('a' + i))}))
	}
	var got []uint64
	from := uint64(0)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		var page []uint64
		next, err := tr.Scan(context.Background(), Filter{Account: "acct_p", FromSeq: from}, func(e *Entry, _ Progress) error {
			if e != nil {
				page = append(page, e.Seq)
			}
			if len(page) == 4 {
				return ErrStop
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if next == 0 {
			break
		}
		from = next
	}
	if !equal(got, want) {
		t.Errorf("pages: got %v, want %v", got, want)
	}

	// A search for something rare reads at most MaxScan records a page.
	var reads []uint64
	for from, pages := uint64(0), 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging by MaxScan does not end")
		}
		next, err := tr.Scan(context.Background(), Filter{Actor: "nobody", FromSeq: from, MaxScan: 4}, func(e *Entry, _ Progress) error {
			if e != nil {
				t.Errorf("matched %+v", e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, next)
		if next == 0 {
			break
		}
		from = next
	}
	if !equal(reads, []uint64{want[4], want[8], 0}) {
		t.Errorf("MaxScan pages ended at %v, want %v", reads, []uint64{want[4], want[8], 0})
	}

	// Records stored while a scan runs are not read by it.
	n := 0
	if _, err := tr.Scan(context.Background(), Filter{}, func(e *Entry, p Progress) error {
		if e != nil && n == 0 {
			tr.put(t, "mod.audit.manual.acct_p", enforcement.ManualRecord{Account: "acct_p", Note: "late"})
		}
		if e != nil {
			n++
		}
		if p.Total != 10 {
			t.Errorf("total: got %d, want 10", p.Total)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("scan read %d records, want the 10 stored when it began", n)
	}
}

func TestFilterValidate(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		f     Filter
		field string
	}{
		{Filter{Since: now, Until: now}, "until"},
		{Filter{Since: now, Until: now.Add(-time.Hour)}, "until"},
		{Filter{Account: "acct 1"}, "account"},
		{Filter{Kind: "audit.>"}, "kind"},
	} {
		err := c.f.Validate()
		fe, ok := err.(*moderation.FieldError)
		if !ok || fe.Field != c.field {
			t.Errorf("Validate(%+v) = %v, want an error on %s", c.f, err, c.field)
		}
	}
	if err := (Filter{Since: now, Until: now.Add(time.Second)}).Validate(); err != nil {
		t.Errorf("a valid range: %v", err)
	}
}

// TestExportFormats: CSV has its header and keeps spreadsheet formulas
// inert; JSON Lines round-trips each entry with its record.
func TestExportFormats(t *testing.T) {
	e := &Entry{Seq: 7, Time: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Kind: "manual", Subject: "mod.audit.manual.acct_a",
		Account: "acct_a", Actor: "reviewer:alice", Action: "suspend", DecisionID: "dec_1", Summary: "=HYPERLINK(\"http://x\")",
		Record: json.RawMessage(`{"note":"=HYPERLINK(\"http://x\")"}`)}
	var buf bytes.Buffer
	w, err := NewEntryWriter(FormatCSV, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(e); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("csv: %q", rows)
	}
	if got := rows[1][len(rows[1])-1]; got != `'=HYPERLINK("http://x")` {
		t.Errorf("csv summary: got %q, want the formula made inert", got)
	}

	buf.Reset()
	if w, err = NewEntryWriter(FormatJSONL, &buf); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl: got %d lines, want 2", len(lines))
	}
	var back Entry
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil || back.Seq != 7 || string(back.Record) != string(e.Record) {
		t.Errorf("jsonl round trip: %+v, %v", back, err)
	}

	if _, err := NewEntryWriter("xml", &buf); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// BenchmarkScan reads 50,000 audit records for a search that matches one
// in a hundred, and reports records read per second.
func BenchmarkScan(b *testing.B) {
	srv := natstest.Start(b)
	_, js := srv.Connect(b, natsbus.RoleService)
	streams, err := natsbus.Setup(context.Background(), js, natsbus.Config{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 50_000
	for i := range n {
		actor := "reviewer:alice"
		if i%100 == 0 {
			actor = "reviewer:rare"
		}
		data, _ := json.Marshal(enforcement.ManualRecord{Account: "acct_" + strconv.Itoa(i%500), Actor: actor, Action: moderation.ActionWarn, Note: "bench"})
		if _, err := js.PublishAsync("mod.audit.manual.acct_"+strconv.Itoa(i%500), data); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	tr := NewTrail(streams.Decisions)
	b.ResetTimer()
	for b.Loop() {
		matched := 0
		if _, err := tr.Scan(context.Background(), Filter{Actor: "rare"}, func(e *Entry, _ Progress) error {
			if e != nil {
				matched++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if matched != n/100 {
			b.Fatalf("matched %d, want %d", matched, n/100)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestDecodeEveryKind reads each kind of record as its writer writes it.
func TestDecodeEveryKind(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		subject string
		body    any
		want    Entry
	}{
		{"mod.audit.batch.b1", appeals.BatchRecord{BatchID: "b1", Actor: "admin:root", Note: "new policy", PolicyVersion: "v2",
			Restored: []appeals.Reevaluation{{Account: "acct_1"}, {Account: "acct_2"}}},
			Entry{Kind: "batch", Actor: "admin:root", Action: "reevaluate", Summary: "batch b1: 2 restored under v2; new policy"}},
		{"mod.audit.reevaluate.acct_1", struct {
			appeals.Reevaluation
			BatchID string `json:"batch_id"`
			Actor   string `json:"actor"`
		}{appeals.Reevaluation{Account: "acct_1", DecisionID: "dec_1", Was: moderation.ActionClose, Would: moderation.ActionAllow, Why: "no ring"}, "b1", "admin:root"},
			Entry{Kind: "reevaluate", Account: "acct_1", Actor: "admin:root", Action: "restore", DecisionID: "dec_1", Summary: "batch b1: close would be allow: no ring"}},
		{"mod.audit.shadow.acct_1", pipeline.ShadowRecord{Account: "acct_1", Agreement: "stricter",
			Shadow: pipeline.ShadowOutcome{Action: moderation.ActionLimit, Rule: "bulk_add"}},
			Entry{Kind: "shadow", Account: "acct_1", Actor: ActorPolicy, Rule: "bulk_add", Action: "limit", Summary: "shadow policy stricter than live"}},
		{"mod.audit.suppressed.acct_1", pipeline.SuppressedRecord{Account: "acct_1", DecisionID: "dec_2", Action: moderation.ActionSuspend, Rule: "ad_content"},
			Entry{Kind: "suppressed", Account: "acct_1", Actor: ActorPolicy, Rule: "ad_content", Action: "suspend", DecisionID: "dec_2", Summary: "not enforced: the rule is suppressed"}},
		{"mod.audit.brigade.acct_1", pipeline.BrigadeRecord{Account: "acct_1", Rule: "brigade", ReporterCount: 12, Reporters: []string{"rep_1", "rep_2"},
			Targets: []string{"news_2"}, TargetCount: 1},
			Entry{Kind: KindBrigade, Account: "acct_1", Actor: ActorPolicy, Rule: "brigade", Action: "review",
				Summary: "brigade of 12 reporters discounted (rep_1, rep_2 and 10 more); their other targets: news_2"}},
		{"mod.purge.acct_1", appeals.PurgeNotice{Account: "acct_1", DecisionID: "dec_3", EligibleAt: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)},
			Entry{Kind: KindPurge, Account: "acct_1", Action: "purge", DecisionID: "dec_3", Summary: "eligible for purge from 2027-05-01T00:00:00Z"}},
	} {
		data, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(1, now, c.subject, data)
		if err != nil {
			t.Fatalf("%s: %v", c.subject, err)
		}
		got.Seq, got.Time, got.Subject, got.Record = 0, time.Time{}, "", nil
		if string(jsonOf(got)) != string(jsonOf(c.want)) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.subject, got, c.want)
		}
	}
}
