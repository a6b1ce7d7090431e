package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "GET", "/api/v1/tenants", nil).want(t, 200)
	f.call(t, f.admin, "GET", "/api/v1/tenants", nil).want(t, 200)
	f.call(t, "", "GET", "/api/v1/tenants", nil).want(t, 401)
	f.call(t, f.admin, "GET", "/api/v1/tenants/nope", nil).want(t, 404)
	f.call(t, f.admin, "GET", "/no/such/path/"+strings.Repeat("x", 10), nil).want(t, 404)

	// A second server on the same registry shares the metrics instead of panicking.
	second := httptest.NewServer(NewServer(f.b, Options{Logger: quietLogger(), Registry: f.reg}))
	defer second.Close()
	doRequest(t, second.Client(), second.URL, f.admin, "GET", "/api/v1/tenants", nil).want(t, 200)

	body := string(f.call(t, f.system, "GET", "/metrics", nil).want(t, 200).body)
	for _, want := range []string{
		`knitter_http_requests_total{code="200",route="GET /api/v1/tenants"} 3`,
		`knitter_http_requests_total{code="401",route="GET /api/v1/tenants"} 1`,
		`knitter_http_requests_total{code="404",route="GET /api/v1/tenants/{tenant}"} 1`,
		`knitter_http_requests_total{code="404",route="unmatched"} 1`,
		`knitter_http_request_duration_seconds_count{code="200",route="GET /api/v1/tenants"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
