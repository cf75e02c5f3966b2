package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"moderation/internal/judge"
	"moderation/internal/moderation"
)

// Metrics are the pipeline's Prometheus series.
type Metrics struct {
	Events       *prometheus.CounterVec
	DeadLetters  *prometheus.CounterVec
	Decisions    *prometheus.CounterVec
	Evaluations  prometheus.Counter
	Refused      prometheus.Counter
	Errors       prometheus.Counter
	Shadow       *prometheus.CounterVec
	ShadowErrors prometheus.Counter
	Suppressed   *prometheus.CounterVec
	// Permanent counts failures retrying cannot cure, by reason: each
	// sent an event to the dead letters (or, for dead_letter_failed, left
	// it only in the events stream). Alert on any increase.
	Permanent            *prometheus.CounterVec
	DeadLettersTruncated prometheus.Counter
	StreamsRedeclared    *prometheus.CounterVec

	// Per partition (docs/DESIGN.md, Scaling out): whether a lane of this
	// instance holds it, its events not yet acknowledged (see the help),
	// its events acknowledged here.
	PartitionOwned  *prometheus.GaugeVec
	PartitionLag    *prometheus.GaugeVec
	PartitionEvents *prometheus.CounterVec
	// PartitionsUnowned counts partitions with events waiting and no lane
	// pinned to them, as this instance last saw the consumers.
	PartitionsUnowned prometheus.Gauge

	byKind map[moderation.Kind]prometheus.Counter // resolved once: label lookups cost on the hot path
}

// NewMetrics registers the pipeline's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_events_total", Help: "Valid events processed, by kind.",
		}, []string{"kind"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_dead_letters_total", Help: "Events sent to the dead-letter stream, by reason.",
		}, []string{"reason"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_decisions_total", Help: "Enforcement decisions made, by action and rule.",
		}, []string{"action", "rule"}),
		Evaluations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_policy_evaluations_total", Help: "Times the policy was evaluated.",
		}),
		Refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_decisions_refused_total", Help: "Decisions not enforced because the policy failed or left the statement of reasons incomplete.",
		}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_pipeline_retries_total", Help: "Pipeline steps retried after a NATS failure.",
		}),
		Shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_shadow_decisions_total", Help: "Shadow policy answers compared with the live one's: agree, stricter or looser, by the rule that made the difference.",
		}, []string{"agreement", "rule"}),
		ShadowErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_shadow_errors_total", Help: "Shadow policy evaluations that failed.",
		}),
		Suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_suppressed_decisions_total", Help: "Verdicts not enforced because their rule is suppressed, by rule.",
		}, []string{"rule"}),
		Permanent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_permanent_failures_total", Help: "Events the pipeline gave up on because retrying could not help (too_large, bad_state, missing_stream, dead_letter_failed); each is dead-lettered and logged at ERROR.",
		}, []string{"reason"}),
		DeadLettersTruncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moderation_dead_letters_truncated_total", Help: "Dead letters whose data was cut to fit the server's maximum payload (the original stays in the events stream).",
		}),
		StreamsRedeclared: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_streams_redeclared_total", Help: "Streams found missing by the pipeline and declared again, by stream.",
		}, []string{"stream"}),
		PartitionOwned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "moderation_partition_owned", Help: "1 while a lane of this instance holds the partition, else 0.",
		}, []string{"partition"}),
		PartitionLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "moderation_partition_lag", Help: "Events of the partition delivered or stored and not yet acknowledged, as this instance sees them: partitioned, its consumer's pending and in-flight events; alone, the crossings queued in its lane (its other events are acknowledged as they are counted).",
		}, []string{"partition"}),
		PartitionEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_partition_events_total", Help: "Events this instance's lanes acknowledged, by partition.",
		}, []string{"partition"}),
		PartitionsUnowned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "moderation_partitions_unowned", Help: "Partitions with events waiting and no lane of any instance pinned to them.",
		}),
		byKind: make(map[moderation.Kind]prometheus.Counter),
	}
	for _, k := range []moderation.Kind{moderation.KindBroadcast, moderation.KindFriendAdd, moderation.KindComplaint, moderation.KindUnfollow, moderation.KindFriendResponse} {
		m.byKind[k] = m.Events.WithLabelValues(string(k))
	}
	reg.MustRegister(m.Events, m.DeadLetters, m.Decisions, m.Evaluations, m.Refused, m.Errors, m.Shadow, m.ShadowErrors, m.Suppressed,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "moderation_policy_memo_hits_total", Help: "Policy evaluations answered from the memo of verdicts, without OPA.",
		}, func() float64 { return float64(judge.MemoHits()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "moderation_policy_outcome_hits_total", Help: "Policy evaluations that changed nothing, answered from the memo of actions by the levels reached, without OPA.",
		}, func() float64 { return float64(judge.OutcomeHits()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "moderation_policy_outcome_mismatches_total", Help: "Checks that found a policy's action change between its watched levels, switching its memo of actions off: the policy breaks its watch contract.",
		}, func() float64 { return float64(judge.OutcomeMismatches()) }),
		m.Permanent, m.DeadLettersTruncated, m.StreamsRedeclared, m.PartitionOwned, m.PartitionLag, m.PartitionEvents, m.PartitionsUnowned)
	return m
}

func (m *Metrics) event(k moderation.Kind) { m.byKind[k].Inc() }

func (m *Metrics) deadLetter(reason string) { m.DeadLetters.WithLabelValues(reason).Inc() }

func (m *Metrics) permanent(reason string) { m.Permanent.WithLabelValues(reason).Inc() }

func (m *Metrics) shadow(agreement, rule string) { m.Shadow.WithLabelValues(agreement, rule).Inc() }

func (m *Metrics) suppressed(rule string) { m.Suppressed.WithLabelValues(rule).Inc() }

func (m *Metrics) decision(a moderation.Action, rule string) {
	m.Decisions.WithLabelValues(string(a), rule).Inc()
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// Evaluations is how often the policy has been asked since start.
func (p *Pipeline) Evaluations() float64 { return counterValue(p.metrics.Evaluations) }

// Decisions is how many decisions were enforced since start.
func (p *Pipeline) Decisions() float64 {
	var total float64
	ch := make(chan prometheus.Metric, 64)
	go func() { p.metrics.Decisions.Collect(ch); close(ch) }()
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil {
			total += d.GetCounter().GetValue()
		}
	}
	return total
}
