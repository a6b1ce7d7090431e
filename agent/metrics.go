package agent

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the agent's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	orphans *prometheus.CounterVec
}

// NewMetrics registers the agent's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "knitter_agent_orphans_reclaimed_total",
			Help: "Attachments the agent removed because no DEL came for them, by reason (netns_gone, pod_gone).",
		}, []string{"reason"}),
	}
	for _, r := range []string{ReclaimNetnsGone, ReclaimPodGone} {
		m.orphans.WithLabelValues(r) // exported at zero from the start
	}
	reg.MustRegister(m.orphans)
	return m
}

func (m *Metrics) reclaimed(reason string) {
	if m == nil {
		return
	}
	m.orphans.WithLabelValues(reason).Inc()
}

// Orphans is the reclaim counter of reason, for tests and dashboards that read it directly.
func (m *Metrics) Orphans(reason string) prometheus.Counter { return m.orphans.WithLabelValues(reason) }
