package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/natsbus"
	"moderation/internal/replay"
)

// TestExternalNATS runs moderationd against a separate nats-server process
// (Debian's 2.9 package in CI) given by --nats-url: nothing is embedded,
// the streams are declared on that server, and a bulk adder is still
// actioned end to end.
func TestExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts external processes")
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is not installed; .ci/run installs it: %v", err)
		}
		t.Skip("nats-server not installed (apt-get install nats-server); CI runs this test")
	}
	port := freePort(t)
	ns := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", t.TempDir())
	if err := ns.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() { _ = ns.Process.Kill(); _ = ns.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	poll(t, "external nats-server accepting clients", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	dataDir := t.TempDir()
	p := start(t, dataDir, "--nats-url", url)
	if p.natsURL != url {
		t.Errorf("service uses %s, want the external %s", p.natsURL, url)
	}
	if strings.Contains(p.logText(), "embedded NATS") {
		t.Errorf("service embedded a NATS server although --nats-url was given")
	}
	if _, err := os.Stat(dataDir + "/jetstream"); err == nil {
		t.Errorf("service created an embedded store in %s/jetstream", dataDir)
	}

	_, js := connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{natsbus.EventsStream, natsbus.DecisionsStream, natsbus.DLQStream, "KV_" + natsbus.AccountsBucket} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s on the external server: %v", name, err)
		}
	}
	recs, err := replay.ReadFile("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := moderationv1.NewModerationServiceClient(conn)
	poll(t, "the bulk adder blocked in Check", 30*time.Second, func() bool {
		r, err := client.Check(ctx, &moderationv1.CheckRequest{Account: "acct_bulk_new", Capability: moderationv1.Capability_CAPABILITY_FRIEND_ADD})
		return err == nil && !r.Allowed && r.Status >= moderationv1.Status_STATUS_LIMITED
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
