package natsbus_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

func startEmbedded(t *testing.T, dataDir string) *server.Server {
	t.Helper()
	ns, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(dataDir, "jetstream"), DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func TestEmbeddedRefusesAnonymous(t *testing.T) {
	dir := t.TempDir()
	ns := startEmbedded(t, dir)
	nc, err := nats.Connect(ns.ClientURL())
	if err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the embedded server")
	}
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("anonymous connect: got %v, want an authorization violation", err)
	}
	for _, role := range natsbus.Roles {
		nc, err := natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, role))
		if err != nil {
			t.Errorf("connect as %s: %v", role, err)
			continue
		}
		nc.Close()
	}
}

// TestTrustFiles: the keys and credentials are private to the service's
// user, and a restart reuses them, so credentials handed out stay valid.
func TestTrustFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(natsbus.TrustDir(dir), 0o755); err != nil { // as an operator might
		t.Fatal(err)
	}
	ns := startEmbedded(t, dir)
	info, err := os.Stat(natsbus.TrustDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("mode of %s: got %o, want 700", natsbus.TrustDir(dir), got)
	}
	files, err := filepath.Glob(filepath.Join(natsbus.TrustDir(dir), "*"))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s: got %o, want 600", filepath.Base(f), got)
		}
		if before[filepath.Base(f)], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range natsbus.Roles {
		if _, ok := before[filepath.Base(natsbus.CredsPath(dir, role))]; !ok {
			t.Errorf("no %s credentials in %s after the first start (have %v)", role, natsbus.TrustDir(dir), files)
		}
	}
	if len(before) != 7 {
		t.Errorf("trust dir holds %d files, want 4 keys and 3 credentials: %v", len(before), files)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	ns = startEmbedded(t, dir)
	for name, was := range before {
		now, err := os.ReadFile(filepath.Join(natsbus.TrustDir(dir), name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(now, was) {
			t.Errorf("%s changed on restart", name)
		}
	}
	nc, err := natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, natsbus.RolePublisher))
	if err != nil {
		t.Fatalf("publisher credentials from the first start, after a restart: %v", err)
	}
	nc.Close()
}

// TestIssuedCreds: credentials issued later from the signing key carry
// their role's permissions, and an expired one is refused.
func TestIssuedCreds(t *testing.T) {
	dir := t.TempDir()
	ns := startEmbedded(t, dir)
	trust, err := natsbus.LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(role string, ttl time.Duration) string {
		creds, err := trust.UserCreds(role, "svc-test", ttl)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), role+".creds")
		if err := os.WriteFile(f, creds, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	errs := make(chan error, 10)
	nc, err := natsbus.Connect(ns.ClientURL(), "test", nats.UserCredentials(write(natsbus.RoleFollower, time.Hour)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatalf("connect with issued follower credentials: %v", err)
	}
	defer nc.Close()
	if err := nc.Publish("mod.events.friend_request.x", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("follower publishing: got %v, want a permissions violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a follower published an event without a permissions violation")
	}

	if _, err := trust.UserCreds("admin", "x", 0); err == nil {
		t.Error("issued credentials for a role that does not exist")
	}
	expired := write(natsbus.RolePublisher, time.Nanosecond)
	time.Sleep(1100 * time.Millisecond) // JWT expiry is in whole seconds
	if nc, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(expired)); err == nil {
		nc.Close()
		t.Error("expired credentials connected")
	}
}

// TestAdoptsAnonymousStore: a data dir from before accounts keeps its
// streams: the global account's store moves to the application account.
func TestAdoptsAnonymousStore(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "jetstream")
	old, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: store, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go old.Start()
	if !old.ReadyForConnections(10 * time.Second) {
		t.Fatal("old server not ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(old.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: natsbus.EventsStream, Subjects: []string{natsbus.EventsSubjects}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "mod.events.friend_request.a", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	old.Shutdown()
	old.WaitForShutdown()

	ns := startEmbedded(t, dir)
	nc, err = natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, natsbus.RoleService))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		t.Fatalf("the events stream from before accounts: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("events kept: got %d, want 1", info.State.Msgs)
	}
}

// TestRotateSigningKey: deleting the signing key and restarting refuses
// every credential issued before, writes the role files again, and keeps
// the account, so its streams are still there.
func TestRotateSigningKey(t *testing.T) {
	dir := t.TempDir()
	ns := startEmbedded(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, natsbus.RoleService))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsbus.Setup(ctx, js, natsbus.Config{}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	trust, err := natsbus.LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := trust.UserCreds(natsbus.RolePublisher, "svc-old", 0)
	if err != nil {
		t.Fatal(err)
	}
	issued := filepath.Join(t.TempDir(), "old.creds")
	if err := os.WriteFile(issued, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(natsbus.CredsPath(dir, natsbus.RolePublisher))
	if err != nil {
		t.Fatal(err)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	if err := os.Remove(filepath.Join(natsbus.TrustDir(dir), "signing.nk")); err != nil {
		t.Fatal(err)
	}
	ns = startEmbedded(t, dir)
	if nc, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(issued)); err == nil {
		nc.Close()
		t.Error("credentials issued before the rotation still connect")
	}
	now, err := os.ReadFile(natsbus.CredsPath(dir, natsbus.RolePublisher))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(now, old) {
		t.Error("publisher.creds not written again after the rotation")
	}
	for _, role := range natsbus.Roles {
		nc, err := natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, role))
		if err != nil {
			t.Errorf("%s credentials after the rotation: %v", role, err)
			continue
		}
		nc.Close()
	}
	nc, err = natsbus.Connect(ns.ClientURL(), "test", natsbus.As(dir, natsbus.RoleService))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Stream(ctx, natsbus.DecisionsStream); err != nil {
		t.Errorf("the decisions stream after the rotation: %v", err)
	}
}
