package opshttp_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/opshttp"
)

// TestReadyMetricFollowsReadyz: moderation_ready on /metrics says what
// /readyz says, as it changes, beside the registry's own series.
func TestReadyMetricFollowsReadyz(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "some_total", Help: "A series of the service's own."}))
	var notReady atomic.Pointer[error]
	srv := httptest.NewServer(opshttp.Handler(reg, func() error {
		if err := notReady.Load(); err != nil {
			return *err
		}
		return nil
	}))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	check := func(wantCode int, wantLine string) {
		t.Helper()
		if code, _ := get("/readyz"); code != wantCode {
			t.Errorf("/readyz: got %d, want %d", code, wantCode)
		}
		_, metrics := get("/metrics")
		if !strings.Contains(metrics, "\n"+wantLine+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", wantLine, metrics)
		}
		if !strings.Contains(metrics, "\nsome_total 0\n") {
			t.Errorf("/metrics lacks the registry's own series:\n%s", metrics)
		}
	}
	check(http.StatusOK, "moderation_ready 1")
	err := errors.New("enforcement state is loading")
	notReady.Store(&err)
	check(http.StatusServiceUnavailable, "moderation_ready 0")
	notReady.Store(nil)
	check(http.StatusOK, "moderation_ready 1")
}
