// Package opshttp serves what operators and orchestrators poll: liveness,
// readiness and Prometheus metrics. It knows nothing of the service's
// domain.
package opshttp

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /healthz (the process is up), /readyz (ready reports nil)
// and /metrics (gathered from reg, with moderation_ready).
func Handler(reg prometheus.Gatherer, ready func() error) http.Handler {
	// Readiness as a metric too, read from the same function as /readyz, so
	// an alert on it needs no probe of its own and cannot disagree with it.
	readiness := prometheus.NewRegistry()
	readiness.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "moderation_ready", Help: "1 while /readyz answers ready, else 0.",
	}, func() float64 {
		if ready() != nil {
			return 0
		}
		return 1
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, readiness}, promhttp.HandlerOpts{}))
	return mux
}
