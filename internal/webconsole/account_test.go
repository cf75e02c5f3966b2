package webconsole_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/detectors/adtext"
	"moderation/internal/service"
)

// disguised is an ad written to slip past a reader-less filter: full-width
// letters and digits, which the detectors' normaliser folds.
const disguised = "限时特价 加ｖｘ：ｓｈｏｐ８８８ 全场５折"

// hostileBroadcast would run script in a reviewer's browser if the page
// put it in as HTML.
const hostileBroadcast = `<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> hello`

// history ingests ten hours of an account's life before its burst: five
// friend requests an hour, eight broadcasts (one a disguised ad, one
// hostile) and four complaints about them.
func history(t *testing.T, svc *service.Service, account string) {
	t.Helper()
	now := time.Now()
	info := &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-12 * time.Hour))}
	var evs []*moderationv1.Event
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-d)) }
	for h := range 10 {
		for i := range 5 {
			evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-early-%d-%d", account, h, i), Kind: "friend_add", Account: account,
				At: at(time.Duration(11-h)*time.Hour - time.Duration(i)*time.Minute), AccountInfo: info,
				Body: &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("early%d_%d", h, i), Source: "search"}}})
		}
	}
	texts := []string{"Our hiking club meets on Saturday.", disguised, hostileBroadcast, "Photos from the walk are up.",
		"Next walk: the ridge trail.", "Bring water.", "Thanks for coming!", "New members welcome."}
	for i, text := range texts {
		evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-bc-%d", account, i), Kind: "broadcast", Account: account,
			At: at(time.Duration(10-i)*time.Hour + 30*time.Minute), AccountInfo: info,
			Body: &moderationv1.Event_Broadcast{Broadcast: &moderationv1.Broadcast{Id: fmt.Sprintf("bc%d", i), Text: text, Recipients: 200}}})
	}
	for i := range 4 {
		evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("%s-cp-%d", account, i), Kind: "complaint", Account: account,
			At: at(time.Duration(8-i) * time.Hour), AccountInfo: info,
			Body: &moderationv1.Event_Complaint{Complaint: &moderationv1.Complaint{Reporter: fmt.Sprintf("reporter%d", i), Reason: "spam", BroadcastId: "bc1"}}})
	}
	if _, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(context.Background(), &moderationv1.IngestRequest{Events: evs}); err != nil {
		t.Fatalf("ingest history: %v", err)
	}
}

