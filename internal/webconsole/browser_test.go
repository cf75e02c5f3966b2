package webconsole_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/nats-io/nats.go/jetstream"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/moderation"
	"moderation/internal/service"
)

// The browser tests drive a real Chromium (Debian's chromium package, which
// .ci/run installs) through the DevTools protocol with chromedp.

// chromium finds the browser, or fails saying how to install it: the tests
// are the console's proof, so they do not skip.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the reviewer console's browser tests need Chromium: install Debian's package " +
		"(apt-get install chromium, as .ci/run does) or put chromium on PATH")
	return ""
}

// chrome is a headless Chromium tab, with the page errors it reported.
type chrome struct {
	ctx context.Context
	mu  sync.Mutex
	// exceptions are uncaught JavaScript errors; a page of the console
	// must throw none.
	exceptions []string
}

// newChrome starts a headless Chromium for the test, closed when it ends.
func newChrome(t testing.TB) *chrome {
	t.Helper()
	// Without Chromium's sandbox: it refuses to run as root with it, and
	// containers often lack the user namespaces it needs. The pages are
	// the console's own, served by the test.
	// /dev/shm is small in many containers, and a Chromium that runs out of
	// it dies at start: it writes to /tmp instead.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.WindowSize(1440, 900), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true))
	// A browser that dies while starting on a busy machine is started
	// again, twice at most: what the tests check is the console, not that.
	var ctx context.Context
	for attempt := 1; ; attempt++ {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		tab, cancelTab := chromedp.NewContext(alloc)
		tab, cancelTimeout := context.WithTimeout(tab, 3*time.Minute)
		err := chromedp.Do(tab, chromedp.Navigate("about:blank"))
		if err == nil {
			ctx = tab
			t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
			break
		}
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		if attempt == 3 {
			t.Fatalf("start Chromium (%d attempts): %v", attempt, err)
		}
		t.Logf("start Chromium, attempt %d: %v; starting it again", attempt, err)
		time.Sleep(time.Second)
	}
	c := &chrome{ctx: ctx}
	events := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.exceptions = append(c.exceptions, ev.ExceptionDetails.Text+" "+ev.ExceptionDetails.URL)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, e := range c.exceptions {
			t.Errorf("JavaScript error in a console page: %s", e)
		}
	})
	return c
}

func (c *chrome) do(t testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func (c *chrome) text(t testing.TB, sel string) string {
	t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](t testing.TB, c *chrome, js string) T {
	t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", js, err)
	}
	return v
}

// signInBrowser types tok into the sign-in page and presses Enter.
func signInBrowser(t testing.TB, c *chrome, svc *service.Service, tok string) {
	t.Helper()
	c.do(t, chromedp.Navigate("http://"+svc.ConsoleAddr+"/signin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), tok+kb.Enter))
}

// screenshot writes docs/screenshots/<name>.png when MODERATION_SCREENSHOTS
// is set (make screenshots).
func screenshot(t testing.TB, c *chrome, name string) {
	t.Helper()
	if os.Getenv("MODERATION_SCREENSHOTS") == "" {
		return
	}
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name+".png"))
}

// enforcementActions lists the actions published on mod.enforcement.<account>.
func enforcementActions(t testing.TB, svc *service.Service, account string) []string {
	t.Helper()
	var out []string
	for seq := uint64(1); ; {
		msg, err := svc.Streams.Decisions.GetMsg(context.Background(), seq, jetstream.WithGetMsgSubject("mod.enforcement."+account))
		if err != nil {
			return out
		}
		var d moderation.Decision
		if err := json.Unmarshal(msg.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(d.Action))
		seq = msg.Sequence + 1
	}
}

// cannedOverturn is the first canned reply for an overturn, which pressing
// o puts in an empty reply.
const cannedOverturn = "We reviewed your appeal and the account's activity, and the measure was wrong. It is lifted and its strike removed; your account is restored."

// hostile is an owner's statement written to run in a reviewer's browser.
const hostile = `My broadcast was "<script>window.pwned=1</script>" and <img src=x onerror="window.pwned=2"> nothing else.`

