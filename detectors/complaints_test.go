package detectors

import (
	"math"
	"testing"
	"time"
)

// complaintNoon is midday UTC, so half-day offsets stay inside a day bucket.
var complaintNoon = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func TestWilsonLower(t *testing.T) {
	tests := []struct {
		name              string
		successes, trials float64
		want              float64
	}{
		{"1 in 20", 1, 20, 0.008881},
		{"1,000 in 50,000", 1000, 50000, 0.018809},
		{"12 in 4,800", 12, 4800, 0.001431},
		{"none", 0, 1000, 0},
		{"no trials", 3, 0, 0},
		{"all of them", 20, 20, 20 / (20 + 1.96*1.96)},
		{"more successes than trials counts as all", 30, 20, 20 / (20 + 1.96*1.96)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WilsonLower(tt.successes, tt.trials, 1.96); math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("got %.6f, want %.6f", got, tt.want)
			}
		})
	}
}

func TestComplaintRateIsFairToSmallAccounts(t *testing.T) {
	small, big := NewComplaintRate(), NewComplaintRate()
	small.ObserveBroadcast(complaintNoon, 20)
	small.ObserveComplaint(complaintNoon, "ads")
	big.ObserveBroadcast(complaintNoon, 50000)
	for range 1000 {
		big.ObserveComplaint(complaintNoon, "ads")
	}
	now := complaintNoon.Unix()
	s, b := small.Signal(now, nil), big.Signal(now, nil)
	if s.Values["rate"] <= b.Values["rate"] {
		t.Fatalf("raw rates: small %v, big %v; the test wants the small one higher", s.Values["rate"], b.Values["rate"])
	}
	if s.Values["wilson_lower"] >= b.Values["wilson_lower"] {
		t.Errorf("lower bounds: got small %v >= big %v, want small < big", s.Values["wilson_lower"], b.Values["wilson_lower"])
	}
}

func TestComplaintWindowSlides(t *testing.T) {
	day := 24 * time.Hour
	type event struct {
		at         time.Duration // after complaintNoon
		recipients int64         // a broadcast when > 0, else a complaint
	}
	tests := []struct {
		name           string
		events         []event
		now            time.Duration
		wantComplaints float64
		wantDelivered  float64
	}{
		{"same day", []event{{0, 100}, {time.Hour, 0}}, 2 * time.Hour, 1, 100},
		{"six days later still in", []event{{0, 100}, {0, 0}}, 6*day + 11*time.Hour, 1, 100},
		{"seven days later gone", []event{{0, 100}, {0, 0}}, 7 * day, 0, 0},
		{"old day out, newer in", []event{{0, 100}, {0, 0}, {3 * day, 50}, {3 * day, 0}, {3 * day, 0}}, 7 * day, 2, 50},
		{"complaint about a broadcast from before the window counts", []event{{0, 100}, {7 * day, 0}}, 7 * day, 1, 0},
		{"late event older than the window is dropped", []event{{10 * day, 100}, {0, 0}, {0, 500}}, 10 * day, 0, 100},
		{"late event inside the window counts", []event{{5 * day, 100}, {day, 0}, {day, 40}}, 5 * day, 1, 140},
		{"long gap clears everything", []event{{0, 100}, {0, 0}, {400 * day, 7}}, 400 * day, 0, 7},
		{"query before the newest day ignores newer days", []event{{0, 100}, {2 * day, 0}}, day, 0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewComplaintRate()
			for _, e := range tt.events {
				if e.recipients > 0 {
					c.ObserveBroadcast(complaintNoon.Add(e.at), e.recipients)
				} else {
					c.ObserveComplaint(complaintNoon.Add(e.at), "spam")
				}
			}
			got := c.Totals(complaintNoon.Add(tt.now).Unix())
			if got.Complaints != tt.wantComplaints || got.Delivered != tt.wantDelivered {
				t.Errorf("got %v complaints on %v delivered, want %v on %v", got.Complaints, got.Delivered, tt.wantComplaints, tt.wantDelivered)
			}
		})
	}
}

