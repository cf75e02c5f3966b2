package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// TestNATSCreds issues credentials with modctl nats-creds from the
// service's data directory and uses them against the service's embedded
// server: each carries its role's permissions.
func TestNATSCreds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := startService(t)
	dataDir := os.Getenv("MODERATION_DATA_DIR")
	out := filepath.Join(t.TempDir(), "broadcast.creds")
	modctl(t, ctx, "nats-creds", "-role", "publisher", "-name", "svc-broadcast", "-out", out)

	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of the credentials: got %o, want 600", got)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.ParseDecoratedJWT(raw)
	if err != nil {
		t.Fatalf("not a .creds file: %v\n%s", err, raw)
	}
	claims, err := jwt.DecodeUserClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Name != "svc-broadcast" {
		t.Errorf("user name: got %q, want svc-broadcast", claims.Name)
	}

	violations := make(chan error, 8)
	nc, err := nats.Connect(svc.NATSURL, nats.UserCredentials(out), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatalf("connect with the issued credentials: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "mod.events.friend_add.acct_creds", []byte(`{}`)); err != nil {
		t.Errorf("publish an event with the issued publisher credentials: %v", err)
	}
	if err := nc.Publish("mod.enforcement.acct_creds", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("publish a decision: got %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the issued publisher credentials published a decision")
	}

	// Printed on stdout without -out: a follower publishes nothing.
	follower := filepath.Join(t.TempDir(), "follower.creds")
	if err := os.WriteFile(follower, []byte(modctl(t, ctx, "nats-creds", "-role", "follower", "-data-dir", dataDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := nats.Connect(svc.NATSURL, nats.UserCredentials(follower), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatalf("connect with the issued follower credentials: %v", err)
	}
	defer fc.Close()
	if _, err := fc.SubscribeSync(natsbus.EnforcementPrefix + ">"); err != nil {
		t.Fatal(err)
	}
	if err := fc.Publish("mod.events.friend_add.acct_creds", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), `"mod.events.friend_add.acct_creds"`) {
			t.Errorf("follower: got %v, want a violation for its publish", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the issued follower credentials published an event")
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown role", []string{"-role", "admin"}, "not one of"},
		{"no role", nil, "not one of"},
		{"existing file", []string{"-role", "publisher", "-out", out}, "exists"},
		{"no key", []string{"-role", "publisher", "-data-dir", t.TempDir()}, "start moderationd once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(ctx, append([]string{"nats-creds"}, tc.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed credentials on a refusal:\n%s", stdout.String())
			}
		})
	}
}

// TestNATSEnvironment: the variables mean to modctl what they mean to
// moderationd. MODERATION_NATS_URL names an external server both use; the
// embedded server's address is MODERATION_NATS_LISTEN. A user who
// exports the one modctl needs does not reconfigure the daemon.
func TestNATSEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, url, listen, want string
	}{
		{"nothing set: the embedded default", "", "", "nats://127.0.0.1:4222"},
		{"the embedded server's address", "", "10.0.0.5:4333", "nats://10.0.0.5:4333"},
		{"an external server", "nats://n1:4222,nats://n2:4222", "", "nats://n1:4222,nats://n2:4222"},
		{"an external server wins", "tls://n1:4222", "10.0.0.5:4333", "tls://n1:4222"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MODERATION_NATS_URL", tc.url)
			t.Setenv("MODERATION_NATS_LISTEN", tc.listen)
			if got := defaultNATSURL(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}

	// The quick start's way: the service on its embedded server, modctl
	// finding it and its publisher credentials from the same variables.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := startService(t)
	u, err := url.Parse(svc.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODERATION_NATS_URL", "")
	t.Setenv("MODERATION_NATS_LISTEN", u.Host)
	modctl(t, ctx, "replay", "../../fixtures/scenarios/bulk-adder-new-account")

	// Without credentials, the error says where they come from.
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"replay", "-data-dir", t.TempDir(), "../../fixtures/scenarios/bulk-adder-new-account"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "start moderationd once") {
		t.Errorf("replay without credentials: got %v, want an error saying where credentials come from", err)
	}
}
