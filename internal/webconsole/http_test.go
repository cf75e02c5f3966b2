package webconsole_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/auth"
	"moderation/internal/service"
)

// browser is an HTTP client with a cookie jar, on the console of svc.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newBrowser(t testing.TB, svc *service.Service) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: "http://" + svc.ConsoleAddr, c: &http.Client{Jar: jar}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base) // as a browser posting its own form does
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs b in with tok and returns the page it lands on.
func (b *browser) signIn(tok string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/signin")
	return b.post("/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "token": {tok}})
}

// TestSignInRules: reviewers and admins sign in; owners and services are
// refused with the authz policy's reason; a token that is not ours is
// refused; every page carries the security headers; a POST without its
// CSRF token is refused; signing out ends the session; a revoked token
// ends its session at the next request.
func TestSignInRules(t *testing.T) {
	svc := startService(t)

	for _, c := range []struct {
		id     auth.Identity
		reason string
	}{
		{ownerOf("acct_x"), "owners cannot sign in to the reviewer console"},
		{platform, "services cannot sign in to the reviewer console"},
	} {
		b := newBrowser(t, svc)
		resp, page := b.signIn(token(t, svc, c.id))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, c.reason) {
			t.Errorf("sign in as %s: got %d, want 403 saying %q:\n%s", c.id.Role, resp.StatusCode, c.reason, page)
		}
		if resp, _ := b.get("/queue"); resp.Request.URL.Path != "/signin" {
			t.Errorf("after a refused sign-in as %s, /queue went to %s, want the sign-in page", c.id.Role, resp.Request.URL.Path)
		}
	}

	b := newBrowser(t, svc)
	if resp, page := b.signIn("not-a-token"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "not accepted") {
		t.Errorf("sign in with garbage: got %d:\n%s", resp.StatusCode, page)
	}

	// The sign-in form itself needs its token.
	if resp, _ := b.post("/signin", url.Values{"token": {token(t, svc, reviewer)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign in without the form's CSRF token: got %d, want 403", resp.StatusCode)
	}

	tok := token(t, svc, reviewer)
	// A page asked for before sign-in is where sign-in leads, but never
	// off the site.
	for next, want := range map[string]string{"/review": "/review", "//evil.example/x": "/queue", "https://evil.example/": "/queue", "/\\evil.example": "/queue"} {
		nb := newBrowser(t, svc)
		_, form := nb.get("/signin?next=" + url.QueryEscape(next))
		resp, _ := nb.post("/signin", url.Values{"csrf": {csrfOf(t, form)}, "token": {tok}, "next": {next}})
		if resp.Request.URL.Host != strings.TrimPrefix(nb.base, "http://") || resp.Request.URL.Path != want {
			t.Errorf("sign in with next=%s landed on %s, want %s", next, resp.Request.URL, want)
		}
	}
	resp, page := b.signIn(tok)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/queue" || !strings.Contains(page, "alice") {
		t.Fatalf("sign in as a reviewer: got %d at %s:\n%s", resp.StatusCode, resp.Request.URL.Path, page)
	}
	h := resp.Header
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(resp.Request.URL) {
		if c.Name == "moderation_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after sign-in")
	}
	if strings.Contains(cookie.Value, tok) {
		t.Error("the session cookie carries the token")
	}
	// The jar does not show the attributes; read them from a fresh sign-in.
	b2 := newBrowser(t, svc)
	_, p2 := b2.get("/signin")
	req, _ := http.NewRequest(http.MethodPost, b2.base+"/signin", strings.NewReader(url.Values{"csrf": {csrfOf(t, p2)}, "token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b2.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	raw, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	var set string
	for _, v := range raw.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "moderation_session=") {
			set = v
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, attr) {
			t.Errorf("session cookie %q lacks %s", set, attr)
		}
	}

	// A form posted without its CSRF token, or with another's, is refused.
	for name, form := range map[string]url.Values{
		"without": {"appeal_id": {"apl_x"}},
		"wrong":   {"appeal_id": {"apl_x"}, "csrf": {"forged"}},
	} {
		if resp, _ := b.post("/queue/claim", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("claim %s the CSRF token: got %d, want 403", name, resp.StatusCode)
		}
	}
	// A cross-site POST is refused before the token is even looked at.
	req, _ = http.NewRequest(http.MethodPost, b.base+"/queue/claim", strings.NewReader(url.Values{"appeal_id": {"apl_x"}, "csrf": {csrfOf(t, page)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site claim: got %v, %v; want 403", resp.StatusCode, err)
	}

	// Signing out ends the session.
	if resp, _ := b.post("/signout", url.Values{"csrf": {csrfOf(t, page)}}); resp.Request.URL.Path != "/signin" {
		t.Errorf("sign out landed on %s", resp.Request.URL.Path)
	}
	if resp, _ := b.get("/queue"); resp.Request.URL.Path != "/signin" {
		t.Errorf("after signing out, /queue went to %s, want the sign-in page", resp.Request.URL.Path)
	}

	// Revoking the token ends its session at the next request.
	b = newBrowser(t, svc)
	if resp, _ := b.signIn(tok); resp.Request.URL.Path != "/queue" {
		t.Fatalf("sign in again: landed on %s", resp.Request.URL.Path)
	}
	admin := moderationv1.NewAdminServiceClient(apiConn(t, svc, auth.Identity{Subject: "root", Role: auth.RoleAdmin}))
	if _, err := admin.RevokeToken(context.Background(), &moderationv1.RevokeTokenRequest{
		Which: &moderationv1.RevokeTokenRequest_Token{Token: tok}, Note: "laptop lost"}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := b.get("/queue")
		if resp.Request.URL.Path == "/signin" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session of a revoked token still serves /queue")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
