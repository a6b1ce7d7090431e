package agent

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the agent's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	orphans *prometheus.CounterVec
	gates   *prometheus.CounterVec
}

// NewMetrics registers the agent's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "knitter_agent_orphans_reclaimed_total",
			Help: "Attachments the agent removed because no DEL came for them, by reason (netns_gone, pod_gone).",
		}, []string{"reason"}),
		gates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "knitter_agent_peer_gate_total",
			Help: "Overlay ADDs that asked the manager whether every live node had applied this node's registration, by outcome (passed, timeout, error).",
		}, []string{"outcome"}),
	}
	for _, r := range []string{ReclaimNetnsGone, ReclaimPodGone} {
		m.orphans.WithLabelValues(r) // exported at zero from the start
	}
	for _, o := range []string{GatePassed, GateTimeout, GateError} {
		m.gates.WithLabelValues(o)
	}
	reg.MustRegister(m.orphans, m.gates)
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

func (m *Metrics) gate(outcome string) {
	if m != nil {
		m.gates.WithLabelValues(outcome).Inc()
	}
}

// Gate is the peer-gate counter of outcome (GatePassed, GateTimeout, GateError).
func (m *Metrics) Gate(outcome string) prometheus.Counter { return m.gates.WithLabelValues(outcome) }
