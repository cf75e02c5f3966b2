// Package natstest runs the embedded NATS server for tests exactly as the
// service runs it: JetStream, accounts, no anonymous clients. Tests
// connect with the credentials it creates, through Connect, rather than
// each writing their own.
package natstest

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// Server is a running embedded server.
type Server struct {
	URL     string
	DataDir string // where its keys and credentials are (natsbus.CredsPath)
}

// Start runs an embedded server on a random port with its store and
// credentials in a temporary directory, until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	ns, err := natsbus.StartEmbedded(natsbus.EmbeddedConfig{Listen: "127.0.0.1:-1", StoreDir: filepath.Join(dir, "jetstream"), DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return &Server{URL: ns.ClientURL(), DataDir: dir}
}

// Connect connects as role (natsbus.RoleService to act as the service),
// until the test ends.
func (s *Server) Connect(t testing.TB, role string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := natsbus.Connect(s.URL, "test", natsbus.As(s.DataDir, role))
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("open JetStream: %v", err)
	}
	return nc, js
}
