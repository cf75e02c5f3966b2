package ops_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// alertCase is a history of series and the alerts that must be firing at
// its end: a case where the alert is meant to fire, or its near miss.
type alertCase struct {
	name   string
	alert  string
	series []string      // Prometheus' test notation, one sample a minute from time 0; _ is no sample
	at     time.Duration // when the rules are looked at
	firing []string      // the firing alerts' labels from the expression (the rule's own left out); none for a near miss
}

const j = `job="moderation"`

var alertCases = []alertCase{
	{name: "scrapes fail for 2 minutes", alert: "ModerationDown", at: 5 * time.Minute,
		series: []string{`up{` + j + `, instance="a:8080"} 1 1 1 0 0 0`, `up{` + j + `, instance="b:8080"} 1 1 1 1 1 1`},
		firing: []string{`{instance="a:8080", job="moderation"}`}},
	{name: "scrapes fail for a minute", alert: "ModerationDown", at: 4 * time.Minute,
		series: []string{`up{` + j + `, instance="a:8080"} 1 1 1 0 0`}},

	{name: "not ready for 5 minutes", alert: "ModerationNotReady", at: 7 * time.Minute,
		series: []string{`moderation_ready{` + j + `, instance="a:8080"} 1 1 0 0 0 0 0 0`, `moderation_ready{` + j + `, instance="b:8080"} 1x7`},
		firing: []string{`{instance="a:8080", job="moderation"}`}},
	{name: "not ready for 4 minutes (a rebuild)", alert: "ModerationNotReady", at: 6 * time.Minute,
		series: []string{`moderation_ready{` + j + `, instance="a:8080"} 1 1 0 0 0 0 0`}},

	{name: "a partition unowned for a minute, as both instances see", alert: "PartitionUnowned", at: 3 * time.Minute,
		series: []string{`moderation_partitions_unowned{` + j + `, instance="a:8080"} 0 0 1 1`, `moderation_partitions_unowned{` + j + `, instance="b:8080"} 0 0 1 1`},
		firing: []string{`{job="moderation"}`}},
	{name: "a partition unowned while a pin moves", alert: "PartitionUnowned", at: 3 * time.Minute,
		series: []string{`moderation_partitions_unowned{` + j + `, instance="a:8080"} 0 0 1 0`}},

	{name: "one partition's lag grows past 1,000 for 10 minutes", alert: "PartitionLagGrowing", at: 40 * time.Minute,
		series: lagSeries, firing: []string{`{job="moderation", partition="3"}`}},
	{name: "the lag has been above 1,000 for 7 minutes", alert: "PartitionLagGrowing", at: 18 * time.Minute,
		series: lagSeries},

	{name: "a sixth of events dead-lettered", alert: "DeadLetterRate", at: 40 * time.Minute,
		series: []string{`moderation_events_total{` + j + `, instance="a:8080", kind="broadcast"} 0+600x40`,
			`moderation_dead_letters_total{` + j + `, instance="a:8080", reason="bad_json"} 0+120x40`},
		firing: []string{`{job="moderation"}`}},
	{name: "0.2% of events dead-lettered", alert: "DeadLetterRate", at: 40 * time.Minute,
		series: []string{`moderation_events_total{` + j + `, instance="a:8080", kind="broadcast"} 0+6000x40`,
			`moderation_dead_letters_total{` + j + `, instance="a:8080", reason="bad_json"} 0+12x40`}},
	{name: "9% of a trickle dead-lettered", alert: "DeadLetterRate", at: 40 * time.Minute,
		series: []string{`moderation_events_total{` + j + `, instance="a:8080", kind="broadcast"} 0+30x40`,
			`moderation_dead_letters_total{` + j + `, instance="a:8080", reason="bad_json"} 0+3x40`}},

	{name: "the policy's answer changed between its watched levels", alert: "PolicyBreaksWatchContract", at: 3 * time.Minute,
		series: []string{`moderation_policy_outcome_mismatches_total{` + j + `, instance="a:8080"} 0 0 1 1`},
		firing: []string{`{instance="a:8080", job="moderation"}`}},
	{name: "the policy kept its watch contract", alert: "PolicyBreaksWatchContract", at: 3 * time.Minute,
		series: []string{`moderation_policy_outcome_mismatches_total{` + j + `, instance="a:8080"} 0 0 0 0`}},

	{name: "a decision refused", alert: "DecisionsRefused", at: 5 * time.Minute,
		series: []string{`moderation_decisions_refused_total{` + j + `, instance="a:8080"} 0 0 0 1 1 1`},
		firing: []string{`{instance="a:8080", job="moderation"}`}},
	{name: "a decision refused 17 minutes ago", alert: "DecisionsRefused", at: 20 * time.Minute,
		series: []string{`moderation_decisions_refused_total{` + j + `, instance="a:8080"} 0 0 0 1x17`}},

	{name: "the first candidate refused (its series born at 1)", alert: "PolicyReloadRefused", at: 5 * time.Minute,
		series: []string{`moderation_policy_reloads_total{` + j + `, instance="a:8080", policy="live", result="loaded"} 1x5`,
			`moderation_policy_reloads_total{` + j + `, instance="a:8080", policy="live", result="refused"} _ _ _ _ 1 1`},
		firing: []string{`{instance="a:8080", job="moderation", policy="live", result="refused"}`}},
	{name: "a second candidate refused", alert: "PolicyReloadRefused", at: 22 * time.Minute,
		series: []string{`moderation_policy_reloads_total{` + j + `, instance="a:8080", policy="shadow", result="refused"} 1x20 2 2`},
		firing: []string{`{instance="a:8080", job="moderation", policy="shadow", result="refused"}`}},
	{name: "a candidate refused half an hour ago, another loaded since", alert: "PolicyReloadRefused", at: 30 * time.Minute,
		series: []string{`moderation_policy_reloads_total{` + j + `, instance="a:8080", policy="live", result="refused"} 1x30`,
			`moderation_policy_reloads_total{` + j + `, instance="a:8080", policy="live", result="loaded"} 1x25 2 2 2 2 2`}},

	{name: "the first bad_state (its series born at 1)", alert: "PermanentFailures", at: 4 * time.Minute,
		series: []string{`moderation_permanent_failures_total{` + j + `, instance="a:8080", reason="bad_state"} _ _ _ 1 1`},
		firing: []string{`{instance="a:8080", job="moderation", reason="bad_state"}`}},
	{name: "another too_large", alert: "PermanentFailures", at: 12 * time.Minute,
		series: []string{`moderation_permanent_failures_total{` + j + `, instance="a:8080", reason="too_large"} 3x10 4 4`},
		firing: []string{`{instance="a:8080", job="moderation", reason="too_large"}`}},
	{name: "a permanent failure half an hour ago", alert: "PermanentFailures", at: 30 * time.Minute,
		series: []string{`moderation_permanent_failures_total{` + j + `, instance="a:8080", reason="bad_state"} 1x30`}},

	{name: "a decision record skipped", alert: "RecordsSkipped", at: 4 * time.Minute,
		series: []string{`moderation_records_skipped_total{` + j + `, instance="a:8080", source="decisions"} 0 0 0 2 2`,
			`moderation_records_skipped_total{` + j + `, instance="a:8080", source="appeals"} 0x4`},
		firing: []string{`{instance="a:8080", job="moderation", source="decisions"}`}},
	{name: "every record read", alert: "RecordsSkipped", at: 4 * time.Minute,
		series: []string{`moderation_records_skipped_total{` + j + `, instance="a:8080", source="decisions"} 0x4`}},
}

