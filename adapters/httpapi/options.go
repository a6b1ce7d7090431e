package httpapi

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxBodyBytes bounds a request body. The largest legitimate body, an IP group of 4096 addresses, is
// far below it.
const MaxBodyBytes = 1 << 20

// Options configure the server.
type Options struct {
	// Logger gets one line per request (debug for successes, info for refusals, error for failures);
	// nil means slog.Default().
	Logger *slog.Logger
	// Registry receives the request metrics and is served on /metrics; nil means a private registry.
	Registry *prometheus.Registry
	// Proxy makes a manager that is not the leader forward requests to Status().LeaderURL instead
	// of answering 503.
	Proxy bool
	// ProxyTLS is the client TLS configuration for proxying to the leader (its CA); nil means the
	// system roots.
	ProxyTLS *tls.Config
	// RetryAfter is the Retry-After of 503 and 429 answers; 0 means one second.
	RetryAfter time.Duration
	// MaxInFlightPerClient bounds the requests one client (a caller at one address) may have in
	// flight; more are answered 429. 0 means DefaultMaxInFlightPerClient, negative no bound.
	MaxInFlightPerClient int
}
