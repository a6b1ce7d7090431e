package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's request counters and latencies, labelled by route pattern (bounded: one
// per registered route, plus "unmatched") and status code.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "knitter_http_requests_total",
			Help: "API requests answered, by route pattern and HTTP status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "knitter_http_request_duration_seconds",
			Help:    "Time to answer an API request, by route pattern and HTTP status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"route", "code"}),
	}
	m.requests = register(reg, m.requests)
	m.latency = register(reg, m.latency)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// register adds c to reg, or returns the collector already registered under its name (two servers
// on one registry share their metrics instead of panicking).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("httpapi: registering metrics: " + err.Error())
	}
	return c
}

// serveMetrics answers /metrics for admin and system tokens (Prometheus scrapes with a system
// token): the metrics name every tenant's networks, so tenants and anonymous callers may not read
// them.
func (s *Server) serveMetrics(c *call) (int, any, error) {
	if !c.actor.Admin && !c.actor.System {
		return 0, nil, model.Errorf(model.CodeForbidden, "", "only admin and system tokens may read /metrics; scrape with a system token")
	}
	if err := checkQuery(c.r); err != nil {
		return 0, nil, err
	}
	s.metrics.handler.ServeHTTP(c.w, c.r)
	return 0, nil, nil
}

func (m *metrics) observe(route string, status int, took time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(took.Seconds())
}
