package service

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"moderation/internal/judge"
)

// policyMetrics count policy reloads and name the versions in force, so an
// operator sees a refused candidate without reading logs.
type policyMetrics struct {
	reloads *prometheus.CounterVec
	info    *prometheus.GaugeVec
	mu      sync.Mutex
	current map[string]string // label → version in force
}

func newPolicyMetrics(reg prometheus.Registerer) *policyMetrics {
	m := &policyMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moderation_policy_reloads_total", Help: "Policy candidates from a policy directory or bundle, loaded or refused (unverified signature, failed to compile or its own tests).",
		}, []string{"policy", "result"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "moderation_policy_version_info", Help: "The policy version in force (1), live and shadow.",
		}, []string{"policy", "version"}),
		current: map[string]string{},
	}
	reg.MustRegister(m.reloads, m.info)
	return m
}

func (m *policyMetrics) loaded(label string, p *judge.Policy) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.current[label]; ok {
		m.info.DeleteLabelValues(label, old)
	}
	m.current[label] = p.Version
	m.info.WithLabelValues(label, p.Version).Set(1)
	m.reloads.WithLabelValues(label, "loaded").Inc()
}

func (m *policyMetrics) refused(label string) {
	m.reloads.WithLabelValues(label, "refused").Inc()
}
