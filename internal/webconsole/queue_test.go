package webconsole_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// rowIDs lists the appeal ids of the queue table's rows, in order.
var rowID = regexp.MustCompile(`<tr data-id="(apl_[0-9a-z_]+)"`)

func rowIDs(page string) []string {
	var out []string
	for _, m := range rowID.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestQueueFiltersAndCounts: the queue lists open appeals (filed and in
// review) oldest first, with the count of each filter's choices; each
// filter narrows the list to what its count said; who holds what is shown;
// Next claims the oldest unclaimed appeal the filters show.
func TestQueueFiltersAndCounts(t *testing.T) {
	svc := startService(t)
	// 40 appeals, apl_bench000039 the oldest; rules by i%4 (bulk_add, ads,
	// quota, complaints), types by i%2 (personal, subscription), policy
	// versions by i%2, every tenth in review by reviewer:r<i%7>.
	openAppeals(t, svc, 40)
	b := newBrowser(t, svc)
	if resp, _ := b.signIn(token(t, svc, reviewer)); resp.Request.URL.Path != "/queue" {
		t.Fatalf("sign in landed on %s", resp.Request.URL.Path)
	}
	_, page := b.get("/queue")
	ids := rowIDs(page)
	if len(ids) != 40 || ids[0] != "apl_bench000039" || ids[39] != "apl_bench000000" {
		t.Fatalf("queue rows: %d, first %v; want 40, oldest first", len(ids), ids[:min(3, len(ids))])
	}
	for _, want := range []string{
		`<option value="ads" >ads (10)</option>`,
		`<option value="subscription" >subscription (20)</option>`,
		`<option value="dir@4c1d2e9a7b10" >dir@4c1d2e9a7b10 (20)</option>`,
		`In review: <b>reviewer:r0</b> 1, <b>reviewer:r2</b> 1, <b>reviewer:r3</b> 1, <b>reviewer:r6</b> 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the queue page lacks %s", want)
		}
	}
	for q, want := range map[string]int{
		"rule=ads":                10,
		"type=subscription":       20,
		"policy=dir@4c1d2e9a7b10": 20,
		"rule=ads&type=personal":  0,
		"age=168h0m0s":            12, // filed 10 days over 40: i >= 28
		"rule=quota&age=168h0m0s": 3,  // i = 30, 34, 38
	} {
		if _, page := b.get("/queue?" + q); len(rowIDs(page)) != want {
			t.Errorf("%s: %d rows, want %d", q, len(rowIDs(page)), want)
		}
	}
	if resp, page := b.get("/queue?age=soon"); resp.StatusCode != 400 || !strings.Contains(page, "min_age") {
		t.Errorf("an age that is not a duration: got %d, want 400 naming min_age:\n%s", resp.StatusCode, page)
	}

	// Next claims the oldest waiting appeal the filters show: quota appeals
	// are i = 2, 6, …, 38, and 30 and 10 are in review already.
	_, page = b.get("/queue?rule=quota")
	resp, page := b.post("/queue/next", url.Values{"csrf": {csrfOf(t, page)}, "rule": {"quota"}})
	if resp.Request.URL.Query().Get("sel") != "apl_bench000038" || !strings.Contains(page, "Claimed apl_bench000038") {
		t.Fatalf("next: landed on %s:\n%s", resp.Request.URL, page)
	}
	resp, page = b.post("/queue/next", url.Values{"csrf": {csrfOf(t, page)}, "rule": {"quota"}})
	if resp.Request.URL.Query().Get("sel") != "apl_bench000034" {
		t.Errorf("next again: landed on %s, want apl_bench000034 (30 is held by another)", resp.Request.URL)
	}
	if !strings.Contains(page, `<b class="mine">yours</b>`) {
		t.Error("the reviewer's own claims are not marked as theirs")
	}
}
