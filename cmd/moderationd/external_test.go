package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

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
	startNATS, url := externalNATS(t)
	startNATS()

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
	for _, name := range []string{natsbus.EventsStream, natsbus.DecisionsStream, natsbus.DLQStream, "KV_" + natsbus.AccountsBucket, "KV_" + natsbus.AppealsBucket} {
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
	client := moderationv1.NewModerationServiceClient(p.dial(t))
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

// TestCheckSurvivesNATSOutage stops the NATS server under a running
// service: Check keeps answering from memory with the stale flag set, and
// when NATS returns the service recovers without a restart: the flag
// clears and new enforcement reaches Check again.
func TestCheckSurvivesNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts external processes")
	}
	startNATS, url := externalNATS(t)
	ns := startNATS()
	p := start(t, t.TempDir(), "--nats-url", url)

	client := moderationv1.NewModerationServiceClient(p.dial(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	check := func(account string) *moderationv1.CheckResponse {
		r, err := client.Check(ctx, &moderationv1.CheckRequest{Account: account, Capability: moderationv1.Capability_CAPABILITY_FRIEND_ADD})
		if err != nil {
			t.Fatalf("Check %s: %v", account, err)
		}
		return r
	}
	publish := func(path string) {
		_, js := connect(t, url)
		recs, err := replay.ReadFile(path, replay.Options{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	publish("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl")
	poll(t, "the bulk adder blocked", 30*time.Second, func() bool { r := check("acct_bulk_new"); return !r.Allowed && !r.Stale })

	_ = ns.Process.Signal(syscall.SIGTERM)
	_ = ns.Wait()
	poll(t, "answers flagged stale while NATS is down", 10*time.Second, func() bool { return check("acct_bulk_new").Stale })
	if r := check("acct_bulk_new"); r.Allowed || r.Status != moderationv1.Status_STATUS_LIMITED {
		t.Errorf("during the outage: got allowed=%v status=%s, want the known limit", r.Allowed, r.Status)
	}
	if r := check("acct_never_seen"); !r.Allowed {
		t.Errorf("during the outage an unknown account was refused; the default is to fail open")
	}

	startNATS()
	poll(t, "answers fresh again after NATS returns", 30*time.Second, func() bool { return !check("acct_bulk_new").Stale })
	publish("../../fixtures/scenarios/steady-adder/events.jsonl")
	poll(t, "enforcement after the outage reaching Check", 30*time.Second, func() bool { return !check("acct_steady").Allowed })
}

// externalNATS finds Debian's nats-server (installed by .ci/run; the test is
// skipped without it outside CI) and returns a function that starts it on a
// fixed port and store, so a restart finds its streams again, and the URL.
func externalNATS(t *testing.T) (start func() *exec.Cmd, url string) {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is not installed; .ci/run installs it: %v", err)
		}
		t.Skip("nats-server not installed (apt-get install nats-server); CI runs this test")
	}
	port, store := freePort(t), t.TempDir()
	start = func() *exec.Cmd {
		ns := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", store)
		if err := ns.Start(); err != nil {
			t.Fatalf("start nats-server: %v", err)
		}
		t.Cleanup(func() { _ = ns.Process.Kill(); _ = ns.Wait() })
		poll(t, "nats-server accepting clients", 10*time.Second, func() bool {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return ns
	}
	return start, fmt.Sprintf("nats://127.0.0.1:%d", port)
}
