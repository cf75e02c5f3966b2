package detectors

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"moderation/internal/moderation"
)

// crossEnv is an Env with every cross-account index, at the service's sizes.
func crossEnv() *Env {
	return &Env{
		Location:     time.UTC,
		Reporters:    NewReporters(DefaultReporterParams),
		Destinations: NewDestinations(72*time.Hour, 100_000),
		Targets:      NewTargets(7*24*time.Hour, 100_000),
	}
}

// complaintWorld feeds accounts' events through Account.Observe with one
// shared Env, as the pipeline does.
type complaintWorld struct {
	env      *Env
	accounts map[string]*Account
	seq      int
}

func newComplaintWorld() *complaintWorld {
	return &complaintWorld{env: crossEnv(), accounts: map[string]*Account{}}
}

func (w *complaintWorld) observe(ev *moderation.Event) *Account {
	w.seq++
	ev.ID = fmt.Sprintf("e%d", w.seq)
	a := w.accounts[ev.Account]
	if a == nil {
		a = NewAccount()
		w.accounts[ev.Account] = a
	}
	a.Observe(ev, w.env)
	return a
}

func (w *complaintWorld) broadcast(account string, at time.Time, recipients int64) *Account {
	return w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: account, At: at,
		AccountInfo: &moderation.AccountInfo{Type: moderation.AccountSubscription, CreatedAt: at.Add(-400 * 24 * time.Hour)},
		Broadcast:   &moderation.Broadcast{ID: "b", Text: "今日要闻：市政府发布新的公交线路调整通知，详情见官网。", Recipients: recipients}})
}

func (w *complaintWorld) complain(account, reporter string, at time.Time) *Account {
	return w.observe(&moderation.Event{Kind: moderation.KindComplaint, Account: account, At: at,
		Complaint: &moderation.Complaint{Reporter: reporter, Reason: "spam"}})
}

func (w *complaintWorld) value(account, metric string) float64 {
	v, ok := w.accounts[account].Value(metric, w.env)
	if !ok {
		panic("unknown metric " + metric)
	}
	return v
}

