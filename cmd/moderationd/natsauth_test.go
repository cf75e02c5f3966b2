package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/lease"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/replay"
)

// permissionErrors collects the permissions violations the server reports
// to one client, so a test can wait for the one a refused attempt causes.
type permissionErrors chan error

func (p permissionErrors) handler() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			p <- err
		}
	})
}

// expect waits for a violation naming subject (as the server quotes it,
// a prefix of it will do), skipping those of earlier attempts.
func (p permissionErrors) expect(t *testing.T, op, subject string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-p:
			if strings.Contains(err.Error(), `"`+subject) {
				return
			}
		case <-deadline:
			t.Errorf("%s: no permissions violation for %s reported; the server allowed it", op, subject)
			return
		}
	}
}

// TestNATSPermissions holds the real binary's embedded server to the
// trust model: no anonymous client; publisher.creds publishes events and
// follows enforcement and can do nothing else; follower.creds follows
// enforcement and publishes nothing.
func TestNATSPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	p := start(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("anonymous refused", func(t *testing.T) {
		nc, err := nats.Connect(p.natsURL)
		if err == nil {
			nc.Close()
			t.Fatal("an anonymous client connected")
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("anonymous connect: got %v, want an authorization violation", err)
		}
	})

	pubErrs, folErrs := make(permissionErrors, 64), make(permissionErrors, 64)
	pub, pubJS := connect(t, p.natsURL, p.as(natsbus.RolePublisher), pubErrs.handler())
	fol, _ := connect(t, p.natsURL, p.as(natsbus.RoleFollower), folErrs.handler())
	_, svcJS := connect(t, p.natsURL, p.as(natsbus.RoleService))

	// What each may do: follow enforcement, and for the publisher publish
	// events with JetStream acks, end to end to a decision.
	pubEnforced, err := pub.SubscribeSync(natsbus.EnforcementPrefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	folEnforced, err := fol.SubscribeSync(natsbus.EnforcementPrefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	// A publisher may follow _INBOX.> for its acks; the service must never
	// answer or deliver there, or any publisher would read it. A second
	// publisher that sends nothing sees only the first one's acks.
	spy, _ := connect(t, p.natsURL, p.as(natsbus.RolePublisher))
	snoop, err := spy.SubscribeSync(nats.InboxPrefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*nats.Conn{pub, fol} {
		if _, err := c.SubscribeSync(natsbus.PurgePrefix + ">"); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := replay.ReadFile("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := replay.Publish(ctx, pubJS, recs, nil)
	if err != nil {
		t.Fatalf("publish events with publisher.creds: %v", err)
	}
	if sum.Stored != len(recs) {
		t.Errorf("events acknowledged as stored: got %d, want %d", sum.Stored, len(recs))
	}
	for name, sub := range map[string]*nats.Subscription{"publisher": pubEnforced, "follower": folEnforced} {
		m, err := sub.NextMsg(30 * time.Second)
		if err != nil {
			t.Fatalf("%s following mod.enforcement.>: %v", name, err)
		}
		var d moderation.Decision
		if err := json.Unmarshal(m.Data, &d); err != nil || d.Account != "acct_bulk_new" {
			t.Errorf("%s received %s %s, want the bulk adder's decision (%v)", name, m.Subject, m.Data, err)
		}
	}
	for {
		m, err := snoop.NextMsg(100 * time.Millisecond)
		if err != nil {
			break
		}
		var ack jetstream.PubAck
		if err := json.Unmarshal(m.Data, &ack); err != nil || ack.Stream != natsbus.EventsStream {
			t.Errorf("a publisher read %s on %s, which is not a publish ack: the service's traffic passes through _INBOX", m.Data, m.Subject)
		}
	}
	select {
	case err := <-pubErrs:
		t.Errorf("publisher refused something it may do: %v", err)
	case err := <-folErrs:
		t.Errorf("follower refused something it may do: %v", err)
	default:
	}

	// What the publisher may not do. Each attempt must be refused by the
	// server, reported as a permissions violation on the subject tried.
	quick := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }
	// Taking a job's lease would stop the instance running it (its renewal
	// conflicts) and leave the job to no one.
	leaseSubject := "$KV." + lease.Bucket + ".purge-sweep"
	snapshotMeta := "$O." + natsbus.SnapshotsBucket + ".M.d2luZG93cw==" // the object "windows"
	publish := func(subject string, h nats.Header) func() error {
		return func() error {
			return pub.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: []byte(`{"forged":true}`)})
		}
	}
	request := func(subject string) func() error {
		return func() error {
			_, err := pub.Request(subject, nil, time.Second)
			return err
		}
	}
	for _, tc := range []struct {
		name, subject string
		try           func() error
		wantErr       bool // the call itself fails (a request has no answer)
	}{
		{"publish a decision", "mod.enforcement.x", publish("mod.enforcement.x", nil), false},
		{"publish an audit record", "mod.audit.x", publish("mod.audit.x", nil), false},
		{"publish a purge notice", "mod.purge.x", publish("mod.purge.x", nil), false},
		// The partition token is the events stream's to add: one chosen by the
		// publisher would put an account's events in another partition.
		{"publish an event with a partition of its choosing", "mod.events.friend_add.x.3", publish("mod.events.friend_add.x.3", nil), false},
		{"write an account state", "$KV.ACCOUNTS.x", publish("$KV.ACCOUNTS.x", nil), false},
		{"delete an account state", "$KV.ACCOUNTS.x", publish("$KV.ACCOUNTS.x", nats.Header{"KV-Operation": []string{"DEL"}}), false},
		{"purge an account state", "$KV.ACCOUNTS.x", publish("$KV.ACCOUNTS.x", nats.Header{"KV-Operation": []string{"PURGE"}}), false},
		{"put to the leases bucket", leaseSubject, publish(leaseSubject, nil), false},
		{"write an account state through JetStream", "$KV.ACCOUNTS.x", func() error {
			ctx, cancel := quick()
			defer cancel()
			_, err := pubJS.Publish(ctx, "$KV.ACCOUNTS.x", []byte(`{}`))
			return err
		}, true},
		{"open the accounts bucket", "$JS.API.STREAM.INFO.KV_ACCOUNTS", func() error {
			ctx, cancel := quick()
			defer cancel()
			kv, err := pubJS.KeyValue(ctx, natsbus.AccountsBucket)
			if err != nil {
				return err
			}
			_, err = kv.Put(ctx, "x", []byte(`{}`)) // not reached: opening the bucket is refused
			return err
		}, true},
		{"delete the accounts bucket", "$JS.API.STREAM.DELETE.KV_ACCOUNTS", func() error {
			ctx, cancel := quick()
			defer cancel()
			return pubJS.DeleteKeyValue(ctx, natsbus.AccountsBucket)
		}, true},
		{"delete the events stream", "$JS.API.STREAM.DELETE.EVENTS", func() error {
			ctx, cancel := quick()
			defer cancel()
			return pubJS.DeleteStream(ctx, natsbus.EventsStream)
		}, true},
		{"delete the decisions stream", "$JS.API.STREAM.DELETE.DECISIONS", request("$JS.API.STREAM.DELETE.DECISIONS"), true},
		{"purge the events stream", "$JS.API.STREAM.PURGE.EVENTS", request("$JS.API.STREAM.PURGE.EVENTS"), true},
		{"delete an event", "$JS.API.STREAM.MSG.DELETE.EVENTS", request("$JS.API.STREAM.MSG.DELETE.EVENTS"), true},
		{"delete the pipeline consumer", "$JS.API.CONSUMER.DELETE.EVENTS.pipeline", func() error {
			ctx, cancel := quick()
			defer cancel()
			return pubJS.DeleteConsumer(ctx, natsbus.EventsStream, natsbus.PipelineDurable)
		}, true},
		{"create a consumer", "$JS.API.CONSUMER.CREATE.EVENTS", func() error {
			ctx, cancel := quick()
			defer cancel()
			_, err := pubJS.CreateConsumer(ctx, natsbus.EventsStream, jetstream.ConsumerConfig{Durable: "thief"})
			return err
		}, true},
		// The windows snapshot holds every account's signals, who
		// complained about whom among them; a forged one would be restored
		// by the next start.
		{"read the windows snapshot", "$JS.API.STREAM.INFO.OBJ_" + natsbus.SnapshotsBucket, func() error {
			ctx, cancel := quick()
			defer cancel()
			obs, err := pubJS.ObjectStore(ctx, natsbus.SnapshotsBucket)
			if err != nil {
				return err
			}
			_, err = obs.GetBytes(ctx, "windows") // not reached: opening the bucket is refused
			return err
		}, true},
		{"overwrite the windows snapshot", snapshotMeta, publish(snapshotMeta, nil), false},
		{"read other services' events", "mod.events.>", func() error {
			_, err := pub.SubscribeSync("mod.events.>")
			return err
		}, false},
		{"read the service's replies", natsbus.ServiceInboxPrefix + ".>", func() error {
			_, err := pub.SubscribeSync(natsbus.ServiceInboxPrefix + ".>")
			return err
		}, false},
	} {
		t.Run("publisher may not "+tc.name, func(t *testing.T) {
			if err := tc.try(); tc.wantErr && err == nil {
				t.Errorf("%s succeeded", tc.name)
			}
			_ = pub.Flush() // the server's verdict on a publish comes after it
			pubErrs.expect(t, tc.name, tc.subject)
		})
	}
	for _, subject := range []string{"mod.events.friend_add.x", "mod.enforcement.x", "mod.audit.x", "$KV.ACCOUNTS.x", leaseSubject, "$JS.API.STREAM.DELETE.EVENTS"} {
		t.Run("follower may not publish "+subject, func(t *testing.T) {
			if err := fol.Publish(subject, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			folErrs.expect(t, "follower publish", subject)
		})
	}

	// And nothing changed: as the service, the streams, the consumer and
	// the bucket are as they were, with no forged record.
	for _, name := range []string{natsbus.EventsStream, natsbus.DecisionsStream, "KV_" + natsbus.AccountsBucket} {
		if _, err := svcJS.Stream(ctx, name); err != nil {
			t.Errorf("stream %s after the attempts: %v", name, err)
		}
	}
	events, err := svcJS.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Consumer(ctx, natsbus.PipelineDurable); err != nil {
		t.Errorf("pipeline consumer after the attempts: %v", err)
	}
	if _, err := events.Consumer(ctx, "thief"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("consumer created by the publisher: got %v, want not found", err)
	}
	if info, err := events.Info(ctx); err != nil || info.State.Msgs != uint64(len(recs)) {
		t.Errorf("events stored after the attempts: got %v (%v), want %d", info, err, len(recs))
	}
	kv, err := svcJS.KeyValue(ctx, natsbus.AccountsBucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "x"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("forged account state: got %v, %v; want none", e, err)
	}
	if _, err := kv.Get(ctx, "acct_bulk_new"); err != nil {
		t.Errorf("the bulk adder's state: %v", err)
	}
	leases, err := svcJS.KeyValue(ctx, lease.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := leases.Get(ctx, "purge-sweep"); err != nil || strings.Contains(string(e.Value()), "{") {
		t.Errorf("the purge sweep's lease after the attempts: %v, %v; want its holder's id", e, err)
	}
	decisions, err := svcJS.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{"mod.enforcement.x", "mod.audit.x", "mod.purge.x"} {
		if m, err := decisions.GetLastMsgForSubject(ctx, subject); !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Errorf("forged %s recorded: %v, %v", subject, m, err)
		}
	}
}

// TestNATSOverTLS: given a certificate, the embedded server takes clients
// over TLS only; the service reaches its own server, and a publisher with
// the CA and publisher.creds publishes.
func TestNATSOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	pki := natstest.NewPKI(t)
	p := start(t, t.TempDir(), "--nats-tls-cert", pki.ServerCert, "--nats-tls-key", pki.ServerKey)
	// The server's greeting demands TLS before anything else is said.
	u, err := url.Parse(p.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	info, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("embedded server greets with %q (%v), want tls_required", info, err)
	}
	if nc, err := nats.Connect(p.natsURL, p.as(natsbus.RolePublisher)); err == nil {
		nc.Close()
		t.Error("a client that does not trust the certificate connected")
	}
	_, js := connect(t, p.natsURL, p.as(natsbus.RolePublisher), nats.RootCAs(pki.CA))
	recs, err := replay.ReadFile("../../fixtures/scenarios/bulk-adder-new-account/events.jsonl", replay.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := replay.Publish(ctx, js, recs, nil); err != nil {
		t.Fatalf("publish over TLS: %v", err)
	}
	_, svcJS := connect(t, p.natsURL, p.as(natsbus.RoleService), nats.RootCAs(pki.CA))
	poll(t, "the events processed", 30*time.Second, func() bool { return caughtUp(ctx, svcJS, uint64(len(recs))) })
}
