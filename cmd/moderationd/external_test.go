package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	moderationv1 "moderation/api/moderation/v1"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
)

// TestExternalNATS runs moderationd against a separate nats-server process
// (Debian's 2.9 package in CI) given by --nats-url, which takes only an
// nkey user over TLS with client certificates (--nats-nkey, --nats-ca,
// --nats-cert, --nats-key): nothing is embedded, the streams are declared
// on that server, and a bulk adder is still actioned end to end.
func TestExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts external processes")
	}
	ext := externalNATS(t, nkeyOverMutualTLS)
	ext.start()
	url := ext.url

	dataDir := t.TempDir()
	p := start(t, dataDir, ext.args...)
	if p.natsURL != url {
		t.Errorf("service uses %s, want the external %s", p.natsURL, url)
	}
	if strings.Contains(p.logText(), "embedded NATS") {
		t.Errorf("service embedded a NATS server although --nats-url was given")
	}
	if _, err := os.Stat(dataDir + "/jetstream"); err == nil {
		t.Errorf("service created an embedded store in %s/jetstream", dataDir)
	}
	ext.refusesAnonymous(t)

	_, js := connect(t, url, ext.opts...)
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
// clears and new enforcement reaches Check again. That server runs with
// an operator and accounts; the service connects with --nats-creds.
func TestCheckSurvivesNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts external processes")
	}
	ext := externalNATS(t, operatorCreds)
	ns := ext.start()
	ext.refusesAnonymous(t)
	p := start(t, t.TempDir(), ext.args...)

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
		_, js := connect(t, ext.url, ext.opts...)
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

	ext.start()
	poll(t, "answers fresh again after NATS returns", 30*time.Second, func() bool { return !check("acct_bulk_new").Stale })
	publish("../../fixtures/scenarios/steady-adder/events.jsonl")
	poll(t, "enforcement after the outage reaching Check", 30*time.Second, func() bool { return !check("acct_steady").Allowed })
}

// external is a nats-server process: how to start it, where it is, the
// moderationd flags and the client options that reach it, and the client
// options without its credentials (which it must refuse).
type external struct {
	start     func() *exec.Cmd
	url       string
	args      []string
	opts      []nats.Option
	anonymous []nats.Option
}

// refusesAnonymous checks that the server takes no client without
// credentials; otherwise the test would not show that the service
// authenticated.
func (e external) refusesAnonymous(t *testing.T) {
	t.Helper()
	if nc, err := nats.Connect(e.url, e.anonymous...); err == nil {
		nc.Close()
		t.Errorf("the external server took a client without credentials")
	}
}

// externalAuth writes in dir what a nats-server needs to authenticate its
// clients, and returns its configuration lines, the moderationd flags
// and client options that authenticate, and the client options without
// credentials.
type externalAuth func(t *testing.T, dir string) (conf string, args []string, opts, anonymous []nats.Option)

// nkeyOverMutualTLS: one nkey user, over TLS with client certificates.
func nkeyOverMutualTLS(t *testing.T, dir string) (string, []string, []nats.Option, []nats.Option) {
	t.Helper()
	pki := natstest.NewPKI(t)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := user.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := user.Seed()
	if err != nil {
		t.Fatal(err)
	}
	seedFile := filepath.Join(dir, "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	nkey, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true, timeout: 2 }
authorization { users: [ { nkey: %q } ] }
`, pki.ServerCert, pki.ServerKey, pki.CA, pub)
	tlsOpts := []nats.Option{nats.RootCAs(pki.CA), nats.ClientCert(pki.ClientCert, pki.ClientKey)}
	return conf, []string{"--nats-nkey", seedFile, "--nats-ca", pki.CA, "--nats-cert", pki.ClientCert, "--nats-key", pki.ClientKey},
		append([]nats.Option{nkey}, tlsOpts...), tlsOpts
}

// operatorCreds: an operator, an account with JetStream and a system
// account, preloaded in a memory resolver; one user, as a .creds file.
func operatorCreds(t *testing.T, dir string) (string, []string, []nats.Option, []nats.Option) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	key := func(create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
		kp, err := create()
		must(err)
		pub, err := kp.PublicKey()
		must(err)
		return kp, pub
	}
	op, opPub := key(nkeys.CreateOperator)
	acc, accPub := key(nkeys.CreateAccount)
	_, sysPub := key(nkeys.CreateAccount)
	user, userPub := key(nkeys.CreateUser)

	oc := jwt.NewOperatorClaims(opPub)
	oc.SystemAccount = sysPub
	opJWT, err := oc.Encode(op)
	must(err)
	ac := jwt.NewAccountClaims(accPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: jwt.NoLimit, DiskStorage: jwt.NoLimit, Streams: jwt.NoLimit, Consumer: jwt.NoLimit}
	accJWT, err := ac.Encode(op)
	must(err)
	sysJWT, err := jwt.NewAccountClaims(sysPub).Encode(op)
	must(err)
	userJWT, err := jwt.NewUserClaims(userPub).Encode(acc)
	must(err)
	seed, err := user.Seed()
	must(err)
	creds, err := jwt.FormatUserConfig(userJWT, seed)
	must(err)

	opFile, credsFile := filepath.Join(dir, "operator.jwt"), filepath.Join(dir, "user.creds")
	must(os.WriteFile(opFile, []byte(opJWT), 0o600))
	must(os.WriteFile(credsFile, creds, 0o600))
	conf := fmt.Sprintf(`operator: %q
system_account: %q
resolver: MEMORY
resolver_preload: { %s: %q, %s: %q }
`, opFile, sysPub, accPub, accJWT, sysPub, sysJWT)
	return conf, []string{"--nats-creds", credsFile}, []nats.Option{nats.UserCredentials(credsFile)}, nil
}

// externalNATS finds Debian's nats-server (installed by .ci/run; the test is
// skipped without it outside CI) and configures it on a fixed port and
// store, so a restart finds its streams again, authenticating clients as
// auth says.
func externalNATS(t *testing.T, auth externalAuth) external {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("nats-server is not installed; .ci/run installs it: %v", err)
		}
		t.Skip("nats-server not installed (apt-get install nats-server); CI runs this test")
	}
	port, store, dir := freePort(t), t.TempDir(), t.TempDir()
	authConf, args, opts, anonymous := auth(t, dir)
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "listen: \"127.0.0.1:%d\"\njetstream { store_dir: %q }\n%s", port, store, authConf), 0o600); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	start := func() *exec.Cmd {
		ns := exec.Command(bin, "-c", conf)
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
	return external{start: start, url: url, args: append([]string{"--nats-url", url}, args...), opts: opts, anonymous: anonymous}
}

// TestPartitionedNeedsTheTransform: on a server without subject
// transforms (Debian's 2.9), the events stream cannot add partitions, so
// --partitioned refuses to start and says why, rather than sharing events
// it cannot split.
func TestPartitionedNeedsTheTransform(t *testing.T) {
	if testing.Short() {
		t.Skip("starts external processes")
	}
	ext := externalNATS(t, nkeyOverMutualTLS)
	ext.start()
	p, _ := launch(t, t.TempDir(), append(ext.args, "--partitioned")...)
	select {
	case err := <-p.exited:
		if err == nil || !strings.Contains(p.logText(), "nats-server 2.10 or later") {
			t.Errorf("exit %v, log:\n%s\nwant a failure naming the server version needed", err, p.logText())
		}
	case <-time.After(time.Minute):
		t.Fatalf("moderationd --partitioned still running on a server without transforms:\n%s", p.logText())
	}
}
