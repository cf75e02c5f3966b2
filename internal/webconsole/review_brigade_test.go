package webconsole_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// complainants reads a fixture's complaints: each account's reporters.
func complainants(t *testing.T, scenario string) map[string]map[string]bool {
	t.Helper()
	f, err := os.Open("../../fixtures/scenarios/" + scenario + "/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Kind, Account string
			Complaint     struct{ Reporter string }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if out[ev.Account] == nil {
			out[ev.Account] = map[string]bool{}
		}
		if ev.Kind == "complaint" {
			out[ev.Account][ev.Complaint.Reporter] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// brigadeRow is what the Flagged page shows of a brigade: the account and
// the accounts its reporter and target links open.
type brigadeRow struct {
	Account   string   `json:"account"`
	Reporters []string `json:"reporters"`
	Targets   []string `json:"targets"`
}

// TestFlaggedBrigades: the brigaded-news fixture (a small news account
// and a few others, each complained about in the same hour by the same
// reporters) leaves brigade records in the audit trail, a new one for an
// account only once its brigade has doubled (not one for each judging),
// each naming reporters who did complain about that account and other
// targets that are the fixture's other accounts. The Flagged page lists
// them in Chromium with every reporter and target linked to its account
// page; the reporters reach neither the owners (Check, ListDecisions) nor
// the statements export.
func TestFlaggedBrigades(t *testing.T) {
	svc := startService(t)
	replayScenario(t, svc, "brigaded-news")
	reporters := complainants(t, "brigaded-news")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	audit := moderationv1.NewAuditServiceClient(apiConn(t, svc, reviewer))
	var entries []*moderationv1.AuditEntry
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := audit.SearchAudit(ctx, &moderationv1.SearchAuditRequest{Kind: "brigade", Since: timestamppb.New(time.Now().Add(-time.Hour)), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		entries = resp.GetEntries()
		if len(entries) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(entries) < 2 {
		t.Fatalf("brigade records: %d, want one for each account complained about after its brigade showed (at least 2)", len(entries))
	}
	records := map[string]brigadeRow{}
	counts := map[string]float64{} // reporters in each account's latest record
	named := map[string]bool{}     // every reporter a record names
	for _, e := range entries {
		var rec struct {
			brigadeRow
			ReporterCount float64 `json:"reporter_count"`
		}
		if err := json.Unmarshal([]byte(e.GetRecordJson()), &rec); err != nil {
			t.Fatal(err)
		}
		a := e.GetAccount()
		if was, ok := counts[a]; ok && rec.ReporterCount < 2*was {
			t.Errorf("%s: a second brigade record within the complaint window, of %g reporters after %g", a, rec.ReporterCount, was)
		}
		counts[a] = rec.ReporterCount
		records[a] = brigadeRow{Account: a, Reporters: rec.Reporters, Targets: rec.Targets} // the latest: the one the page shows
		if len(rec.Reporters) == 0 || len(rec.Targets) == 0 {
			t.Errorf("%s: record names reporters %v and targets %v, want both", a, rec.Reporters, rec.Targets)
		}
		for _, r := range rec.Reporters {
			named[r] = true
			if !reporters[a][r] {
				t.Errorf("%s: reporter %s never complained about it", a, r)
			}
		}
		for _, o := range rec.Targets {
			if o == a || reporters[o] == nil {
				t.Errorf("%s: other target %s is not another account of the fixture", a, o)
			}
		}
		if e.GetActor() != "policy" || e.GetRule() != "brigade" || !strings.Contains(e.GetSummary(), rec.Reporters[0]) {
			t.Errorf("%s: entry %s by %s: %q", a, e.GetRule(), e.GetActor(), e.GetSummary())
		}
	}

	// Reviewers see them on the Flagged page, linked.
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")), chromedp.Navigate("http://"+svc.ConsoleAddr+"/review"),
		chromedp.WaitVisible(chromedp.ID("brigade-list")))
	raw := eval[string](t, c, `JSON.stringify(Array.from(document.querySelectorAll("#brigade-list tr[data-brigade]")).map(function (tr) {
		var ids = function (sel) { return Array.from(tr.querySelectorAll(sel + " a")).map(function (a) { return a.getAttribute("href").replace("/accounts/", ""); }); };
		return {account: tr.dataset.brigade, reporters: ids("td.reporters"), targets: ids("td.targets")};
	}))`)
	var rows []brigadeRow
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(records) {
		t.Errorf("the page lists %d brigades, the audit trail holds %d", len(rows), len(records))
	}
	for _, r := range rows {
		want, ok := records[r.Account]
		if !ok || !slices.Equal(r.Reporters, want.Reporters) || !slices.Equal(r.Targets, want.Targets) {
			t.Errorf("page row %+v, want %+v", r, want)
		}
	}
	screenshot(t, c, "brigades")

	// Owners and the transparency export never learn who reported them.
	leaks := func(where string, b []byte) {
		t.Helper()
		for r := range named {
			if strings.Contains(string(b), r) {
				t.Errorf("%s names reporter %s", where, r)
			}
		}
	}
	for a := range records {
		owner := moderationv1.NewModerationServiceClient(apiConn(t, svc, ownerOf(a)))
		chk, err := owner.Check(ctx, &moderationv1.CheckRequest{Account: a})
		if err != nil {
			t.Fatal(err)
		}
		if chk.GetStatus() > moderationv1.Status_STATUS_WARNED {
			t.Errorf("%s: %v, want a brigade alone to leave it at most warned", a, chk.GetStatus())
		}
		b, _ := protojson.Marshal(chk)
		leaks(a+"'s Check", b)
		list, err := owner.ListDecisions(ctx, &moderationv1.ListDecisionsRequest{Account: a})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = protojson.Marshal(list)
		leaks(a+"'s ListDecisions", b)
	}
	stream, err := audit.ExportStatements(ctx, &moderationv1.ExportStatementsRequest{Since: timestamppb.New(time.Now().Add(-24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	var export []byte
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		export = append(export, chunk.GetData()...)
	}
	leaks("the statements export", export)
}