// lagSeries: partition 3 grows by 100 a minute (above 1,000 from minute
// 11), and another instance still reports it at 0; partition 1 stands high,
// partition 2 grows slowly and stays low, partition 4 drains.
var lagSeries = []string{
	`moderation_partition_lag{` + j + `, instance="a:8080", partition="1"} 5000x40`,
	`moderation_partition_lag{` + j + `, instance="a:8080", partition="2"} 0+1x40`,
	`moderation_partition_lag{` + j + `, instance="a:8080", partition="3"} 0+100x40`,
	`moderation_partition_lag{` + j + `, instance="b:8080", partition="3"} 0x40`,
	`moderation_partition_lag{` + j + `, instance="a:8080", partition="4"} 8000-100x40`,
}

// TestAlertsFire evaluates each alert of the rules file over histories
// as Prometheus would, every minute with its for: duration, and checks
// which alerts are firing at the end. Every alert has a history it must
// fire on and a near miss it must not.
func TestAlertsFire(t *testing.T) {
	rules := map[string]rulefmt.Rule{}
	for _, r := range loadRules(t) {
		rules[r.Alert] = r
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() { engine.Close() })
	fires, misses := map[string]bool{}, map[string]bool{}
	for _, c := range alertCases {
		t.Run(c.alert+"/"+c.name, func(t *testing.T) {
			r, ok := rules[c.alert]
			if !ok {
				t.Fatalf("no alert %s in %s", c.alert, rulesFile)
			}
			got := firingAt(t, engine, history(t, c.series...), r, c.at)
			if !slices.Equal(got, c.firing) {
				t.Errorf("%s at %s: firing %v, want %v\nexpr: %s", c.alert, c.at, got, c.firing, r.Expr)
			}
		})
		if len(c.firing) > 0 {
			fires[c.alert] = true
		} else {
			misses[c.alert] = true
		}
	}
	for name := range rules {
		if !fires[name] || !misses[name] {
			t.Errorf("alert %s: no case it must fire on, or none it must not (add one to alertCases)", name)
		}
	}
}

