package webconsole

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	moderationv1 "moderation/api/moderation/v1"
)

// The overview is live: the page opens a server-sent event stream, and the
// console reads the service's own Prometheus metrics every overviewEvery
// through ConsoleService.GetMetrics (in-process on the service side, with
// the reviewer's token, like every read) and sends each reading as one
// event. Rates (events per second, decisions per rule per interval) are
// the differences between readings, taken in the page.

// overviewEvery is how often the stream sends a reading.
var overviewEvery = time.Second

// overviewMetrics are the metrics the overview reads.
var overviewMetrics = []string{
	"moderation_events_total", "moderation_decisions_total", "moderation_dead_letters_total",
	"moderation_appeals", "moderation_appeal_oldest_open_seconds", "moderation_appeal_overturn_rate",
	"moderation_rule_overturn_alert",
}

// overviewReading is one reading of the service's counters.
type overviewReading struct {
	At          int64              `json:"at"` // unix milliseconds
	Events      float64            `json:"events"`
	ByKind      map[string]float64 `json:"by_kind"`
	Decisions   map[string]float64 `json:"decisions"` // by rule, every action
	DeadLetters map[string]float64 `json:"dead_letters"`
	Backlog     float64            `json:"backlog"` // open appeals: filed and in review
	OldestOpen  float64            `json:"oldest_open"`
	Overturn    []ruleRate         `json:"overturn"`
}

// ruleRate is a rule's overturn rate under one policy version.
type ruleRate struct {
	Rule    string  `json:"rule"`
	Policy  string  `json:"policy"`
	Rate    float64 `json:"rate"`
	HasRate bool    `json:"has_rate"`
	Alert   bool    `json:"alert"`
}

// Pct is the rate in percent.
func (r ruleRate) Pct() float64 { return 100 * r.Rate }

func (c *Console) overviewRoutes() {
	c.handle("GET /overview", c.overviewPage)
	c.mux.HandleFunc("GET /overview/stream", c.overviewStream)
}

func (c *Console) overviewPage(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx, cancel := apiContext(r)
	defer cancel()
	first, err := c.readOverview(ctx, s)
	if err != nil {
		c.apiError(w, r, s, err)
		return
	}
	c.render(w, r, s, "overview", first)
}

func (c *Console) readOverview(ctx context.Context, s *Session) (overviewReading, error) {
	m, err := c.console.GetMetrics(ctx, &moderationv1.GetMetricsRequest{Names: overviewMetrics}, s.creds())
	if err != nil {
		return overviewReading{}, err
	}
	return readingOf(m), nil
}

// readingOf sums the samples into what the page shows.
func readingOf(m *moderationv1.GetMetricsResponse) overviewReading {
	o := overviewReading{At: m.GetAt().AsTime().UnixMilli(), ByKind: map[string]float64{}, Decisions: map[string]float64{}, DeadLetters: map[string]float64{}}
	rates := map[[2]string]*ruleRate{}
	rate := func(l map[string]string) *ruleRate {
		k := [2]string{l["rule"], l["policy_version"]}
		if rates[k] == nil {
			rates[k] = &ruleRate{Rule: k[0], Policy: k[1]}
		}
		return rates[k]
	}
	for _, x := range m.GetSamples() {
		l, v := x.GetLabels(), x.GetValue()
		switch x.GetName() {
		case "moderation_events_total":
			o.Events += v
			o.ByKind[l["kind"]] += v
		case "moderation_decisions_total":
			o.Decisions[l["rule"]] += v
		case "moderation_dead_letters_total":
			o.DeadLetters[l["reason"]] += v
		case "moderation_appeals":
			if l["state"] == "filed" || l["state"] == "in_review" {
				o.Backlog += v
			}
		case "moderation_appeal_oldest_open_seconds":
			o.OldestOpen = v
		case "moderation_appeal_overturn_rate":
			r := rate(l)
			r.Rate, r.HasRate = v, true
		case "moderation_rule_overturn_alert":
			rate(l).Alert = v > 0
		}
	}
	for _, r := range rates {
		o.Overturn = append(o.Overturn, *r)
	}
	sort.Slice(o.Overturn, func(i, j int) bool {
		a, b := o.Overturn[i], o.Overturn[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Policy < b.Policy
	})
	return o
}

// overviewStream sends a reading every overviewEvery as server-sent
// events until the browser goes away or the API refuses the token. It
// needs a live session like every page, but answers 401 rather than
// redirecting: an EventSource cannot follow a sign-in page.
func (c *Console) overviewStream(w http.ResponseWriter, r *http.Request) {
	s := c.session(w, r)
	if s == nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	t := time.NewTicker(overviewEvery)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		o, err := c.readOverview(ctx, s)
		cancel()
		if err != nil {
			// Any failure ends the stream: the page's EventSource comes
			// back by itself (and a stopping service's console, whose API
			// connection is closed, is not held open by it).
			if r.Context().Err() != nil {
				return
			}
			st := status.Convert(err)
			fmt.Fprintf(w, "event: failure\ndata: %s\n\n", jsonString(st.Message()))
			flusher.Flush()
			if st.Code() == codes.Unauthenticated {
				c.sessions.end(s.id) // the page's next request signs in again
			}
			return
		}
		raw, _ := json.Marshal(o)
		fmt.Fprintf(w, "data: %s\n\n", raw)
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		if !c.sessions.alive(s, c.now()) {
			return // signed out, or expired, meanwhile
		}
	}
}

// alive reports whether s is still signed in, without touching it: an
// overview left open is not the reviewer's activity, so it does not keep
// the session from its idle expiry.
func (ss *sessions) alive(s *Session, now time.Time) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m[s.id] != s {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ss.live(s, now)
}

func jsonString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