// TestBrigadeIsDiscounted: 30 reporters who complain together about six
// accounts within an hour are a brigade, whichever order their complaints
// arrive in; 30 reporters who each complain about one account are not.
func TestBrigadeIsDiscounted(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	targets := []string{"news_small", "b2", "b3", "b4", "b5", "b6"}
	orders := []struct {
		name string
		// at gives the complaint time of reporter r about target i.
		at func(r, i int) time.Duration
	}{
		{"account by account", func(r, i int) time.Duration { return time.Duration(i*10)*time.Minute + time.Duration(r)*time.Second }},
		{"reporter by reporter", func(r, i int) time.Duration { return time.Duration(r)*time.Minute + time.Duration(i)*time.Second }},
		{"last target first", func(r, i int) time.Duration {
			return time.Duration((len(targets)-1-i)*10)*time.Minute + time.Duration(r)*time.Second
		}},
	}
	for _, order := range orders {
		t.Run(order.name, func(t *testing.T) {
			w := newComplaintWorld()
			for _, a := range append([]string{"honest_target"}, targets...) {
				w.broadcast(a, start.Add(-time.Minute), 2000)
			}
			type complaint struct {
				account, reporter string
				at                time.Duration
			}
			var all []complaint
			for r := range 30 {
				for i, a := range targets {
					all = append(all, complaint{a, fmt.Sprintf("brig%02d", r), order.at(r, i)})
				}
				all = append(all, complaint{"honest_target", fmt.Sprintf("follower%02d", r), time.Duration(r) * time.Minute})
			}
			// Stream order is time order.
			for i := 1; i < len(all); i++ {
				for j := i; j > 0 && all[j].at < all[j-1].at; j-- {
					all[j], all[j-1] = all[j-1], all[j]
				}
			}
			for _, c := range all {
				w.complain(c.account, c.reporter, start.Add(c.at))
			}
			// Judged at each account's next broadcast, two hours on.
			later := start.Add(3 * time.Hour)
			for _, a := range append([]string{"honest_target"}, targets...) {
				w.broadcast(a, later, 2000)
			}
			for _, a := range targets {
				for metric, want := range map[string]float64{
					"complaint_rate.complaints":          30,
					"complaint_rate.credible_complaints": 0,
					"complaint_rate.brigade_complaints":  30,
					"complaint_rate.brigade_reporters":   30,
				} {
					if got := w.value(a, metric); got != want {
						t.Errorf("%s %s: got %v, want %v", a, metric, got, want)
					}
				}
				if got := w.value(a, "complaint_rate.credible_wilson_lower"); got != 0 {
					t.Errorf("%s credible_wilson_lower: got %v, want 0", a, got)
				}
			}
			for metric, want := range map[string]float64{
				"complaint_rate.complaints":          30,
				"complaint_rate.credible_complaints": 30,
				"complaint_rate.brigade_complaints":  0,
				"complaint_rate.brigade_reporters":   0,
			} {
				if got := w.value("honest_target", metric); got != want {
					t.Errorf("honest_target %s: got %v, want %v", metric, got, want)
				}
			}
			if got, raw := w.value("honest_target", "complaint_rate.credible_wilson_lower"), w.value("honest_target", "complaint_rate.wilson_lower"); got != raw {
				t.Errorf("honest_target credible_wilson_lower: got %v, want the raw bound %v", got, raw)
			}

			signals := w.accounts["news_small"].Signals(w.env)
			s := signals["complaint_rate"]
			for _, want := range []string{"30 complaints discounted as a brigade", "30 reporters", "0 from credible reporters", "3 or more within an hour"} {
				if !strings.Contains(s.Evidence, want) {
					t.Errorf("complaint_rate evidence %q: want it to contain %q", s.Evidence, want)
				}
			}
			// The owner reads complaint_rate's evidence: no reporter, no other account.
			for _, secret := range []string{"brig00", "b2,"} {
				if strings.Contains(s.Evidence, secret) {
					t.Errorf("complaint_rate evidence %q names %q; want counts only", s.Evidence, secret)
				}
			}
			b, ok := signals["brigade"]
			if !ok {
				t.Fatal("no brigade signal")
			}
			for _, want := range []string{"30 complaints discounted, from 30 reporters", "brig00, brig01", "and 20 more", "their other targets: b2, b3, b4, b5, b6"} {
				if !strings.Contains(b.Evidence, want) {
					t.Errorf("brigade evidence %q: want it to contain %q", b.Evidence, want)
				}
			}
			if got := b.Values["other_targets"]; got != 5 {
				t.Errorf("brigade other_targets: got %v, want 5", got)
			}
			if _, ok := w.accounts["honest_target"].Signals(w.env)["brigade"]; ok {
				t.Error("honest_target has a brigade signal; want none")
			}
		})
	}
}

// TestSlowBrigade: a brigade that complains about one account a day is
// still one, by the accounts its members complain about together; the same
// reporters complaining about one other account as well are not.
func TestSlowBrigade(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		targets     int
		wantBrigade float64
	}{
		{"four accounts over four days", 4, 30},
		{"two accounts", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newComplaintWorld()
			for i := range tt.targets {
				w.broadcast(fmt.Sprintf("t%d", i), start.Add(-time.Hour), 3000)
			}
			for i := range tt.targets {
				for r := range 30 {
					w.complain(fmt.Sprintf("t%d", i), fmt.Sprintf("r%02d", r), start.Add(time.Duration(i)*24*time.Hour+time.Duration(r)*time.Minute))
				}
			}
			w.broadcast("t0", start.Add(5*24*time.Hour), 3000)
			if got := w.value("t0", "complaint_rate.brigade_complaints"); got != tt.wantBrigade {
				t.Errorf("brigade complaints: got %v, want %v", got, tt.wantBrigade)
			}
			if got := w.value("t0", "complaint_rate.credible_complaints"); got != 30-tt.wantBrigade {
				t.Errorf("credible complaints: got %v, want %v", got, 30-tt.wantBrigade)
			}
		})
	}
}

