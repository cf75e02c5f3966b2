package service

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"moderation/appeals"
)

// appealLister is the part of the appeals store the quality loop reads.
type appealLister interface {
	List(ctx context.Context, f appeals.Filter) ([]*appeals.Appeal, error)
}

// qualityStates are the values of moderation_appeals' state label, every
// one written for every rule so that a ratio of two states never misses a
// series.
var qualityStates = []appeals.State{appeals.Filed, appeals.InReview, appeals.Upheld, appeals.Overturned, appeals.Modified, appeals.Withdrawn}

// qualityListTimeout bounds one read of the store, by a scrape or a check:
// neither may hang on a stuck store.
const qualityListTimeout = 5 * time.Second

// qualityCollector reports how appeals judge the rules. It computes
// everything at scrape time from the store rather than counting as appeals
// move: the store is the truth, its in-memory index makes List cheap, and
// the numbers survive restarts and agree across instances.
type qualityCollector struct {
	list       appealLister
	level      float64
	minDecided int

	appeals    *prometheus.Desc
	filed      *prometheus.Desc
	rate       *prometheus.Desc
	oldestOpen *prometheus.Desc
	alert      *prometheus.Desc
	errors     prometheus.Counter
}

var _ prometheus.Collector = (*qualityCollector)(nil)

// newQualityCollector reports the appeals list returns; a rule whose
// overturn rate is above level with at least minDecided decided appeals is
// flagged in moderation_rule_overturn_alert.
func newQualityCollector(list appealLister, level float64, minDecided int) *qualityCollector {
	labels := []string{"rule", "policy_version"}
	return &qualityCollector{
		list: list, level: level, minDecided: minDecided,
		appeals: prometheus.NewDesc("moderation_appeals",
			"Appeals by the rule and policy version of the decision appealed, and by state now (filed counts those waiting unclaimed).",
			append(labels, "state"), nil),
		filed: prometheus.NewDesc("moderation_appeals_filed",
			"Appeals ever filed against the rule's decisions, whatever became of them; recomputed from the store, hence a gauge.",
			labels, nil),
		rate: prometheus.NewDesc("moderation_appeal_overturn_rate",
			"Share of the rule's decided appeals that were overturned or modified; absent until one is decided.",
			labels, nil),
		oldestOpen: prometheus.NewDesc("moderation_appeal_oldest_open_seconds",
			"How long the oldest appeal still waiting for a decision has waited; 0 when none waits.",
			nil, nil),
		alert: prometheus.NewDesc("moderation_rule_overturn_alert",
			fmt.Sprintf("1 when the rule's overturn rate is above %g with at least %d decided appeals.", level, minDecided),
			labels, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_appeal_quality_errors_total",
			Help: "Scrapes that could not read the appeals store and so left out the appeal series.",
		}),
	}
}

// Describe sends the fixed descriptors.
func (c *qualityCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.appeals, c.filed, c.rate, c.oldestOpen, c.alert} {
		ch <- d
	}
	c.errors.Describe(ch)
}

// Collect reads every appeal and measures them. A store that fails leaves
// the appeal series out of this scrape and counts it, rather than failing
// the whole scrape and hiding the pipeline's metrics with it.
func (c *qualityCollector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), qualityListTimeout)
	defer cancel()
	now := time.Now()
	all, err := c.list.List(ctx, appeals.Filter{Now: now})
	if err != nil {
		c.errors.Inc()
		return
	}
	q := appeals.Measure(all, now)
	flagged := map[appeals.RuleKey]bool{}
	for _, a := range q.Flagged(c.level, c.minDecided) {
		flagged[appeals.RuleKey{Rule: a.Rule, PolicyVersion: a.PolicyVersion}] = true
	}
	for k, s := range q.ByRule {
		byState := map[appeals.State]int{
			appeals.Filed: s.Open - s.InReview, appeals.InReview: s.InReview, appeals.Upheld: s.Upheld,
			appeals.Overturned: s.Overturned, appeals.Modified: s.Modified, appeals.Withdrawn: s.Withdrawn,
		}
		for _, st := range qualityStates {
			ch <- prometheus.MustNewConstMetric(c.appeals, prometheus.GaugeValue, float64(byState[st]), k.Rule, k.PolicyVersion, string(st))
		}
		ch <- prometheus.MustNewConstMetric(c.filed, prometheus.GaugeValue, float64(s.Filed), k.Rule, k.PolicyVersion)
		// A rate of 0 on no decided appeal would read as a rule never
		// overturned; leaving it out says there is nothing to judge yet.
		if s.Decided() > 0 {
			ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, s.OverturnRate(), k.Rule, k.PolicyVersion)
		}
		alert := 0.0
		if flagged[k] {
			alert = 1
		}
		ch <- prometheus.MustNewConstMetric(c.alert, prometheus.GaugeValue, alert, k.Rule, k.PolicyVersion)
	}
	ch <- prometheus.MustNewConstMetric(c.oldestOpen, prometheus.GaugeValue, q.OldestOpen.Seconds())
}

// watchOverturns checks the appeals every interval, at once on start so a
// restart restores what was flagged. It logs a warning the first time a
// rule (in one policy version) is flagged, and hands onFlagged the names
// of the flagged rules whenever that set changes, so the pipeline can stop
// enforcing them. A store that fails keeps the last set: a read error is
// no evidence that a rule got better. It returns when ctx ends.
func watchOverturns(ctx context.Context, list appealLister, level float64, minDecided int, interval time.Duration, log *slog.Logger, onFlagged func(rules []string)) {
	flagged := map[appeals.RuleKey]bool{}
	var rules []string // the rule names last handed to onFlagged
	check := func() {
		now := time.Now()
		listCtx, cancel := context.WithTimeout(ctx, qualityListTimeout)
		all, err := list.List(listCtx, appeals.Filter{Now: now})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("appeal quality check: list appeals", "err", err)
			}
			return
		}
		alerts := appeals.Measure(all, now).Flagged(level, minDecided)
		next := make(map[appeals.RuleKey]bool, len(alerts))
		names := map[string]bool{}
		for _, a := range alerts {
			k := appeals.RuleKey{Rule: a.Rule, PolicyVersion: a.PolicyVersion}
			next[k], names[a.Rule] = true, true
			if !flagged[k] {
				log.Warn(fmt.Sprintf("rule %s's decisions are overturned on appeal at %.0f%% (%d of %d decided appeals, policy %s), above the alert level of %.0f%%",
					a.Rule, 100*a.Rate, a.Overturned, a.Decided, a.PolicyVersion, 100*level),
					"rule", a.Rule, "policy_version", a.PolicyVersion, "overturn_rate", a.Rate, "overturned", a.Overturned, "decided", a.Decided)
			}
		}
		for k := range flagged {
			if !next[k] {
				log.Info(fmt.Sprintf("rule %s's overturn rate on appeal is back at or below %.0f%% (policy %s)", k.Rule, 100*level, k.PolicyVersion),
					"rule", k.Rule, "policy_version", k.PolicyVersion)
			}
		}
		flagged = next
		if sorted := slices.Sorted(maps.Keys(names)); !slices.Equal(sorted, rules) {
			rules = sorted
			if onFlagged != nil {
				onFlagged(slices.Clone(rules))
			}
		}
	}
	check()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			check()
		}
	}
}
