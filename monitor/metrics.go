package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
)

// Metrics are the monitor's Prometheus metrics.
type Metrics struct {
	reg           prometheus.Registerer
	syncDuration  *prometheus.HistogramVec
	syncErrors    *prometheus.CounterVec
	allocationLag prometheus.Histogram
	observedLag   prometheus.Histogram
	releases      *prometheus.CounterVec
	releasedPorts *prometheus.CounterVec
	warnings      *prometheus.CounterVec
	statusWrites  prometheus.Counter
	lastReconcile prometheus.Gauge
	// Leader is 1 while this monitor holds the lease.
	Leader prometheus.Gauge
}

// NewMetrics creates the metrics and registers them on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "knitter_monitor_sync_duration_seconds",
			Help: "Time of one sync handler call (pod, node, reconcile).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"handler"}),
		syncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "knitter_monitor_sync_errors_total",
			Help: "Sync handler calls that failed and will be retried."}, []string{"handler"}),
		allocationLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "knitter_monitor_allocation_lag_seconds",
			Help: "Time from a pod's creationTimestamp until its ports were allocated. The timestamp is truncated to " +
				"the second, so this overstates the lag by up to 1 s (see knitter_monitor_allocation_lag_observed_seconds).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		observedLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "knitter_monitor_allocation_lag_observed_seconds",
			Help: "Time from the moment this monitor's informer delivered a new pod until its ports were allocated " +
				"(queue wait, resolution and the manager's answer; not the API server's watch delay).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		releases: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "knitter_monitor_releases_total",
			Help: "Pods whose ports the monitor released, by reason."}, []string{"reason"}),
		releasedPorts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "knitter_monitor_reconcile_released_ports_total",
			Help: "Ports the periodic reconcile freed, by reason."}, []string{"reason"}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "knitter_monitor_warning_events_total",
			Help: "Warning events written on pods, by reason."}, []string{"reason"}),
		statusWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "knitter_monitor_network_status_writes_total",
			Help: "network-status annotations written."}),
		lastReconcile: prometheus.NewGauge(prometheus.GaugeOpts{Name: "knitter_monitor_last_reconcile_timestamp_seconds",
			Help: "When the last successful reconcile started (Unix time)."}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "knitter_monitor_leader", Help: "1 while this monitor holds the lease."}),
	}
	if reg != nil {
		reg.MustRegister(m.syncDuration, m.syncErrors, m.allocationLag, m.observedLag, m.releases, m.releasedPorts, m.warnings,
			m.statusWrites, m.lastReconcile, m.Leader)
	}
	return m
}

// watchQueues exports the depth of the queues.
func (m *Metrics) watchQueues(pods workqueue.TypedRateLimitingInterface[PodKey], nodes workqueue.TypedRateLimitingInterface[string]) {
	if m.reg == nil {
		return
	}
	depth := func(name string, f func() int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knitter_monitor_queue_depth",
			Help: "Keys waiting in a work queue.", ConstLabels: prometheus.Labels{"queue": name}}, func() float64 { return float64(f()) })
	}
	m.reg.MustRegister(depth("pods", pods.Len), depth("nodes", nodes.Len))
}

// observeSync records one handler call; deferred with the handler's named error.
func (m *Metrics) observeSync(handler string, c Clock, start time.Time, err *error) {
	m.syncDuration.WithLabelValues(handler).Observe(c.Now().Sub(start).Seconds())
	if *err != nil {
		m.syncErrors.WithLabelValues(handler).Inc()
	}
}

// newLimiter bounds the retries of all pods together: 50 per second, bursts of 300.
func newLimiter() *rate.Limiter { return rate.NewLimiter(rate.Limit(50), 300) }