// TestAccountPage opens a suspended account's page in Chromium: its four
// charts are drawn (a canvas of non-zero size in each container) with the
// events counted into them and the policy's levels drawn in; the statement
// of reasons is the owner's, word for word; the disguised ad is shown as
// sent and as normalised, and the hostile broadcast as text; then a manual
// restore with a note, through the page's form and its CSRF token, makes
// the account ACTIVE and its audit record appears in the timeline.
func TestAccountPage(t *testing.T) {
	svc := startService(t)
	const account = "acct_page"
	history(t, svc, account)
	suspended := suspend(t, svc, account) // 260 requests in the last 50 minutes
	dec, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, ownerOf(account))).GetDecision(context.Background(),
		&moderationv1.GetDecisionRequest{Account: account, DecisionId: suspended.DecisionId})
	if err != nil {
		t.Fatalf("the owner's decision: %v", err)
	}
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")),
		chromedp.Navigate("http://"+svc.ConsoleAddr+"/accounts/"+account),
		chromedp.WaitVisible(chromedp.CSS("#chart-friends canvas")))

	// Every chart is drawn: a canvas with a size, in its container.
	for _, id := range []string{"friends", "broadcasts", "complaints", "ads"} {
		size := eval[[]float64](t, c, `(() => { const cv = document.querySelector("#chart-`+id+` canvas"); return cv ? [cv.width, cv.height] : [0, 0]; })()`)
		if size[0] <= 0 || size[1] <= 0 {
			t.Errorf("chart %s: canvas %v, want one drawn with a size", id, size)
		}
	}
	// The series are the events, counted: 50 early requests and the
	// burst's 260, per hour; the levels of a new personal account.
	if got := eval[float64](t, c, `window.accountCharts.friends.data[1].reduce((a, b) => a + b, 0)`); got != 310 {
		t.Errorf("friend requests charted: %v, want 310", got)
	}
	// The burst's 50 minutes fall in the last hour or two.
	if got := eval[float64](t, c, `window.accountCharts.friends.data[1].slice(-2).reduce((a, b) => a + b, 0)`); got < 260 {
		t.Errorf("the last two hours charted have %v requests, want the burst's 260 or more", got)
	}
	labels := eval[[]string](t, c, `window.accountCharts.friends.series.slice(1).map(s => s.label)`)
	if strings.Join(labels, "|") != "requests|warn 40|limit 100|suspend 250" {
		t.Errorf("friend chart's series: %q, want the requests and the new account's levels from data.json", labels)
	}
	if got := eval[float64](t, c, `window.accountCharts.broadcasts.data[1].reduce((a, b) => a + b, 0)`); got != 8 {
		t.Errorf("broadcasts charted: %v, want 8", got)
	}
	if got := eval[float64](t, c, `Math.max(...window.accountCharts.complaints.data[1])`); got != 4.0/1600 {
		t.Errorf("highest complaint rate charted: %v, want 4 complaints over 8×200 deliveries", got)
	}
	if got := eval[float64](t, c, `Math.max(...window.accountCharts.ads.data[1])`); got <= 0 {
		t.Errorf("share of ads charted: %v, want the disguised ad counted", got)
	}

	// The statement of reasons, as the owner's API gives it.
	stmt := c.text(t, "#statement")
	for _, part := range []string{dec.Statement.Measure, dec.Statement.Facts, dec.Statement.Ground, dec.Statement.Explanation, dec.Statement.Redress} {
		if !strings.Contains(stmt, part) {
			t.Errorf("statement shown lacks the owner's %q; shown: %q", part, stmt)
		}
	}
	// The evidence: the ad as sent and as normalised.
	sent := eval[[]string](t, c, `[...document.querySelectorAll("#evidence .sent")].map(e => e.textContent)`)
	normal := eval[[]string](t, c, `[...document.querySelectorAll("#evidence .normal")].map(e => e.textContent)`)
	if !contains(sent, disguised) || !contains(normal, adtext.Normalize(disguised).Text) {
		t.Errorf("evidence: sent %q, normalised %q; want %q and %q", sent, normal, disguised, adtext.Normalize(disguised).Text)
	}
	if !contains(sent, hostileBroadcast) || eval[int](t, c, `document.querySelectorAll("#evidence .sent *").length`) != 0 {
		t.Errorf("the hostile broadcast is not shown as text: %q", sent)
	}
	screenshot(t, c, "account")

	// A manual restore with a note.
	c.do(t, chromedp.SetValue(chromedp.ID("action"), "restore"),
		chromedp.SendKeys(chromedp.CSS("#action-form textarea[name=detail]"), "The requests were to the owner's club members."),
		chromedp.SendKeys(chromedp.CSS("#action-form textarea[name=note]"), "Checked the member list with the club."),
		chromedp.Submit(chromedp.ID("action-form")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := c.text(t, ".flash"); !strings.Contains(got, "Took restore on "+account) {
		t.Errorf("after the action: flash %q", got)
	}
	awaitStatus(t, svc, account, moderationv1.Status_STATUS_ACTIVE)
	c.do(t, chromedp.Navigate("http://"+svc.ConsoleAddr+"/accounts/"+account), chromedp.WaitVisible(chromedp.ID("timeline")))
	audit := eval[[]string](t, c, `[...document.querySelectorAll("#timeline tr.k-audit")].map(e => e.textContent)`)
	if !containsPart(audit, "reviewer:alice") {
		t.Errorf("timeline's audit records: %q, want the reviewer's manual action", audit)
	}
	if pwned := eval[bool](t, c, `window.pwned !== undefined`); pwned {
		t.Error("a broadcast ran script in the reviewer's browser")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsPart(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// sharedWith is the destination signal's evidence as the links show it,
// with how many other accounts sent buyers to the same destination.
var sharedWith = regexp.MustCompile(`<code>destination_campaign</code> the latest broadcast sends buyers to (?:WeChat id |QQ |phone |short link |site )([^<,]*), which`)

// accountsSendingTo lists the accounts of a fixture scenario whose
// broadcasts name the destination value.
func accountsSendingTo(t *testing.T, scenario, value string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../../fixtures/scenarios/" + scenario + "/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var e struct {
			Account   string `json:"account"`
			Broadcast struct {
				Text string `json:"text"`
			} `json:"broadcast"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		for _, d := range adtext.Destinations(adtext.NormalText(e.Broadcast.Text)) {
			if d.Value == value {
				out[e.Account] = true
			}
		}
	}
	return out
}

var linkedAccount = regexp.MustCompile(`<li><a href="/accounts/([A-Za-z0-9_-]+)">[^<]*</a> <small>([^<]*)</small></li>`)

// TestAccountLinkedAccounts: an account of the handle-ring fixture (25
// accounts sending buyers to the same handles) links, on its page, to the
// other accounts destination_campaign measured for the same destination,
// and the page shows the signal's evidence.
func TestAccountLinkedAccounts(t *testing.T) {
	svc := startService(t)
	replayScenario(t, svc, "handle-ring")
	b := newBrowser(t, svc)
	b.signIn(token(t, svc, reviewer))
	const account = "acct_b80a17"
	var page string
	var links [][]string
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, page = b.get("/accounts/" + account)
		links = linkedAccount.FindAllStringSubmatch(page, -1)
		if len(links) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(links) < 3 {
		t.Fatalf("%s links to %d accounts, want its ring's:\n%v", account, len(links), links)
	}
	// Every account linked broadcast the same destination: read from the
	// fixture's texts through the normaliser, apart from the service.
	m := sharedWith.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page does not show the destination signal's evidence among the links")
	}
	same := accountsSendingTo(t, "handle-ring", m[1])
	for _, l := range links {
		if !same[l[1]] {
			t.Errorf("linked %s, which never sent buyers to %s (those that did: %v)", l[1], m[1], same)
		}
	}
	for _, l := range links {
		if l[1] == account || !strings.Contains(l[2], "(destination_campaign)") || !strings.HasPrefix(l[2], "same ") {
			t.Errorf("linked %s as %q, want another account with the same destination", l[1], l[2])
		}
	}
}

// TestAccountFindAndAction over plain HTTP: /accounts asks for an account
// and opens it; an account never seen has a page (active, nothing
// charted); a manual action without its note is refused with the API's
// words on the page, and without the CSRF token refused outright.
func TestAccountFindAndAction(t *testing.T) {
	svc := startService(t)
	b := newBrowser(t, svc)
	b.signIn(token(t, svc, reviewer))
	if resp, page := b.get("/accounts"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="find"`) {
		t.Fatalf("/accounts: %d", resp.StatusCode)
	}
	resp, page := b.get("/accounts?account=acct_unseen")
	if resp.Request.URL.Path != "/accounts/acct_unseen" || resp.StatusCode != http.StatusOK {
		t.Fatalf("find: landed on %s with %d", resp.Request.URL.Path, resp.StatusCode)
	}
	if !strings.Contains(page, `id="status-now">active</b>`) || !strings.Contains(page, "No events of this kind retained.") {
		t.Error("an account never seen is not shown active with empty charts")
	}
	csrf := csrfOf(t, page)
	form := url.Values{"csrf": {csrf}, "action": {"warn"}, "detail": {"Spam reported by staff."}}
	if _, page := b.post("/accounts/acct_unseen/action", form); !strings.Contains(flash(page), "note") {
		t.Errorf("an action without a note: flash %q, want the API's refusal naming the note", flash(page))
	}
	form.Del("csrf")
	form.Set("note", "seen in the support queue")
	if resp, _ := b.post("/accounts/acct_unseen/action", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an action without its CSRF token: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", csrf)
	if _, page := b.post("/accounts/acct_unseen/action", form); !strings.Contains(flash(page), "Took warn on acct_unseen") {
		t.Errorf("warn: flash %q", flash(page))
	}
	awaitStatus(t, svc, "acct_unseen", moderationv1.Status_STATUS_WARNED)
}