// TestBrigadeInStep: reporters who complain about two accounts within the
// same hour, five or more of them alike, are a brigade of two targets, and
// so are the members of a wider one who each joined only some of its
// targets; the same reporters complaining about the second account a day
// later are not (TestSlowBrigade), nor are four who did it in step.
func TestBrigadeInStep(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		reporters   int
		join        func(r, target int) bool // whether reporter r complains about target
		targets     int
		wantBrigade float64 // of t0's complaints
	}{
		{"two targets, thirty reporters", 30, func(int, int) bool { return true }, 2, 30},
		{"two targets, four reporters", 4, func(int, int) bool { return true }, 2, 0},
		// Each reporter joins two of three targets: t0's reporters are the
		// ten that took t0 and t1 and the ten that took t0 and t2.
		{"three targets, each reporter two", 30, func(r, tg int) bool { return tg != r%3 }, 3, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newComplaintWorld()
			for i := range tt.targets {
				w.broadcast(fmt.Sprintf("t%d", i), start.Add(-time.Hour), 3000)
			}
			for r := range tt.reporters {
				for i := range tt.targets {
					if tt.join(r, i) {
						w.complain(fmt.Sprintf("t%d", i), fmt.Sprintf("r%02d", r), start.Add(time.Duration(r)*time.Minute+time.Duration(i)*10*time.Second))
					}
				}
			}
			w.broadcast("t0", start.Add(5*time.Hour), 3000)
			if got := w.value("t0", "complaint_rate.brigade_complaints"); got != tt.wantBrigade {
				t.Errorf("brigade complaints: got %v, want %v", got, tt.wantBrigade)
			}
			if tt.wantBrigade > 0 {
				if ev := w.accounts["t0"].Signals(w.env)["complaint_rate"].Evidence; !strings.Contains(ev, "or one more within an hour of their complaint here, as 5 or more of them did") {
					t.Errorf("evidence does not say the rule: %q", ev)
				}
			}
		})
	}
}

// TestBrigadeStragglers: reporters who missed some of a brigade's targets
// are discounted with it; reporters of the same account who complained
// about nothing the brigade did are not.
func TestBrigadeStragglers(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	for _, a := range []string{"news", "b", "c"} {
		w.broadcast(a, start.Add(-time.Hour), 3000)
	}
	at := start
	complain := func(account, reporter string) {
		at = at.Add(10 * time.Second)
		w.complain(account, reporter, at)
	}
	for r := range 20 { // the whole brigade: news, b and c
		for _, a := range []string{"news", "b", "c"} {
			complain(a, fmt.Sprintf("full%02d", r))
		}
	}
	for r := range 6 { // stragglers: news and b only
		complain("news", fmt.Sprintf("part%d", r))
		complain("b", fmt.Sprintf("part%d", r))
	}
	for r := range 4 { // honest followers of news
		complain("news", fmt.Sprintf("honest%d", r))
	}
	w.broadcast("news", start.Add(3*time.Hour), 3000)
	for metric, want := range map[string]float64{
		"complaint_rate.brigade_reporters":   26,
		"complaint_rate.credible_complaints": 4,
	} {
		if got := w.value("news", metric); got != want {
			t.Errorf("%s: got %v, want %v", metric, got, want)
		}
	}
}

// TestComplaintsWaitOutTheSpan: a complaint is weighed once it has
// settled, its reporter having had the time to show itself part of a
// brigade; before then it is pending, neither credible nor discounted.
func TestComplaintsWaitOutTheSpan(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		judged       time.Duration // after the last complaint
		wantCredible float64
	}{
		{"at once", 0, 0},
		{"just before they settle", DefaultReporterParams.Settle - time.Minute, 0},
		{"once they settle", DefaultReporterParams.Settle, 10},
		{"a day later", 24 * time.Hour, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newComplaintWorld()
			w.broadcast("acct", start, 1000)
			for r := range 10 {
				w.complain("acct", fmt.Sprintf("r%d", r), start)
			}
			w.observe(&moderation.Event{Kind: moderation.KindUnfollow, Account: "acct", At: start.Add(tt.judged), Unfollow: &moderation.Unfollow{Follower: "f"}})
			if got := w.value("acct", "complaint_rate.credible_complaints"); got != tt.wantCredible {
				t.Errorf("credible complaints: got %v, want %v", got, tt.wantCredible)
			}
		})
	}
}

