package detectors

import (
	"testing"
	"time"
	_ "time/tzdata" // the platform zone must load where the system has no zoneinfo
)

func mustLoadZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

func TestBroadcastQuotaCalendar(t *testing.T) {
	shanghai := mustLoadZone(t, "Asia/Shanghai")
	utc := func(s string) time.Time {
		t.Helper()
		at, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	tests := []struct {
		name      string
		loc       *time.Location
		events    []string // UTC, in arrival order
		now       string   // UTC
		wantDay   float64
		wantMonth float64
	}{
		{"23:30 UTC is the next day in Shanghai", shanghai,
			[]string{"2026-03-01 15:00", "2026-03-01 23:30"}, "2026-03-01 23:45", 1, 2},
		{"23:30 UTC is the same day in UTC", time.UTC,
			[]string{"2026-03-01 15:00", "2026-03-01 23:30"}, "2026-03-01 23:45", 2, 2},
		{"nil zone is UTC", nil,
			[]string{"2026-03-01 15:00", "2026-03-01 23:30"}, "2026-03-01 23:45", 2, 2},
		{"16:30 UTC on 31 March is April in Shanghai", shanghai,
			[]string{"2026-03-31 10:00", "2026-03-31 16:30"}, "2026-03-31 16:30", 1, 1},
		{"16:30 UTC on 31 March is still March in UTC", time.UTC,
			[]string{"2026-03-31 10:00", "2026-03-31 16:30"}, "2026-03-31 16:30", 2, 2},
		{"two broadcasts in a day", shanghai,
			[]string{"2026-03-05 01:00", "2026-03-05 09:00"}, "2026-03-05 10:00", 2, 2},
		{"day resets the next day, month does not", shanghai,
			[]string{"2026-03-05 01:00", "2026-03-05 09:00"}, "2026-03-06 01:00", 0, 2},
		{"new day counts from one", shanghai,
			[]string{"2026-03-05 01:00", "2026-03-05 09:00", "2026-03-06 01:00"}, "2026-03-06 02:00", 1, 3},
		{"month resets the next month", shanghai,
			[]string{"2026-03-05 01:00", "2026-03-20 01:00"}, "2026-04-01 01:00", 0, 0},
		{"late event from an earlier day counts only for the month", shanghai,
			[]string{"2026-03-05 01:00", "2026-03-06 01:00", "2026-03-05 02:00"}, "2026-03-06 02:00", 1, 3},
		{"late event from an earlier month is dropped", shanghai,
			[]string{"2026-03-01 01:00", "2026-02-27 01:00"}, "2026-03-01 02:00", 1, 1},
		{"late event does not reset the current counts", time.UTC,
			[]string{"2026-03-06 01:00", "2026-03-06 02:00", "2026-01-10 01:00", "2026-03-06 03:00"}, "2026-03-06 04:00", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewBroadcastQuota()
			for _, e := range tt.events {
				q.Observe(utc(e), tt.loc)
			}
			now := utc(tt.now).Unix()
			if got := q.Day(now, tt.loc); got != tt.wantDay {
				t.Errorf("day: got %v, want %v", got, tt.wantDay)
			}
			if got := q.Month(now, tt.loc); got != tt.wantMonth {
				t.Errorf("month: got %v, want %v", got, tt.wantMonth)
			}
			s := q.Signal(now, tt.loc)
			if s.Values["day"] != tt.wantDay || s.Values["month"] != tt.wantMonth {
				t.Errorf("signal values: got %v, want day %v month %v", s.Values, tt.wantDay, tt.wantMonth)
			}
		})
	}
}

func TestBroadcastQuotaEvidence(t *testing.T) {
	shanghai := mustLoadZone(t, "Asia/Shanghai")
	q := NewBroadcastQuota()
	// 9 broadcasts in March (Shanghai), the last 3 on 2 March; the first
	// of those at 16:30 UTC on 1 March.
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai)
	for i := range 6 {
		q.Observe(start.Add(time.Duration(i)*time.Hour), shanghai)
	}
	for i := range 3 {
		q.Observe(time.Date(2026, 3, 1, 16, 30+i, 0, 0, time.UTC), shanghai)
	}
	s := q.Signal(time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC).Unix(), shanghai)
	want := "3 broadcasts on 2 March 2026 and 9 in March 2026 (Asia/Shanghai time)"
	if s.Name != "broadcast_quota" || s.Evidence != want {
		t.Errorf("signal: got %s %q, want broadcast_quota %q", s.Name, s.Evidence, want)
	}
	if got := q.Bytes(); got > 16 {
		t.Errorf("bytes: got %d, want at most 16", got)
	}
}

func BenchmarkBroadcastQuotaObserve(b *testing.B) {
	shanghai := mustLoadZone(b, "Asia/Shanghai")
	q := NewBroadcastQuota()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := start.Add(time.Duration(i) * 7 * time.Minute)
		q.Observe(at, shanghai)
		q.Day(at.Unix(), shanghai)
	}
}
