package webconsole_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
	"moderation/internal/service"
)

// replayScenario publishes a fixture scenario as the platform would, with
// the publisher's credentials, and waits until the pipeline has processed
// it.
func replayScenario(t testing.TB, svc *service.Service, name string) {
	t.Helper()
	recs, err := replay.ReadFile("../../fixtures/scenarios/"+name+"/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(svc.NATSURL, svc.NATSAs(natsbus.RolePublisher))
	if err != nil {
		t.Fatalf("connect publisher: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatalf("replay %s: %v", name, err)
	}
	for svc.Pipeline.Processed() < uint64(len(recs)) {
		if ctx.Err() != nil {
			t.Fatalf("replay %s: %d of %d events processed", name, svc.Pipeline.Processed(), len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var flashText = regexp.MustCompile(`<p class="flash" role="status">([^<]*)</p>`)

// flash is the page's one-line message after an action, unescaped enough
// to compare.
func flash(page string) string {
	m := flashText.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var flaggedRow = regexp.MustCompile(`<tr data-id="([A-Za-z0-9_-]+)"[^>]*>\s*<td[^>]*>[^<]*</td>\s*<td><a[^>]*>[^<]*</a></td>\s*<td>([a-z_]+)</td>`)

// flaggedRows maps the accounts the flagged page lists to their rule.
func flaggedRows(page string) map[string]string {
	out := map[string]string{}
	for _, m := range flaggedRow.FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestFlaggedAccounts: the accounts a ring rule measured (the handle-ring
// fixture: 25 accounts sending buyers to the same handles) are in the
// manual review queue with the rule and the facts their owners read;
// lifting one takes a note, restores the account through the API, and
// takes it off the queue (still listed with everything included).
func TestFlaggedAccounts(t *testing.T) {
	svc := startService(t)
	replayScenario(t, svc, "handle-ring")
	b := newBrowser(t, svc)
	if resp, _ := b.signIn(token(t, svc, reviewer)); resp.Request.URL.Path != "/queue" {
		t.Fatalf("sign in landed on %s", resp.Request.URL.Path)
	}
	var page string
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, page = b.get("/review")
		if len(flaggedRows(page)) >= 25 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows := flaggedRows(page)
	if len(rows) < 25 {
		t.Fatalf("flagged: %d accounts, want the ring's 25:\n%v", len(rows), rows)
	}
	for account, rule := range rows {
		if rule != "destination_campaign" {
			t.Errorf("%s flagged by %s, want destination_campaign", account, rule)
		}
	}
	if !strings.Contains(page, "other accounts") {
		t.Error("the flagged accounts do not show the facts their owners read")
	}

	const account = "acct_b80a17"
	if _, ok := rows[account]; !ok {
		t.Fatalf("%s is not flagged", account)
	}
	csrf := csrfOf(t, page)
	detail := "A reviewer looked at the accounts this account was grouped with and found that it acted on its own. The measure is lifted."
	_, page = b.post("/review/lift", url.Values{"csrf": {csrf}, "account": {account}, "detail": {detail}})
	if got := flash(page); !strings.Contains(got, "note") {
		t.Errorf("lift without a note: flash %q, want the API's refusal naming the note", got)
	}
	awaitStatus(t, svc, account, moderationv1.Status_STATUS_LIMITED)
	resp, page := b.post("/review/lift", url.Values{"csrf": {csrf}, "account": {account}, "detail": {detail}, "note": {"a shop of its own, same courier"}})
	if got := flash(page); got != "Lifted the measure on "+account+"." {
		t.Fatalf("lift: landed on %s:\n%s", resp.Request.URL, page)
	}
	awaitStatus(t, svc, account, moderationv1.Status_STATUS_ACTIVE)
	if _, ok := flaggedRows(page)[account]; ok {
		t.Errorf("%s is still in the queue after its measure was lifted", account)
	}
	if _, page := b.get("/review?all=1"); flaggedRows(page)[account] != "destination_campaign" {
		t.Errorf("with everything included, %s is not listed", account)
	}

	// In the browser: j moves to the next account, l opens its note.
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")), chromedp.Navigate("http://"+svc.ConsoleAddr+"/review"),
		chromedp.WaitVisible(chromedp.ID("flagged")))
	second := eval[string](t, c, `document.querySelectorAll("#flagged tbody tr")[1].dataset.id`)
	c.do(t, chromedp.KeyEvent("j"), chromedp.KeyEvent("l"), chromedp.KeyEvent("Same courier, own shop."))
	if got := eval[string](t, c, `document.querySelector("#flagged tr.selected").dataset.id`); got != second {
		t.Errorf("after j: %s selected, want %s", got, second)
	}
	if got := eval[string](t, c, `document.querySelector("#detail-`+second+` textarea[name=note]").value`); got != "Same courier, own shop." {
		t.Errorf("after l and typing, the note holds %q", got)
	}
	screenshot(t, c, "flagged")
}
