// Package backtest replays retained events through the detectors and a
// candidate policy, and compares what it would have decided with what was
// decided. It reads JetStream and runs the pipeline's own simulator; it
// writes nothing.
package backtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/events"
	"moderation/internal/judge"
	"moderation/internal/moderation"
	"moderation/internal/natsbus"
	"moderation/internal/pipeline"
)

// Config says what to replay and through what.
type Config struct {
	Policy       *judge.Policy
	Pipeline     pipeline.Config // time zone, ad model, memory bound, as the service runs
	Since, Until time.Time       // by the time events were stored; zero: all retained
	Progress     func(done, total int64)
}

// Change is an account whose strongest measure would differ.
type Change struct {
	Account string            `json:"account"`
	Was     moderation.Action `json:"was"`
	Would   moderation.Action `json:"would"`
	Rule    string            `json:"rule"`   // the rule behind the stronger of the two
	Reason  string            `json:"reason"` // its reason, in words
}

// Report is what a backtest found.
type Report struct {
	PolicyVersion string         `json:"policy_version"`
	Events        int            `json:"events"`
	Evaluations   float64        `json:"evaluations"`
	Decided       map[string]int `json:"decided"` // "action rule" → decisions actually made on these events
	Would         map[string]int `json:"would"`   // the same for the candidate
	Actioned      []Change       `json:"actioned"`
	Released      []Change       `json:"released"`
}

// Run replays the events stream through cfg.Policy and compares.
func Run(ctx context.Context, js jetstream.JetStream, cfg Config) (*Report, error) {
	sim, err := pipeline.NewSimulator(cfg.Pipeline, cfg.Policy)
	if err != nil {
		return nil, err
	}
	stream, err := js.Stream(ctx, natsbus.EventsStream)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", natsbus.EventsStream, err)
	}
	seen := map[string]bool{} // event ids replayed
	n, err := replayEvents(ctx, stream, cfg, func(ev *moderation.Event, seq uint64) error {
		seen[ev.ID] = true
		return sim.Feed(ctx, ev, seq)
	})
	if err != nil {
		return nil, err
	}
	actual, err := decisionsFor(ctx, js, seen)
	if err != nil {
		return nil, err
	}
	r := compare(actual, sim.Decisions())
	r.PolicyVersion, r.Events, r.Evaluations = cfg.Policy.Version, n, sim.Evaluations()
	return r, nil
}

// replayEvents feeds every valid event stored in the window, in stream
// order, up to the stream's last message when the backtest began.
func replayEvents(ctx context.Context, stream jetstream.Stream, cfg Config, feed func(*moderation.Event, uint64) error) (int, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read stream %s: %w", natsbus.EventsStream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return 0, nil
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !cfg.Since.IsZero() {
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &cfg.Since
	}
	oc, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return 0, fmt.Errorf("open events for the backtest: %w", err)
	}
	first, n := uint64(0), 0
	err = natsbus.ReadThrough(ctx, oc, last, func(msg jetstream.Msg, meta *jetstream.MsgMetadata) (bool, error) {
		seq := meta.Sequence.Stream
		if !cfg.Until.IsZero() && meta.Timestamp.After(cfg.Until) {
			return false, nil
		}
		if first == 0 {
			first = seq
		}
		if cfg.Progress != nil {
			cfg.Progress(int64(seq-first+1), int64(last-first+1))
		}
		ev, err := events.Decode(msg.Subject(), msg.Headers().Get("Content-Type"), msg.Data())
		if err == nil {
			err = events.CheckClock(ev, meta.Timestamp, cfg.Pipeline.MaxClockSkew)
		}
		if err != nil {
			return true, nil // a dead letter then as now
		}
		n++
		return true, feed(ev, seq)
	})
	return n, err
}

// decisionsFor reads the enforcement decisions triggered by the replayed
// events.
func decisionsFor(ctx context.Context, js jetstream.JetStream, replayed map[string]bool) ([]moderation.Decision, error) {
	stream, err := js.Stream(ctx, natsbus.DecisionsStream)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", natsbus.DecisionsStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", natsbus.DecisionsStream, err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	oc, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{natsbus.EnforcementPrefix + "*"}})
	if err != nil {
		return nil, fmt.Errorf("open decisions: %w", err)
	}
	var out []moderation.Decision
	err = natsbus.ReadThrough(ctx, oc, info.State.LastSeq, func(msg jetstream.Msg, _ *jetstream.MsgMetadata) (bool, error) {
		var d moderation.Decision
		if json.Unmarshal(msg.Data(), &d) == nil && replayed[d.EventID] {
			out = append(out, d)
		}
		return true, nil
	})
	return out, err
}

// compare finds the accounts whose strongest measure differs.
func compare(actual, would []moderation.Decision) *Report {
	r := &Report{Decided: count(actual), Would: count(would)}
	was, now := strongest(actual), strongest(would)
	accounts := map[string]bool{}
	for a := range was {
		accounts[a] = true
	}
	for a := range now {
		accounts[a] = true
	}
	for _, a := range slices.Sorted(maps.Keys(accounts)) {
		w, n := was[a], now[a]
		c := Change{Account: a, Was: action(w), Would: action(n)}
		switch {
		case c.Would.Severity() > c.Was.Severity():
			c.Rule, c.Reason = rule(n), reason(n)
			r.Actioned = append(r.Actioned, c)
		case c.Would.Severity() < c.Was.Severity():
			c.Rule, c.Reason = rule(w), reason(w)
			r.Released = append(r.Released, c)
		}
	}
	return r
}

func count(ds []moderation.Decision) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[string(d.Action)+" "+rule(&d)]++
	}
	return out
}

func strongest(ds []moderation.Decision) map[string]*moderation.Decision {
	out := map[string]*moderation.Decision{}
	for i := range ds {
		d := &ds[i]
		if cur, ok := out[d.Account]; !ok || d.Action.Severity() > cur.Action.Severity() {
			out[d.Account] = d
		}
	}
	return out
}

func action(d *moderation.Decision) moderation.Action {
	if d == nil {
		return moderation.ActionAllow
	}
	return d.Action
}

func rule(d *moderation.Decision) string {
	if d == nil || len(d.Reasons) == 0 {
		return ""
	}
	return d.Reasons[0].Code
}

func reason(d *moderation.Decision) string {
	if d == nil {
		return ""
	}
	details := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		details[i] = r.Detail
	}
	return strings.Join(details, "; ")
}
