package service_test

import (
	"testing"
	"time"

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

// TestSingletonsRunOnOneInstance: two services on one NATS both contend
// for the purge sweep and the overturn watcher, and each runs on exactly
// one of them; when that one stops, the other takes it over at once (the
// stopping instance releases the lease instead of leaving it to expire).
func TestSingletonsRunOnOneInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("two services")
	}
	// A NATS of their own, so either service can stop without taking the
	// other's server down.
	srv := natstest.Start(t)
	external := func(c *service.Config) {
		c.NATSURL = srv.URL
		c.NATSExternal = natsbus.ExternalConfig{Creds: natsbus.CredsPath(srv.DataDir, natsbus.RoleService)}
	}
	svcs := []*service.Service{startServiceWith(t, external), startServiceWith(t, external)}
	jobs := []string{"purge-sweep", "overturn-watcher"}

	holders := map[string]int{}
	for _, job := range jobs {
		waitFor(t, job+" to run on one instance", 10*time.Second, func() bool {
			a, b := singletonHeld(t, svcs[0], job), singletonHeld(t, svcs[1], job)
			switch {
			case a == 1 && b == 0:
				holders[job] = 0
			case a == 0 && b == 1:
				holders[job] = 1
			default:
				return false
			}
			return true
		})
	}
	// Stop the purge sweep's holder; the other instance runs both now.
	stopping := holders["purge-sweep"]
	other := svcs[1-stopping]
	stopped := time.Now()
	svcs[stopping].Stop()
	// Left to expire, a lease would move no sooner than 10 s after the
	// stop (the TTL, 15 s, after a renewal at most 5 s old).
	waitFor(t, "the other instance to take both jobs over", 8*time.Second, func() bool {
		return singletonHeld(t, other, "purge-sweep") == 1 && singletonHeld(t, other, "overturn-watcher") == 1
	})
	t.Logf("both jobs moved %s after their holder stopped", time.Since(stopped).Round(time.Millisecond))
}