// firingAt evaluates the rule every minute from at-for to at, as the rule
// manager would with a one-minute interval: an alert fires at at when its
// labels were in every evaluation of that span. It returns each firing
// alert's labels from the expression, sorted.
func firingAt(t *testing.T, engine *promql.Engine, q storage.Queryable, r rulefmt.Rule, at time.Duration) []string {
	t.Helper()
	hold := time.Duration(r.For)
	start := time.UnixMilli(0).Add(at - hold)
	qry, err := engine.NewRangeQuery(context.Background(), q, nil, r.Expr, start, time.UnixMilli(0).Add(at), time.Minute)
	if err != nil {
		t.Fatalf("alert %s: %v", r.Alert, err)
	}
	defer qry.Close()
	res := qry.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("alert %s: %v", r.Alert, res.Err)
	}
	m, err := res.Matrix()
	if err != nil {
		t.Fatalf("alert %s: %v", r.Alert, err)
	}
	evaluations := int(hold/time.Minute) + 1
	var out []string
	for _, s := range m {
		if len(s.Floats) == evaluations {
			out = append(out, labels.NewBuilder(s.Metric).Del(model.MetricNameLabel).Labels().String())
		}
	}
	slices.Sort(out)
	return out
}

// history is storage holding the series, written as in Prometheus' own
// rule tests ("up{job="x"} 1 1 0 _ 0", "x 0+10x30"), a sample a minute
// from time 0. (promqltest would load them into a TSDB, whose imports bring
// every cloud SDK into go.mod; a list per series is all a query needs.)
func history(t *testing.T, series ...string) storage.Queryable {
	t.Helper()
	var all []storage.Series
	for _, s := range series {
		lbls, values, err := pql.ParseSeriesDesc(s)
		if err != nil {
			t.Fatalf("series %s: %v", s, err)
		}
		var samples []chunks.Sample
		for i, v := range values {
			if !v.Omitted {
				samples = append(samples, sample{t: int64(i) * time.Minute.Milliseconds(), f: v.Value})
			}
		}
		all = append(all, storage.NewListSeries(lbls, samples))
	}
	return &storage.MockQueryable{MockQuerier: &storage.MockQuerier{
		SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
			set := &seriesSet{}
			for _, s := range all {
				if matches(ms, s.Labels()) {
					set.series = append(set.series, s)
				}
			}
			slices.SortFunc(set.series, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
			return set
		},
	}}
}

func matches(ms []*labels.Matcher, l labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

// seriesSet hands out its series in order.
type seriesSet struct {
	series []storage.Series
	next   int
}

func (s *seriesSet) Next() bool                      { s.next++; return s.next <= len(s.series) }
func (s *seriesSet) At() storage.Series              { return s.series[s.next-1] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// sample is one float sample.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) ST() int64                     { return 0 }
func (s sample) F() float64                    { return s.f }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }
