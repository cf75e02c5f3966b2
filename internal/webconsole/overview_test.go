package webconsole_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/types/known/timestamppb"

	moderationv1 "moderation/api/moderation/v1"
)

// TestOverviewLive opens the overview in Chromium and publishes events
// through the API: the events counter on the page moves by their number
// without a reload (server-sent events), and its charts are drawn.
func TestOverviewLive(t *testing.T) {
	svc := startService(t)
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")),
		chromedp.Navigate("http://"+svc.ConsoleAddr+"/overview"),
		chromedp.WaitVisible(chromedp.CSS("#chart-rate canvas")))
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`document.getElementById("live").dataset.state === "live"`)); err != nil {
		t.Fatalf("the overview's stream did not open: %v", err)
	}
	before, err := strconv.Atoi(c.text(t, "#events-total"))
	if err != nil {
		t.Fatalf("events total: %v", err)
	}

	const n = 7
	now := time.Now()
	var evs []*moderationv1.Event
	for i := range n {
		evs = append(evs, &moderationv1.Event{Id: fmt.Sprintf("ov-%d", i), Kind: "friend_add", Account: "acct_overview",
			At:          timestamppb.New(now.Add(time.Duration(i-n) * time.Second)),
			AccountInfo: &moderationv1.AccountInfo{Type: "personal", CreatedAt: timestamppb.New(now.Add(-100 * 24 * time.Hour))},
			Body:        &moderationv1.Event_FriendAdd{FriendAdd: &moderationv1.FriendAdd{Target: fmt.Sprintf("ov%d", i), Source: "contact"}}})
	}
	if _, err := moderationv1.NewModerationServiceClient(apiConn(t, svc, platform)).Ingest(context.Background(), &moderationv1.IngestRequest{Events: evs}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	want := before + n
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](fmt.Sprintf(`Number(document.getElementById("events-total").textContent) >= %d`, want))); err != nil {
		t.Fatalf("events total stayed %s after %d events were processed, want %d: %v", c.text(t, "#events-total"), n, want, err)
	}
	// The events-per-second chart holds readings that counted them.
	if got := eval[float64](t, c, `(() => { const u = document.querySelector("#chart-rate canvas"); return u ? u.width * u.height : 0; })()`); got <= 0 {
		t.Error("the events-per-second chart has no canvas drawn")
	}
	for _, id := range []string{"rate", "decisions", "backlog", "dead"} {
		if n := eval[int](t, c, `document.querySelectorAll("#chart-`+id+` canvas").length`); n != 1 {
			t.Errorf("chart %s: %d canvases, want 1", id, n)
		}
	}
	// A decision shows up under its rule.
	suspend(t, svc, "acct_overview_burst")
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`[...document.querySelectorAll("#chart-decisions .u-legend .u-label")].some(e => e.textContent === "bulk_add")`)); err != nil {
		t.Errorf("the decisions chart has no bulk_add series after a bulk_add suspension: %v", err)
	}
	time.Sleep(3 * overviewTick) // a few more readings, for the screenshot's charts
	screenshot(t, c, "overview")
}

// overviewTick is how often the overview's stream sends a reading.
const overviewTick = time.Second

// TestOverviewStreamNeedsSession: the stream answers 401 to a browser
// without a session, and streams readings to one with.
func TestOverviewStreamNeedsSession(t *testing.T) {
	svc := startService(t)
	resp, err := http.Get("http://" + svc.ConsoleAddr + "/overview/stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("stream without a session: %d, want 401", resp.StatusCode)
	}

	b := newBrowser(t, svc)
	b.signIn(token(t, svc, reviewer))
	req, err := http.NewRequest("GET", "http://"+svc.ConsoleAddr+"/overview/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err = b.c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream with a session: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	buf := make([]byte, 4096)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:6]) != "data: " {
		t.Errorf("first event: %q, %v", buf[:n], err)
	}

	// Signing out ends the stream at its next reading.
	_, page := b.get("/overview")
	b.post("/signout", url.Values{"csrf": {csrfOf(t, page)}})
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("the stream did not end after sign-out: %v (read %d bytes)", err, len(rest))
	}
}
