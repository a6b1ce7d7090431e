package manager

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Metrics are the manager's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	commands    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	allocations prometheus.Counter
	loadSeconds prometheus.Gauge
	loadRecords prometheus.Gauge
	gateLate    prometheus.Counter
}

// NewMetrics registers the manager's metrics with reg, including a pool-utilisation collector that
// reads m's state on every scrape.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	x := &Metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "knitter_manager_commands_total", Help: "Commands applied, by operation and result code (ok, or the error code).",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "knitter_manager_command_duration_seconds", Help: "Time from a command's arrival until it is durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"op"}),
		allocations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "knitter_manager_port_allocations_total", Help: "Ports allocated (first allocations, not idempotent retries).",
		}),
		loadSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "knitter_manager_state_load_seconds", Help: "Time the last state load from the store took.",
		}),
		loadRecords: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "knitter_manager_state_load_records", Help: "Records read by the last state load.",
		}),
		gateLate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "knitter_manager_peer_gate_timeouts_total",
			Help: "Peer-gate waits (WaitPeersApplied) that ended with live agents not having applied the node's registration.",
		}),
	}
	reg.MustRegister(x.commands, x.latency, x.allocations, x.loadSeconds, x.loadRecords, x.gateLate)
	return x
}

func (x *Metrics) observe(c alloc.Command, err error, took time.Duration) {
	if x == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = string(model.CodeOf(err))
		if result == "" {
			result = "error"
		}
	}
	x.commands.WithLabelValues(c.Op(), result).Inc()
	x.latency.WithLabelValues(c.Op()).Observe(took.Seconds())
}

// peerGateTimedOut counts a peer-gate wait that ended before every live agent had applied.
func (x *Metrics) peerGateTimedOut() {
	if x != nil {
		x.gateLate.Inc()
	}
}

// allocated counts the ports of a first (not retried) allocation.
func (x *Metrics) allocated(ports int) {
	if x != nil {
		x.allocations.Add(float64(ports))
	}
}

func (x *Metrics) observeLoad(took time.Duration, records int) {
	if x == nil {
		return
	}
	x.loadSeconds.Set(took.Seconds())
	x.loadRecords.Set(float64(records))
}

// poolCollector exports every network's pool usage at scrape time.
type poolCollector struct {
	m                           *Manager
	capacity, used, cool, holds *prometheus.Desc
}

// RegisterPoolMetrics registers gauges of every network's address pool usage, read from m at scrape
// time.
func RegisterPoolMetrics(reg prometheus.Registerer, m *Manager) error {
	labels := []string{"network", "family"}
	c := &poolCollector{
		m:        m,
		capacity: prometheus.NewDesc("knitter_pool_capacity_addresses", "Allocatable addresses of a network's subnet.", labels, nil),
		used:     prometheus.NewDesc("knitter_pool_used_addresses", "Addresses in use by ports or IP groups.", labels, nil),
		cool:     prometheus.NewDesc("knitter_pool_cooling_addresses", "Released addresses still in cooldown.", labels, nil),
		holds:    prometheus.NewDesc("knitter_pool_held_addresses", "Addresses held for sticky owners.", labels, nil),
	}
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		return nil
	}
	return err
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.capacity
	ch <- c.used
	ch <- c.cool
	ch <- c.holds
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	_ = c.m.View(func(s *alloc.State) {
		for _, n := range s.Networks(alloc.Admin, "") {
			v4, v6, _ := s.PoolStats(n.Key())
			for fam, st := range map[string]struct {
				present                        bool
				capacity, used, cooling, holds uint64
			}{
				"ipv4": {n.IPv4 != nil, v4.Capacity, v4.Used, v4.Cooling, v4.Held},
				"ipv6": {n.IPv6 != nil, v6.Capacity, v6.Used, v6.Cooling, v6.Held},
			} {
				if !st.present {
					continue
				}
				ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(st.capacity), n.Key(), fam)
				ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(st.used), n.Key(), fam)
				ch <- prometheus.MustNewConstMetric(c.cool, prometheus.GaugeValue, float64(st.cooling), n.Key(), fam)
				ch <- prometheus.MustNewConstMetric(c.holds, prometheus.GaugeValue, float64(st.holds), n.Key(), fam)
			}
		}
	})
}