// TestProlificReporter: a reporter who complains about far more accounts
// than the typical one is discounted, though it never hit five in an hour.
func TestProlificReporter(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	for i := range 50 {
		w.complain(fmt.Sprintf("typical%d", i), fmt.Sprintf("reporter%d", i), start)
	}
	for i := range 25 {
		w.complain(fmt.Sprintf("victim%02d", i), "serial", start.Add(time.Duration(i)*3*time.Hour))
	}
	w.broadcast("victim00", start.Add(80*time.Hour), 1000)
	if got := w.value("victim00", "complaint_rate.credible_complaints"); got != 0 {
		t.Errorf("credible complaints from a prolific reporter: got %v, want 0", got)
	}
	if got := w.value("victim00", "complaint_rate.brigade_complaints"); got != 0 {
		t.Errorf("brigade complaints from a lone prolific reporter: got %v, want 0", got)
	}
	if s := w.accounts["victim00"].Signals(w.env)["complaint_rate"]; !strings.Contains(s.Evidence, "1 from reporters who complain about far more accounts than is typical") {
		t.Errorf("evidence %q: want it to name the prolific reporter's complaint", s.Evidence)
	}
	w.broadcast("typical0", start.Add(2*time.Hour), 1000)
	if got := w.value("typical0", "complaint_rate.credible_complaints"); got != 1 {
		t.Errorf("credible complaints from a typical reporter: got %v, want 1", got)
	}
}

// TestComplaintRecordOverflows: past the record's bound, complaints are
// judged as they leave it and still counted.
func TestComplaintRecordOverflows(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w := newComplaintWorld()
	w.broadcast("acct", start, 100000)
	n := 3*maxRecordedComplaints + 7
	for r := range n {
		w.complain("acct", fmt.Sprintf("r%d", r), start.Add(time.Duration(r)*time.Minute))
	}
	a := w.broadcast("acct", start.Add(time.Duration(n)*time.Minute+DefaultReporterParams.Settle), 1)
	if got := w.value("acct", "complaint_rate.credible_complaints"); got != float64(n) {
		t.Errorf("credible complaints: got %v, want %v", got, n)
	}
	if got := len(a.Complaints.record.entries); got != maxRecordedComplaints {
		t.Errorf("record length: got %d, want %d", got, maxRecordedComplaints)
	}
	// A week later the window has moved past them all.
	w.broadcast("acct", start.Add(8*24*time.Hour), 1)
	if got := w.value("acct", "complaint_rate.credible_complaints"); got != 0 {
		t.Errorf("credible complaints a week later: got %v, want 0", got)
	}
}

func TestReportersBoundAndExpiry(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	t.Run("bound", func(t *testing.T) {
		p := DefaultReporterParams
		p.MaxReporters = 100
		rs := NewReporters(p)
		for i := range 1000 {
			rs.Observe(fmt.Sprintf("r%d", i), "acct", start.Add(time.Duration(i)*time.Second))
		}
		if got := rs.Len(); got != 100 {
			t.Errorf("reporters held: got %d, want 100", got)
		}
	})
	t.Run("expiry in event time", func(t *testing.T) {
		rs := NewReporters(DefaultReporterParams)
		id := rs.Observe("old", "acct", start)
		for i := range 5 {
			rs.Observe("old", fmt.Sprintf("t%d", i), start)
		}
		if got := rs.Standing(id, start.Unix()); got != Brigade {
			t.Fatalf("standing after six targets in a minute: got %v, want Brigade", got)
		}
		rs.Observe("someone", "acct", start.Add(DefaultReporterParams.Window-time.Second))
		if got := rs.Len(); got != 2 {
			t.Errorf("reporters just inside the window: got %d, want 2", got)
		}
		rs.Observe("someone", "acct", start.Add(DefaultReporterParams.Window))
		if got := rs.Len(); got != 1 {
			t.Errorf("reporters once the first is a window old: got %d, want 1", got)
		}
		if got := rs.Standing(id, start.Add(DefaultReporterParams.Window).Unix()); got != Credible {
			t.Errorf("standing of a forgotten reporter: got %v, want Credible", got)
		}
	})
	t.Run("brigade needs the targets within the span", func(t *testing.T) {
		rs := NewReporters(DefaultReporterParams)
		var id = rs.Observe("slow", "t0", start)
		for i := 1; i < 8; i++ {
			id = rs.Observe("slow", fmt.Sprintf("t%d", i), start.Add(time.Duration(i)*40*time.Minute))
		}
		// Any hour holds at most two of its targets.
		if got := rs.Standing(id, start.Add(6*time.Hour).Unix()); got != Credible {
			t.Errorf("standing: got %v, want Credible", got)
		}
	})
}

