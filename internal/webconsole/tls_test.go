package webconsole_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"moderation/internal/natsbus/natstest"
	"moderation/internal/service"
)

func tlsConfig(t *testing.T, svcCert, svcKey, clientCA string) service.Config {
	return service.Config{
		DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0",
		ConsoleListen: "127.0.0.1:0", MaxStateMB: 64, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		TLSCert: svcCert, TLSKey: svcKey, ClientCA: clientCA,
	}
}

// TestConsoleOverTLS: with the API's TLS configured the console is served
// over TLS with the same certificate, its session cookie is Secure and
// __Host- prefixed, and its pages reach the API (which then takes TLS
// only). Under mutual TLS a certificate that cannot authenticate a client
// stops the start with the reason.
func TestConsoleOverTLS(t *testing.T) {
	p := natstest.NewPKI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	svc, err := service.Start(ctx, tlsConfig(t, p.ServerCert, p.ServerKey, ""))
	if err != nil {
		t.Fatalf("start service: %v", err)
	}
	t.Cleanup(svc.Stop)
	if err := svc.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(p.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: "https://" + svc.ConsoleAddr,
		c: &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}}
	resp, page := b.signIn(token(t, svc, reviewer))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/queue" || !strings.Contains(page, `id="appeals"`) {
		t.Fatalf("sign in over TLS: %d at %s:\n%s", resp.StatusCode, resp.Request.URL.Path, page)
	}
	var secure bool
	for _, c := range jar.Cookies(resp.Request.URL) {
		secure = secure || c.Name == "__Host-moderation_session"
	}
	if !secure {
		t.Errorf("cookies over TLS: %v, want __Host-moderation_session", jar.Cookies(resp.Request.URL))
	}
	// The jar hides attributes: read the Set-Cookie of another sign-in.
	jar2, _ := cookiejar.New(nil)
	b = &browser{t: t, base: b.base, c: &http.Client{Jar: jar2, Transport: b.c.Transport}}
	_, form := b.get("/signin")
	req, _ := http.NewRequest(http.MethodPost, b.base+"/signin", strings.NewReader("csrf="+csrfOf(t, form)+"&token="+token(t, svc, reviewer)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range jar2.Cookies(req.URL) {
		req.AddCookie(c)
	}
	raw, err := b.c.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	var set string
	for _, v := range raw.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "__Host-moderation_session=") {
			set = v
		}
	}
	for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, attr) {
			t.Errorf("session cookie over TLS %q lacks %s", set, attr)
		}
	}

	// Mutual TLS with a certificate for servers only: the console could
	// not call the API, so the service does not start.
	_, err = service.Start(ctx, tlsConfig(t, p.ServerCert, p.ServerKey, p.CA))
	if err == nil || !strings.Contains(err.Error(), "clientAuth") {
		t.Errorf("start under mutual TLS with a server-only certificate: %v, want a refusal naming clientAuth", err)
	}
}
