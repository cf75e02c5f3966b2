package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"moderation/appeals"
)

// sliceLister serves appeals from a slice that a test swaps as it goes,
// and counts the reads so a test can tell that checks have run.
type sliceLister struct {
	mu    sync.Mutex
	all   []*appeals.Appeal
	err   error
	calls int
}

func (l *sliceLister) List(_ context.Context, f appeals.Filter) ([]*appeals.Appeal, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.err != nil {
		return nil, l.err
	}
	var out []*appeals.Appeal
	for _, a := range l.all {
		if f.Match(a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (l *sliceLister) set(all []*appeals.Appeal, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all, l.err = all, err
}

func (l *sliceLister) reads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// appealsIn makes n appeals against rule under version, in state s, filed
// age ago; one in review holds a live claim.
func appealsIn(rule, version string, s appeals.State, n int, age time.Duration) []*appeals.Appeal {
	var out []*appeals.Appeal
	for range n {
		a := &appeals.Appeal{Rule: rule, PolicyVersion: version, State: s, FiledAt: time.Now().Add(-age)}
		if s == appeals.InReview {
			a.LeaseUntil = time.Now().Add(time.Hour)
		}
		out = append(out, a)
	}
	return out
}

func concat(groups ...[]*appeals.Appeal) []*appeals.Appeal {
	var out []*appeals.Appeal
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func TestQualityCollector(t *testing.T) {
	lister := &sliceLister{}
	lister.set(concat(
		// bulk_add v1: 3 of 4 decided reversed, above the level.
		appealsIn("bulk_add", "v1", appeals.Upheld, 1, 72*time.Hour),
		appealsIn("bulk_add", "v1", appeals.Overturned, 2, 72*time.Hour),
		appealsIn("bulk_add", "v1", appeals.Modified, 1, 72*time.Hour),
		// bulk_add v2: two waiting, one withdrawn, one upheld.
		appealsIn("bulk_add", "v2", appeals.Filed, 1, 2*time.Hour),
		appealsIn("bulk_add", "v2", appeals.InReview, 1, time.Hour),
		appealsIn("bulk_add", "v2", appeals.Withdrawn, 1, 5*time.Hour),
		appealsIn("bulk_add", "v2", appeals.Upheld, 1, 5*time.Hour),
		// ad_content v1: all reversed, but too few to mean anything.
		appealsIn("ad_content", "v1", appeals.Overturned, 2, 24*time.Hour),
	), nil)
	c := newQualityCollector(lister, 0.5, 3)

	reg := prometheus.NewPedanticRegistry() // also checks the series against Describe
	reg.MustRegister(c)
	want := map[string]float64{
		`moderation_appeal_overturn_rate{policy_version="v1",rule="ad_content"}`:       1,
		`moderation_appeal_overturn_rate{policy_version="v1",rule="bulk_add"}`:         0.75,
		`moderation_appeal_overturn_rate{policy_version="v2",rule="bulk_add"}`:         0,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="filed"}`:      0,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="in_review"}`:  0,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="modified"}`:   0,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="overturned"}`: 2,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="upheld"}`:     0,
		`moderation_appeals{policy_version="v1",rule="ad_content",state="withdrawn"}`:  0,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="filed"}`:        0,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="in_review"}`:    0,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="modified"}`:     1,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="overturned"}`:   2,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="upheld"}`:       1,
		`moderation_appeals{policy_version="v1",rule="bulk_add",state="withdrawn"}`:    0,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="filed"}`:        1,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="in_review"}`:    1,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="modified"}`:     0,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="overturned"}`:   0,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="upheld"}`:       1,
		`moderation_appeals{policy_version="v2",rule="bulk_add",state="withdrawn"}`:    1,
		`moderation_appeals_filed{policy_version="v1",rule="ad_content"}`:              2,
		`moderation_appeals_filed{policy_version="v1",rule="bulk_add"}`:                4,
		`moderation_appeals_filed{policy_version="v2",rule="bulk_add"}`:                4,
		`moderation_rule_overturn_alert{policy_version="v1",rule="ad_content"}`:        0,
		`moderation_rule_overturn_alert{policy_version="v1",rule="bulk_add"}`:          1,
		`moderation_rule_overturn_alert{policy_version="v2",rule="bulk_add"}`:          0,
		`moderation_appeal_quality_errors_total`:                                       0,
	}
	got := gather(t, reg)
	// The oldest open appeal is the unclaimed one of v2, filed 2 hours ago;
	// the scrape's clock runs a little later than the one that filed it.
	oldest := got["moderation_appeal_oldest_open_seconds"]
	delete(got, "moderation_appeal_oldest_open_seconds")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if lo, hi := (2 * time.Hour).Seconds(), (2*time.Hour + time.Minute).Seconds(); oldest < lo || oldest > hi {
		t.Errorf("oldest open: got %.0f s, want %.0f s (within a minute)", oldest, lo)
	}
}

// TestQualityCollectorStoreFails: a store that fails costs the appeal
// series of one scrape, not the whole scrape, and is counted.
func TestQualityCollectorStoreFails(t *testing.T) {
	lister := &sliceLister{}
	lister.set(appealsIn("bulk_add", "v1", appeals.Overturned, 5, time.Hour), errors.New("bucket unavailable"))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newQualityCollector(lister, 0.5, 3))
	for scrape := 1; scrape <= 2; scrape++ {
		got := gather(t, reg)
		if diff := cmp.Diff(map[string]float64{"moderation_appeal_quality_errors_total": float64(scrape)}, got); diff != "" {
			t.Errorf("scrape %d: series (-want +got):\n%s", scrape, diff)
		}
	}
}

// gather scrapes reg and returns each series, written name{label="value",...},
// with its value. A collector's error fails the test, as it would fail
// the service's whole /metrics.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			default:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// syncBuffer is a log destination the test reads while the watch writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestQualityWatchOverturns(t *testing.T) {
	var (
		bulkV1Bad  = concat(appealsIn("bulk_add", "v1", appeals.Overturned, 3, time.Hour), appealsIn("bulk_add", "v1", appeals.Upheld, 1, time.Hour))
		bulkV1Good = appealsIn("bulk_add", "v1", appeals.Upheld, 8, time.Hour) // with bulkV1Bad: 3 of 12
		bulkV2Bad  = appealsIn("bulk_add", "v2", appeals.Modified, 3, time.Hour)
		adsBad     = appealsIn("ad_content", "v1", appeals.Overturned, 4, time.Hour)
		adsFew     = appealsIn("broadcast_quota", "v1", appeals.Overturned, 2, time.Hour) // too few
	)
	steps := []struct {
		name      string
		all       []*appeals.Appeal
		err       error
		wantRules []string // handed to onFlagged; nil: no call
		wantWarns []string // new warnings, each a fragment of one
	}{
		{"nothing flagged: no call", adsFew, nil, nil, nil},
		{"a rule flagged", concat(adsFew, bulkV1Bad), nil, []string{"bulk_add"},
			[]string{"rule bulk_add's decisions are overturned on appeal at 75% (3 of 4 decided appeals, policy v1), above the alert level of 50%"}},
		{"a second version of the same rule: a warning, the same rules", concat(adsFew, bulkV1Bad, bulkV2Bad), nil, nil,
			[]string{"rule bulk_add's decisions are overturned on appeal at 100% (3 of 3 decided appeals, policy v2)"}},
		{"another rule", concat(adsFew, bulkV1Bad, bulkV2Bad, adsBad), nil, []string{"ad_content", "bulk_add"},
			[]string{"rule ad_content's decisions are overturned on appeal at 100% (4 of 4"}},
		{"the store fails: the set stands", nil, errors.New("bucket unavailable"), nil, nil},
		{"one version recovers: the rule stays flagged by the other", concat(adsFew, bulkV1Bad, bulkV1Good, bulkV2Bad, adsBad), nil, nil, nil},
		{"every version recovers", concat(adsFew, bulkV1Bad, bulkV1Good, adsBad), nil, []string{"ad_content"}, nil},
		{"nothing flagged any more", adsFew, nil, []string{}, nil},
	}

	lister := &sliceLister{}
	lister.set(steps[0].all, steps[0].err)
	logs := &syncBuffer{}
	flagged := make(chan []string, len(steps))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchOverturns(ctx, lister, 0.5, 3, 5*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)), func(rules []string) { flagged <- rules })
	}()
	defer func() {
		cancel()
		<-done
	}()

	warns := 0
	for i, step := range steps {
		if i > 0 {
			lister.set(step.all, step.err)
		}
		// Let at least three checks run on this step's appeals, so a call
		// or a warning that should not come would have come.
		want := lister.reads() + 3
		deadline := time.Now().Add(5 * time.Second)
		for lister.reads() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the watch stopped reading the store", step.name)
			}
			time.Sleep(time.Millisecond)
		}
		select {
		case got := <-flagged:
			if step.wantRules == nil {
				t.Errorf("%s: onFlagged got %q, want no call", step.name, got)
			} else if !slices.Equal(got, step.wantRules) { // an empty set and none are one
				t.Errorf("%s: onFlagged got %q, want %q", step.name, got, step.wantRules)
			}
		default:
			if step.wantRules != nil {
				t.Errorf("%s: onFlagged not called, want %q", step.name, step.wantRules)
			}
		}
		if extra := len(flagged); extra > 0 {
			t.Errorf("%s: onFlagged called %d more times, want once per change", step.name, extra)
			for range extra {
				<-flagged
			}
		}
		out := logs.String()
		if got := strings.Count(out, "decisions are overturned on appeal"); got != warns+len(step.wantWarns) {
			t.Errorf("%s: got %d overturn warnings in all, want %d:\n%s", step.name, got, warns+len(step.wantWarns), out)
		}
		warns += len(step.wantWarns)
		for _, w := range step.wantWarns {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no warning %q in:\n%s", step.name, w, out)
			}
		}
	}
	if out := logs.String(); !strings.Contains(out, "list appeals") || !strings.Contains(out, "bucket unavailable") {
		t.Errorf("the store's failure is not logged:\n%s", out)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watchOverturns did not return when its context ended")
	}
}