// BenchmarkReportersMemory fills the index to its bound with reporters who
// each complained about eight accounts, and reports the heap it holds.
func BenchmarkReportersMemory(b *testing.B) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	accounts := make([]string, 10_000)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("acct%05d", i)
	}
	n := DefaultReporterParams.MaxReporters
	for b.Loop() {
		heap := benchHeap(b, func() *Reporters {
			rs := NewReporters(DefaultReporterParams)
			for i := range n {
				id := fmt.Sprintf("reporter%07d", i)
				for j := range reporterTargets {
					rs.Observe(id, accounts[(i*7+j)%len(accounts)], start.Add(time.Duration(i)*time.Second))
				}
			}
			return rs
		})
		b.ReportMetric(heap/float64(n), "B/reporter")
	}
}

// FuzzCrossAccount: whatever the times, the cross-account indexes neither
// panic nor report a negative or non-finite value.
func FuzzCrossAccount(f *testing.F) {
	for _, seed := range []struct{ t1, t2 int64 }{
		{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Unix(), time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC).Unix()},
		{math.MinInt64, math.MaxInt64},
		{math.MaxInt64, math.MinInt64},
		{-1, 0},
		{math.MaxInt32 * 10, math.MaxInt32*10 + 1},
	} {
		f.Add(seed.t1, seed.t2, uint8(6))
	}
	f.Fuzz(func(t *testing.T, t1, t2 int64, n uint8) {
		w := newComplaintWorld()
		times := []time.Time{time.Unix(t1, 0).UTC(), time.Unix(t2, 0).UTC()}
		info := &moderation.AccountInfo{Type: moderation.AccountPersonal, CreatedAt: times[0]}
		for i := range int(n%12) + 1 {
			at := times[i%2]
			acct := fmt.Sprintf("a%d", i%3)
			w.observe(&moderation.Event{Kind: moderation.KindBroadcast, Account: acct, At: at, AccountInfo: info,
				Broadcast: &moderation.Broadcast{Text: "加微信 deal5566", Recipients: 10}})
			w.observe(&moderation.Event{Kind: moderation.KindComplaint, Account: acct, At: at, Complaint: &moderation.Complaint{Reporter: fmt.Sprintf("r%d", i%4), Reason: "spam"}})
			w.observe(&moderation.Event{Kind: moderation.KindFriendAdd, Account: acct, At: at, AccountInfo: info, FriendAdd: &moderation.FriendAdd{Target: fmt.Sprintf("p%d", i%2), Source: moderation.SourceSearch}})
			w.observe(&moderation.Event{Kind: moderation.KindFriendResponse, Account: acct, At: at, FriendResponse: &moderation.FriendResponse{Target: "p0", Response: "ignored"}})
		}
		for name, a := range w.accounts {
			_ = a.Signals(w.env)
			for _, m := range Metrics() {
				v, ok := a.Value(m, w.env)
				if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%s %s: got %v (ok %v), want a finite value ≥ 0", name, m, v, ok)
				}
			}
		}
	})
}
