package webconsole_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/policies"
)

// retuneNew is page script that raises a new personal account's bulk_add
// limit and suspension levels, in every window, in the page's data.json.
const retuneNew = `(() => {
	const ta = document.getElementById("data");
	const d = JSON.parse(ta.value);
	for (const w of ["levels", "day_levels", "week_levels", "month_levels"]) {
		Object.assign(d.config.bulk_add[w].personal.new, {limit: 300, suspend: 600});
	}
	ta.value = JSON.stringify(d, null, 2);
})()`

// retunedTests replaces bulk_add_test.rego for the retuned candidate: the
// embedded tests pin the levels it changes.
const retunedTests = `package bulk_add_test

_new := data.config.bulk_add.levels.personal.new

test_a_new_account_is_limited_at_300_an_hour if {
	_new.limit == 300
	_new.suspend == 600
}
`

// TestPolicyBacktestAndReevaluate works the policy page in Chromium: a
// candidate whose data.json is edited in the page but whose tests still
// pin the old levels is refused with the failing tests named; with its
// retuned test file uploaded, the backtest shows the suspended account
// released by bulk_add, in a table and a chart; the dry run of the
// re-evaluation lists it, and the apply restores it with its progress
// shown, after which Check answers ACTIVE.
func TestPolicyBacktestAndReevaluate(t *testing.T) {
	svc := startService(t)
	suspend(t, svc, "acct_bt")
	dir := t.TempDir()
	testFile := filepath.Join(dir, "bulk_add_test.rego")
	if err := os.WriteFile(testFile, []byte(retunedTests), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")),
		chromedp.Navigate("http://"+svc.ConsoleAddr+"/policy"),
		chromedp.WaitVisible(chromedp.ID("data")))
	if got := c.text(t, "#live-version"); !strings.HasPrefix(got, "embedded@") {
		t.Errorf("live version %q", got)
	}
	if n := eval[int](t, c, `document.querySelectorAll("#versions tbody tr").length`); n < 1 {
		t.Error("no version listed")
	}

	// The old tests refuse the retuned levels.
	c.do(t, chromedp.Evaluate[chromedp.Void](retuneNew), chromedp.Click(chromedp.ID("run-backtest")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := c.text(t, ".flash"); !strings.Contains(got, "bulk_add_test.test_new_account_150_an_hour_is_limited") {
		t.Errorf("candidate with stale tests: flash %q, want its failing tests named", got)
	}

	// With the retuned tests uploaded, the backtest runs.
	c.do(t, chromedp.Evaluate[chromedp.Void](retuneNew), chromedp.SetUploadFiles(chromedp.ID("upload"), []string{testFile}),
		chromedp.Click(chromedp.ID("run-backtest")), chromedp.WaitVisible(chromedp.ID("backtest")))
	released := eval[[]string](t, c, `[...document.querySelectorAll("table.diff[data-rule=bulk_add] tr.released")].map(r => [...r.cells].map(td => td.textContent).join("|"))`)
	if len(released) != 1 || !strings.HasPrefix(released[0], "acct_bt|suspend|warn|") {
		t.Errorf("released by bulk_add: %q, want acct_bt from suspend to warn", released)
	}
	size := eval[[]float64](t, c, `(() => { const cv = document.querySelector("#chart-backtest canvas"); return cv ? [cv.width, cv.height] : [0, 0]; })()`)
	if size[0] <= 0 || size[1] <= 0 {
		t.Errorf("backtest chart canvas %v", size)
	}
	if got := eval[[]float64](t, c, `window.backtestChart.data[2]`); len(got) != 1 || got[0] != 1 {
		t.Errorf("backtest chart's released series %v, want one account under bulk_add", got)
	}
	if got := c.text(t, "#kept"); !strings.Contains(got, "bulk_add_test.rego") {
		t.Errorf("the uploaded file is not kept for the next step: %q", got)
	}
	screenshot(t, c, "policy")

	// Re-evaluate the closed and suspended accounts under the candidate:
	// the dry run lists acct_bt, the apply restores it.
	c.do(t, chromedp.Click(chromedp.ID("dry-candidate")), chromedp.WaitVisible(chromedp.ID("would-restore")))
	if got := c.text(t, "#would-restore tbody"); !strings.Contains(got, "acct_bt") {
		t.Fatalf("dry run lists %q, want acct_bt", got)
	}
	awaitStatus(t, svc, "acct_bt", moderationv1.Status_STATUS_SUSPENDED) // a dry run restores nobody
	c.do(t, chromedp.SendKeys(chromedp.ID("apply-note"), "Levels retuned for new accounts after the spring review."),
		chromedp.Click(chromedp.ID("apply")))
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`document.getElementById("apply-status").dataset.done !== undefined`,
		chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		t.Fatalf("apply did not finish: %v", err)
	}
	if got := c.text(t, "#apply-status"); !strings.HasPrefix(got, "Done: 1 restored") {
		t.Errorf("apply: %q", got)
	}
	if got := eval[float64](t, c, `document.getElementById("apply-progress").value`); got != 1 {
		t.Errorf("progress bar at %v after the result, want full", got)
	}
	awaitStatus(t, svc, "acct_bt", moderationv1.Status_STATUS_ACTIVE)
}

// policyBundle is the embedded policy as an OPA bundle: a gzipped tar of
// its files at the root, as `opa build -b policies/` lays them out.
func policyBundle(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names, err := fs.Glob(policies.FS, "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		raw, err := fs.ReadFile(policies.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "/" + name, Mode: 0o644, Size: int64(len(raw))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var backtestOf = regexp.MustCompile(`Backtest of <code>[a-z-]+@([0-9a-f]+)</code> <small>(\d+) events replayed; (\d+) accounts actioned more strongly, (\d+) released`)

// TestPolicyBundleUpload over plain HTTP: the embedded policy uploaded as
// an unsigned bundle backtests as the same content (its version's hash is
// the live one's) and changes nobody.
func TestPolicyBundleUpload(t *testing.T) {
	svc := startService(t)
	suspend(t, svc, "acct_bundle")
	b := newBrowser(t, svc)
	b.signIn(token(t, svc, reviewer))
	_, page := b.get("/policy")
	live := regexp.MustCompile(`id="live-version">[a-z]+@([0-9a-f]+)<`).FindStringSubmatch(page)
	if live == nil {
		t.Fatal("no live version on the page")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrfOf(t, page))
	_ = mw.WriteField("data", "") // the page's data.json left alone: the bundle's counts
	fw, err := mw.CreateFormFile("files", "policy.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(policyBundle(t))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/policy/backtest", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.base)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	m := backtestOf.FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatalf("no backtest in the answer (%d): %s", resp.StatusCode, flash(string(raw)))
	}
	if m[1] != live[1] || m[2] == "0" || m[3] != "0" || m[4] != "0" {
		t.Errorf("bundle of the live policy: version hash %s (live %s), %s events, %s actioned, %s released; want the same hash, events replayed and no change", m[1], live[1], m[2], m[3], m[4])
	}
}
