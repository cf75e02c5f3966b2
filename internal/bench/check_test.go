package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	moderationv1 "moderation/api/moderation/v1"
)

// TestCheckHarnessOnBareServer runs both loops briefly against the bare
// server and checks that they count calls and report ordered, plausible
// latencies. It does not judge speed; that is for the bench.
func TestCheckHarnessOnBareServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	answers := map[string]*moderationv1.CheckResponse{
		"acct_1": {Account: "acct_1", Status: moderationv1.Status_STATUS_SUSPENDED, DecisionId: "dec_1", Reasons: []*moderationv1.Reason{{Code: "bulk_friend_add"}}},
	}
	addr, stop, err := ServeBareCheck(answers)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	conn, err := DialCheck(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := moderationv1.NewModerationServiceClient(conn)

	// The bare server answers from its map, or active and allowed; the
	// token it is sent must not matter to it.
	tokenCtx := WithToken(ctx, "not-checked")
	for _, tt := range []struct {
		account     string
		wantStatus  moderationv1.Status
		wantAllowed bool
	}{
		{"acct_1", moderationv1.Status_STATUS_SUSPENDED, false},
		{"acct_2", moderationv1.Status_STATUS_ACTIVE, true},
	} {
		resp, err := client.Check(tokenCtx, &moderationv1.CheckRequest{Account: tt.account})
		if err != nil {
			t.Fatalf("check %s: %v", tt.account, err)
		}
		if resp.GetStatus() != tt.wantStatus || resp.GetAllowed() != tt.wantAllowed {
			t.Errorf("check %s: got %v allowed=%v, want %v allowed=%v", tt.account, resp.GetStatus(), resp.GetAllowed(), tt.wantStatus, tt.wantAllowed)
		}
	}

	h := &checkHarness{reqs: []*moderationv1.CheckRequest{{Account: "acct_1"}, {Account: "acct_2"}}, token: "not-checked"}
	target := &checkTarget{name: "bare", client: client}
	closed, err := h.closedLoop(ctx, target, 4, 200*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	checkPhase(t, "closed loop", closed)

	// A low rate, so the open loop keeps up even under -race.
	open, err := h.openLoop(ctx, target, 500, 200*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	checkPhase(t, "open loop", open)
	if got, want := open.lat.Calls, int64(100); got != want {
		t.Errorf("open loop at 500/s for 200ms: got %d calls, want %d", got, want)
	}
}

func checkPhase(t *testing.T, name string, ph phase) {
	t.Helper()
	l := ph.lat
	if l.Calls <= 0 || ph.rate <= 0 {
		t.Errorf("%s: got %d calls at %v/s, want some", name, l.Calls, ph.rate)
	}
	if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: got p50 %v, p99 %v, max %v, want 0 < p50 <= p99 <= max", name, l.P50, l.P99, l.Max)
	}
}

func TestLatencyHist(t *testing.T) {
	var h latencyHist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, time.Millisecond},
	} {
		got := h.quantile(tt.q)
		// A bucket's upper bound is at most 1/64 above what it holds.
		if got < tt.want || got > tt.want+tt.want/64 {
			t.Errorf("quantile(%v): got %v, want %v to %v", tt.q, got, tt.want, tt.want+tt.want/64)
		}
	}
	if got, want := h.summary().Max, time.Millisecond; got != want {
		t.Errorf("max: got %v, want %v", got, want)
	}
}

// TestHistBuckets checks every bucket's upper bound maps back to it and
// the next nanosecond to the next bucket, so buckets tile without gaps.
func TestHistBuckets(t *testing.T) {
	for b := range histBuckets - 1 {
		up := histUpper(b)
		if got := histBucket(up); got != b {
			t.Fatalf("histBucket(histUpper(%d) = %d): got %d, want %d", b, up, got, b)
		}
		if got := histBucket(up + 1); got != b+1 {
			t.Fatalf("histBucket(%d): got %d, want %d", up+1, got, b+1)
		}
	}
}

func TestPrintCheck(t *testing.T) {
	r := &CheckReport{
		Accounts: 1000, Concurrency: 16, Rounds: 2, Duration: 3 * time.Second, Procs: 2,
		Bare:    CheckFigures{Peak: 40_000, PeakRounds: []float64{39_000, 40_000}, Achieved: 20_000, Open: Latencies{Calls: 60_000, P50: 100 * time.Microsecond, P99: 400 * time.Microsecond, Max: time.Millisecond}},
		Service: CheckFigures{Peak: 30_000, PeakRounds: []float64{30_000, 29_500}, Achieved: 15_000, Open: Latencies{Calls: 45_000, P50: 200 * time.Microsecond, P99: 3 * time.Millisecond, Max: 9 * time.Millisecond}},
	}
	var out bytes.Buffer
	PrintCheck(&out, r)
	for _, want := range []string{"bare grpc-go", "moderation service", "40,000", "(75% of bare)", "throughput  MISS", "latency     MISS", "p99 3 ms", "each round: bare 39,000, 40,000; service 30,000, 29,500"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