func TestComplaintReasonsAndEvidence(t *testing.T) {
	c := NewComplaintRate()
	c.ObserveBroadcast(complaintNoon, 2400)
	c.ObserveBroadcast(complaintNoon.Add(24*time.Hour), 2400)
	for reason, n := range map[string]int{"ads": 9, "fraud": 2, "spam": 1} {
		for range n {
			c.ObserveComplaint(complaintNoon.Add(30*time.Hour), reason)
		}
	}
	s := c.Signal(complaintNoon.Add(30*time.Hour).Unix(), nil)
	want := "12 complaints on 4,800 delivered messages in 7 days (0.25%; at least 0.14% with 95% confidence): 9 ads, 2 fraud, 1 spam"
	if s.Name != "complaint_rate" || s.Evidence != want {
		t.Errorf("signal:\n got %s %q\nwant complaint_rate %q", s.Name, s.Evidence, want)
	}
	for _, u := range []string{"ads", "ads", "", "lottery", "harassment"} {
		if u == "ads" {
			c.ObserveUnfollow(complaintNoon.Add(31 * time.Hour))
		} else {
			c.ObserveComplaint(complaintNoon.Add(31*time.Hour), u)
		}
	}
	s = c.Signal(complaintNoon.Add(31*time.Hour).Unix(), nil)
	wantValues := map[string]float64{
		"complaints": 15, "delivered": 4800, "rate": 15.0 / 4800, "wilson_lower": WilsonLower(15, 4800, 1.96),
		"unfollows": 2, "unfollow_rate": 2.0 / 4800, "unfollow_wilson_lower": WilsonLower(2, 4800, 1.96),
		// No reporter index: every complaint is credible.
		"credible_complaints": 15, "credible_wilson_lower": WilsonLower(15, 4800, 1.96), "brigade_complaints": 0, "brigade_reporters": 0,
		"reason_spam": 1, "reason_ads": 9, "reason_fraud": 2, "reason_porn": 0, "reason_harassment": 1, "reason_other": 2,
	}
	for k, want := range wantValues {
		if got, ok := s.Values[k]; !ok || got != want {
			t.Errorf("%s: got %v (present %v), want %v", k, got, ok, want)
		}
	}
	if len(s.Values) != len(wantValues) {
		t.Errorf("values: got %d, want %d: %v", len(s.Values), len(wantValues), s.Values)
	}
	wantEvidence := "15 complaints on 4,800 delivered messages in 7 days (0.31%; at least 0.19% with 95% confidence): 9 ads, 2 fraud, 2 other, 1 spam, 1 harassment; 2 unfollows (0.04% of delivered; at least 0.01% with 95% confidence)"
	if s.Evidence != wantEvidence {
		t.Errorf("evidence:\n got %q\nwant %q", s.Evidence, wantEvidence)
	}
}

func TestComplaintsBeyondDeliveries(t *testing.T) {
	c := NewComplaintRate()
	c.ObserveComplaint(complaintNoon, "porn")
	s := c.Signal(complaintNoon.Unix(), nil)
	if s.Values["rate"] != 0 || s.Values["wilson_lower"] != 0 {
		t.Errorf("nothing delivered: got rate %v, lower %v, want 0, 0", s.Values["rate"], s.Values["wilson_lower"])
	}
	if want := "1 complaint and no delivered messages in 7 days: 1 porn"; s.Evidence != want {
		t.Errorf("evidence: got %q, want %q", s.Evidence, want)
	}
	c.ObserveBroadcast(complaintNoon, 2)
	for range 4 {
		c.ObserveComplaint(complaintNoon, "spam")
	}
	s = c.Signal(complaintNoon.Unix(), nil)
	if s.Values["rate"] != 1 || s.Values["wilson_lower"] != WilsonLower(2, 2, 1.96) {
		t.Errorf("5 complaints on 2 delivered: got rate %v, lower %v, want 1, %v", s.Values["rate"], s.Values["wilson_lower"], WilsonLower(2, 2, 1.96))
	}
}

func TestTrackersStaySmall(t *testing.T) {
	c, q := NewComplaintRate(), NewBroadcastQuota()
	// 200 bytes, and the pointer to who complained (nil until someone does).
	if got := c.Bytes() + q.Bytes(); got > 200 {
		t.Errorf("complaint rate + broadcast quota: got %d bytes, want at most 200", got)
	}
}

func BenchmarkComplaintRateObserve(b *testing.B) {
	c := NewComplaintRate()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := complaintNoon.Add(time.Duration(i) * time.Minute)
		switch i % 8 {
		case 0:
			c.ObserveBroadcast(at, 5000)
		case 1:
			c.ObserveUnfollow(at)
		default:
			c.ObserveComplaint(at, "ads")
		}
		c.Totals(at.Unix()).Lower()
	}
}
