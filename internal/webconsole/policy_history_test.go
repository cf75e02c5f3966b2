package webconsole_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/service"
	"moderation/policies"
)

// TestPolicyPageHistoryAfterRestart (Chromium): a shadow policy run before
// a restart stays in the policy page's history after the service restarts
// without it, marked as history (not held: the re-evaluation form does not
// offer it), beside the live policy, loaded.
func TestPolicyPageHistoryAfterRestart(t *testing.T) {
	// The shadow: the embedded policy with one more module, so its content
	// hash, its version, differs.
	shadow := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(shadow, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shadow, "history_marker.rego"), []byte("package moderation\n\n_history_marker := true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := service.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		ConsoleListen: "127.0.0.1:0", MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ShadowPolicyDir: shadow}
	first, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WaitReady(ctx); err != nil {
		first.Stop()
		t.Fatal(err)
	}
	before, err := moderationv1.NewConsoleServiceClient(apiConn(t, first, reviewer)).GetPolicy(ctx, &moderationv1.GetPolicyRequest{})
	first.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if before.GetShadowVersion() == "" {
		t.Fatal("the shadow policy did not load")
	}

	cfg.ShadowPolicyDir = ""
	svc, err := service.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t)
	signInBrowser(t, c, svc, token(t, svc, reviewer))
	c.do(t, chromedp.WaitVisible(chromedp.ID("appeals")), chromedp.Navigate("http://"+svc.ConsoleAddr+"/policy"),
		chromedp.WaitVisible(chromedp.ID("versions")))
	raw := eval[string](t, c, `JSON.stringify(Array.from(document.querySelectorAll("#versions tr[data-version]")).map(function (tr) {
		return [tr.dataset.version, tr.cells[1].textContent.trim(), tr.cells[3].textContent.trim()];
	}))`)
	var rows [][3]string
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		t.Fatal(err)
	}
	want := [][3]string{{before.GetLiveVersion(), "live", "loaded"}, {before.GetShadowVersion(), "shadow", "history"}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("history after the restart: %v, want %v", rows, want)
	}
	offered := eval[[]string](t, c, `Array.from(document.querySelectorAll("#version-form select[name=version] option")).map(function (o) { return o.value; })`)
	if len(offered) != 1 || offered[0] != before.GetLiveVersion() {
		t.Errorf("re-evaluation offers %v, want only the version held, %s", offered, before.GetLiveVersion())
	}
	screenshot(t, c, "policy-history")
}
