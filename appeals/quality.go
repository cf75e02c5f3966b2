package appeals

import (
	"cmp"
	"slices"
	"time"
)

// The quality loop: how often each rule's decisions are overturned on
// appeal. A rule whose decisions reviewers keep reversing is taking wrong
// decisions, and appeals are the only ground truth the service receives.

// RuleKey is one rule as one policy version wrote it: a rule's thresholds
// change between versions, so its quality is measured per version.
type RuleKey struct{ Rule, PolicyVersion string }

// RuleStats counts the appeals against one rule's decisions.
type RuleStats struct {
	Filed      int // every appeal ever filed, whatever became of it
	Open       int // waiting for a decision, claimed or not
	InReview   int // of Open, those under a live claim
	Upheld     int
	Overturned int
	Modified   int
	Withdrawn  int
}

// Decided is how many appeals a reviewer answered; a withdrawn appeal says
// nothing about the decision, so it is not one of them.
func (s RuleStats) Decided() int { return s.Upheld + s.Overturned + s.Modified }

// OverturnRate is the share of decided appeals that found the decision
// wrong: a modified decision was too harsh, so it counts with the
// overturned. 0 when none was decided.
func (s RuleStats) OverturnRate() float64 {
	if s.Decided() == 0 {
		return 0
	}
	return float64(s.Overturned+s.Modified) / float64(s.Decided())
}

// Quality is the appeals' verdict on the rules at one moment.
type Quality struct {
	ByRule     map[RuleKey]RuleStats
	OldestOpen time.Duration // how long the oldest open appeal has waited; 0 when none is open
}

// Measure counts all appeals by rule and policy version as they stand at
// now: a claim whose lease ran out is open again.
func Measure(all []*Appeal, now time.Time) Quality {
	q := Quality{ByRule: map[RuleKey]RuleStats{}}
	for _, a := range all {
		k := RuleKey{Rule: a.Rule, PolicyVersion: a.PolicyVersion}
		s := q.ByRule[k]
		s.Filed++
		switch a.StateAt(now) {
		case Filed:
			s.Open++
		case InReview:
			s.Open++
			s.InReview++
		case Upheld:
			s.Upheld++
		case Overturned:
			s.Overturned++
		case Modified:
			s.Modified++
		case Withdrawn:
			s.Withdrawn++
		}
		if a.Open(now) {
			q.OldestOpen = max(q.OldestOpen, now.Sub(a.FiledAt))
		}
		q.ByRule[k] = s
	}
	return q
}

// Alert is a rule whose decisions are overturned too often.
type Alert struct {
	Rule, PolicyVersion string
	Rate                float64
	Overturned          int // overturned or modified
	Decided             int
}

// Flagged lists the rules whose overturn rate is above level with at least
// minDecided decided appeals (a rate on 2 appeals means nothing), sorted
// by rule and policy version so that reports and logs are stable.
func (q Quality) Flagged(level float64, minDecided int) []Alert {
	var alerts []Alert
	for k, s := range q.ByRule {
		if s.Decided() == 0 || s.Decided() < minDecided || s.OverturnRate() <= level {
			continue
		}
		alerts = append(alerts, Alert{Rule: k.Rule, PolicyVersion: k.PolicyVersion,
			Rate: s.OverturnRate(), Overturned: s.Overturned + s.Modified, Decided: s.Decided()})
	}
	slices.SortFunc(alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.PolicyVersion, b.PolicyVersion))
	})
	return alerts
}
