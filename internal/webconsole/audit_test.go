package webconsole_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"google.golang.org/protobuf/types/known/durationpb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/transparency"
)

// TestAuditSearchAndDownloads: in Chromium, a reviewer searches the audit
// trail for one account and finds the decision and the manual record
// with its note, the note shown inert; then downloads, with the page's
// own links and session, the CSV, the JSON Lines and the statements of
// reasons, which name neither the account nor the phone number and WeChat
// id its facts quoted.
func TestAuditSearchAndDownloads(t *testing.T) {
	svc := startService(t)
	ctx := context.Background()
	review := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer))
	for _, a := range []*moderationv1.TakeActionRequest{
		{Account: "acct_seller", Action: moderationv1.Action_ACTION_SUSPEND, Duration: durationpb.New(72 * time.Hour), ReasonCode: "destination_campaign",
			Detail: "Broadcasts sent buyers to WeChat id lily_vip88 and phone 13800138000.", Note: `ticket 12 <img src=x onerror="window.pwned=1">`},
		{Account: "acct_other", Action: moderationv1.Action_ACTION_WARN, Detail: "One broadcast read as an ad.", Note: "ticket 13"},
	} {
		if _, err := review.TakeAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")),
		chromedp.Navigate("http://"+svc.ConsoleAddr+"/audit"),
		chromedp.WaitVisible(chromedp.ID("audit-form")),
		chromedp.SendKeys(chromedp.CSS(`#audit-form input[name=account]`), "acct_seller"),
		chromedp.SendKeys(chromedp.CSS(`#audit-form input[name=since]`), "1h"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("audit-results")))
	rows := eval[[]string](t, c, `[...document.querySelectorAll("#audit-results tbody tr")].map(r => [...r.cells].slice(2, 7).map(c => c.textContent.trim()).join(" "))`)
	if len(rows) != 2 || rows[0] != "enforcement acct_seller reviewer:alice destination_campaign suspend" || !strings.HasPrefix(rows[1], "manual acct_seller reviewer:alice") {
		t.Errorf("results: %q", rows)
	}
	if note := c.text(t, `#audit-results tbody tr:nth-child(2) td.summary`); !strings.Contains(note, `<img src=x onerror="window.pwned=1">`) {
		t.Errorf("the note is not shown as written: %q", note)
	}
	if n := eval[int](t, c, `document.querySelectorAll("#audit-results td.summary img").length`); n != 0 {
		t.Errorf("the note made %d img elements, want none", n)
	}
	screenshot(t, c, "audit")

	// Download each link as the browser would, with the session's cookie.
	download := func(id string) (string, string) {
		t.Helper()
		type got struct{ Type, Body string }
		v, err := chromedp.Run(c.ctx, chromedp.Evaluate[got](`fetch(document.getElementById("`+id+`").href).then(async r => ({Type: r.headers.get("content-disposition") + " " + r.headers.get("content-type"), Body: await r.text()}))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("download %s: %v", id, err)
		}
		return v.Type, v.Body
	}
	typ, body := download("download-csv")
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || !strings.Contains(typ, "attachment") || len(records) != 3 || records[1][4] != "acct_seller" {
		t.Errorf("csv (%s): %q, %v", typ, records, err)
	}
	typ, body = download("download-jsonl")
	if lines := strings.Split(strings.TrimSpace(body), "\n"); len(lines) != 2 || !strings.Contains(typ, "x-ndjson") || !strings.Contains(lines[1], "ticket 12") {
		t.Errorf("jsonl (%s): %q", typ, lines)
	}
	typ, body = download("download-sor")
	var batch transparency.Batch
	if err := json.Unmarshal([]byte(body), &batch); err != nil || !strings.Contains(typ, "application/json") {
		t.Fatalf("statements (%s): %v\n%s", typ, err, body)
	}
	// The suspension only: a warning restricts nothing.
	if len(batch.Statements) != 1 || batch.Statements[0].DecisionAccount != transparency.AccountSuspended {
		t.Errorf("statements: %s", body)
	}
	for _, bad := range []string{"acct_seller", "acct_other", "lily_vip88", "13800138000", "ticket"} {
		if strings.Contains(body, bad) {
			t.Errorf("the statements contain %q:\n%s", bad, body)
		}
	}
	if pwned := eval[bool](t, c, `window.pwned !== undefined`); pwned {
		t.Error("a note ran script in the reviewer's browser")
	}
}

// TestAuditBadRange: a range that ends before it starts is refused on the
// page, naming the field, and a time that does not read says how to write
// one; a signed-out download goes to sign-in.
func TestAuditBadRange(t *testing.T) {
	svc := startService(t)
	b := newBrowser(t, svc)
	if resp, _ := b.signIn(token(t, svc, reviewer)); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %s", resp.Status)
	}
	_, page := b.get("/audit?since=2026-11-21&until=2026-11-20")
	if !strings.Contains(page, `id="audit-error"`) || !strings.Contains(page, "until") {
		t.Errorf("until before since: no error naming until on the page")
	}
	_, page = b.get("/audit?since=last+tuesday")
	if !strings.Contains(page, "is not a time") {
		t.Errorf("a since that does not read: no error on the page")
	}
	anon := newBrowser(t, svc)
	resp, _ := anon.get("/audit/statements?since=1h")
	if resp.Request.URL.Path != "/signin" {
		t.Errorf("a signed-out download ended at %s, want the sign-in page", resp.Request.URL)
	}
}