// TestQueueByKeyboard works the queue in Chromium with the keyboard only:
// sign in, move to the second appeal (j), claim it (c), overturn it (o)
// with the canned reply and words of the reviewer's own, leave the reply
// (Esc), submit and claim the next (n). The overturned account is then
// ACTIVE in Check, its enforcement subject ends with restore, and the owner
// reads the reviewer's reply. The hostile statement is shown as text: no
// script of it ran and no element of it exists.
func TestQueueByKeyboard(t *testing.T) {
	svc := startService(t)
	first := appeal(t, svc, "acct_first", "I run a hiking club and added the members after our walk.")
	kbd := appeal(t, svc, "acct_kbd", hostile, "https://example.com/onboarding", "javascript:window.pwned=3")
	c := newChrome(t)

	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")))
	if got := eval[string](t, c, `document.querySelector("#appeals tr.selected").dataset.id`); got != first.AppealId {
		t.Fatalf("selected at first: %s, want the oldest, %s", got, first.AppealId)
	}

	// The statement is there as text, and inert.
	statement := c.text(t, "#detail-"+kbd.AppealId+" .statement")
	if statement != hostile {
		t.Errorf("statement shown as %q, want the owner's text as written, %q", statement, hostile)
	}
	if n := eval[int](t, c, `document.querySelectorAll(".statement *").length`); n != 0 {
		t.Errorf("the statement made %d elements in the page, want none", n)
	}

	// A javascript: link offered as evidence is shown, not linked.
	hrefs := eval[[]string](t, c, `[...document.querySelectorAll("#detail-`+kbd.AppealId+` .evidence a")].map(a => a.getAttribute("href"))`)
	if len(hrefs) != 2 || hrefs[0] != "https://example.com/onboarding" || strings.HasPrefix(hrefs[1], "javascript:") {
		t.Errorf("evidence links: %q; want the https link as is and the javascript: one disarmed", hrefs)
	}

	// ? shows the keys, Esc hides them.
	c.do(t, chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.ID("help")))
	if got := c.text(t, "#help"); !strings.Contains(got, "submit and claim the next") {
		t.Errorf("help: %q", got)
	}
	c.do(t, chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("help")))

	c.do(t, chromedp.KeyEvent("j"))
	if got := eval[string](t, c, `document.querySelector("#appeals tr.selected").dataset.id`); got != kbd.AppealId {
		t.Fatalf("after j: selected %s, want %s", got, kbd.AppealId)
	}
	c.do(t, chromedp.KeyEvent("c"), chromedp.WaitVisible(chromedp.CSS("#detail-"+kbd.AppealId+" form.decide textarea")))
	if got := c.text(t, ".flash"); !strings.Contains(got, "Claimed "+kbd.AppealId) {
		t.Errorf("after c: flash %q", got)
	}
	if got := c.text(t, "#detail-"+kbd.AppealId+" .lease"); got == "" || got == "ended" {
		t.Errorf("claim time left shown as %q", got)
	}
	const own = " The people you added are in your company's directory."
	c.do(t, chromedp.KeyEvent("o"), chromedp.KeyEvent(own))
	screenshot(t, c, "queue")
	reply := eval[string](t, c, `document.querySelector("#detail-`+kbd.AppealId+` textarea").value`)
	if reply != cannedOverturn+own {
		t.Fatalf("reply after o and typing: %q, want the canned overturn reply and the typed words", reply)
	}
	c.do(t, chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS("#detail-"+first.AppealId+" form.decide")))
	if got := c.text(t, ".flash"); !strings.Contains(got, "Overturned "+kbd.AppealId) || !strings.Contains(got, "Claimed "+first.AppealId) {
		t.Errorf("after n: flash %q, want the overturn and the next claim", got)
	}

	awaitStatus(t, svc, "acct_kbd", moderationv1.Status_STATUS_ACTIVE)
	if got := enforcementActions(t, svc, "acct_kbd"); len(got) == 0 || got[len(got)-1] != "restore" {
		t.Errorf("mod.enforcement.acct_kbd: %v, want it to end with restore", got)
	}
	seen, err := moderationv1.NewAppealServiceClient(apiConn(t, svc, ownerOf("acct_kbd"))).GetAppeal(context.Background(),
		&moderationv1.GetAppealRequest{Account: "acct_kbd", AppealId: kbd.AppealId})
	if err != nil || seen.State != moderationv1.AppealState_APPEAL_STATE_OVERTURNED || seen.Reply != reply || seen.Reviewer != "reviewer:alice" {
		t.Errorf("the owner reads: %v, %v; want overturned by reviewer:alice with the reply typed", seen, err)
	}
	if pwned := eval[bool](t, c, `window.pwned !== undefined`); pwned {
		t.Error("the owner's statement ran script in the reviewer's browser")
	}
}

// TestBrowserRefusals: an owner's token is refused at sign-in with the
// policy's reason, and a form posted without its CSRF token is refused
// (the appeal stays unclaimed).
func TestBrowserRefusals(t *testing.T) {
	svc := startService(t)
	a := appeal(t, svc, "acct_csrf", "Please look again.")
	c := newChrome(t)

	signInBrowser(t, c, svc, token(t, svc, ownerOf("acct_csrf")))
	c.do(t, chromedp.WaitVisible(chromedp.ID("signin-error")))
	if got := c.text(t, "#signin-error"); !strings.Contains(got, "owners cannot sign in to the reviewer console") {
		t.Errorf("owner's sign-in: %q", got)
	}

	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")))
	c.do(t, chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.querySelector("#detail-`+a.AppealId+` form.claim");
		f.querySelector("input[name=csrf]").remove();
		f.submit();
	})()`), chromedp.WaitVisible(chromedp.ID("error")))
	if got := c.text(t, "#error"); !strings.Contains(got, "without its security token") {
		t.Errorf("claim without CSRF token: page says %q", got)
	}
	q, err := moderationv1.NewReviewServiceClient(apiConn(t, svc, reviewer)).ListAppeals(context.Background(), &moderationv1.ListAppealsRequest{})
	if err != nil || len(q.Appeals) != 1 || q.Appeals[0].State != moderationv1.AppealState_APPEAL_STATE_FILED {
		t.Errorf("after the refused claim the queue is %v, %v; want the appeal still filed", q, err)
	}
}
