package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"moderation/appeals"
	"moderation/internal/appealstore"
	"moderation/internal/natsbus"
	"moderation/internal/natsbus/natstest"
	"moderation/internal/service"
)

// singletonHeld is an instance's moderation_singleton_held{job}; -1 when
// it has no such series (it does not contend for the job).
func singletonHeld(t *testing.T, svc *service.Service, job string) float64 {
	t.Helper()
	families, err := svc.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "moderation_singleton_held" {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, map[string]string{"job": job}) {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// logBuffer is a service's log, read by the test while the service writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSingletonsRunOnOneInstance: two services on one NATS both contend
// for the purge sweep and the overturn watcher, and each runs on exactly
// one of them; when that one stops, the other takes it over at once (the
// stopping instance releases the lease instead of leaving it to expire).
// The overturn alert shows the job itself moves with its lease, not only
// the gauge: the second instance starts while a rule is flagged and says
// nothing of it until the first stops, then says it once.
func TestSingletonsRunOnOneInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("two services")
	}
	// A NATS of their own, so either service can stop without taking the
	// other's server down.
	srv := natstest.Start(t)
	logs := []*logBuffer{{}, {}}
	instance := func(i int) func(c *service.Config) {
		return func(c *service.Config) {
			c.NATSURL = srv.URL
			c.NATSExternal = natsbus.ExternalConfig{Creds: natsbus.CredsPath(srv.DataDir, natsbus.RoleService)}
			c.OverturnAlertMin = 1
			c.Log = slog.New(slog.NewTextHandler(logs[i], nil))
		}
	}
	jobs := []string{"purge-sweep", "overturn-watcher"}
	first := startServiceWith(t, instance(0))
	for _, job := range jobs {
		waitFor(t, job+" to run on the first instance", 10*time.Second, func() bool { return singletonHeld(t, first, job) == 1 })
	}

	// A flagged rule, written after the first instance's watcher made its
	// first pass (its next is a minute away): only a watcher that starts
	// now sees it at once.
	store, err := appealstore.Open(t.Context(), first.Streams.Appeals, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a := &appeals.Appeal{ID: fmt.Sprintf("ap-%d", i), Rule: "bulk_add", PolicyVersion: "v1", State: appeals.Overturned, FiledAt: time.Now().Add(-time.Hour)}
		if _, err := store.Create(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	const alert = "rule bulk_add's decisions are overturned on appeal"

	second := startServiceWith(t, instance(1))
	for _, job := range jobs {
		waitFor(t, job+" to have the second instance contending", 10*time.Second, func() bool { return singletonHeld(t, second, job) == 0 })
		if got := singletonHeld(t, first, job); got != 1 {
			t.Fatalf("%s: first instance's moderation_singleton_held = %v after the second started, want 1", job, got)
		}
	}
	if strings.Contains(logs[1].String(), alert) {
		t.Errorf("the second instance raised the overturn alert while the first held its lease:\n%s", logs[1])
	}

	// Stop the holder; the other instance runs both now.
	stopped := time.Now()
	first.Stop()
	// Left to expire, a lease would move no sooner than 10 s after the
	// stop (the TTL, 15 s, after a renewal at most 5 s old).
	waitFor(t, "the other instance to take both jobs over", 8*time.Second, func() bool {
		return singletonHeld(t, second, "purge-sweep") == 1 && singletonHeld(t, second, "overturn-watcher") == 1
	})
	t.Logf("both jobs moved %s after their holder stopped", time.Since(stopped).Round(time.Millisecond))
	waitFor(t, "the new holder to raise the overturn alert", 10*time.Second, func() bool { return strings.Contains(logs[1].String(), alert) })
	if n := strings.Count(logs[1].String(), alert); n != 1 {
		t.Errorf("the new holder raised the overturn alert %d times, want once:\n%s", n, logs[1])
	}
}
