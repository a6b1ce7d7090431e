package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ name, header string }{
		{"missing", ""},
		{"not bearer", "Basic YWRtaW46eA=="},
		{"empty bearer", "Bearer "},
		{"unknown token", "Bearer nobody.secret"},
		{"wrong secret", "Bearer acme-ops.guess"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/tenants", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d, WWW-Authenticate %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// The compat paths and the metrics need a token too (metrics an admin or system one); the probes
	// do not.
	f.call(t, "", "GET", "/nw/v1/tenants", nil).wantErr(t, 401, model.CodeUnauthenticated, "")
	f.call(t, "", "GET", "/healthz", nil).want(t, 200)
	f.call(t, "", "GET", "/readyz", nil).want(t, 200)
	f.call(t, "", "GET", "/metrics", nil).wantErr(t, 401, model.CodeUnauthenticated, "")
	f.call(t, "bad.token", "GET", "/metrics", nil).wantErr(t, 401, model.CodeUnauthenticated, "")
	f.call(t, f.acme, "GET", "/metrics", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.system, "GET", "/metrics", nil).want(t, 200)
	f.call(t, f.admin, "GET", "/metrics", nil).want(t, 200)
	f.call(t, "", "GET", "/nw/v1/tenants/admin/health", nil).want(t, 200)
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "GET", "/api/v1/tenant", nil).wantErr(t, 404, model.CodeNotFound, "")
	f.call(t, "", "GET", "/api/v2/tenants", nil).wantErr(t, 404, model.CodeNotFound, "")
	r := f.call(t, f.admin, "PATCH", "/api/v1/tenants/acme", `{}`)
	r.wantErr(t, 405, CodeMethodNotAllowed, "")
	if got := r.header.Get("Allow"); got != "GET, PUT, DELETE" {
		t.Fatalf("Allow %q", got)
	}
	f.call(t, f.admin, "POST", "/api/v1/pods/p1", `{}`).wantErr(t, 405, CodeMethodNotAllowed, "")
}

func TestBodyErrors(t *testing.T) {
	f := newFixture(t)
	const path = "/api/v1/tenants/acme/networks"
	for _, tc := range []struct {
		name, body, field, message string
		status                     int
		code                       model.Code
	}{
		{"empty", "", "", "empty", 400, model.CodeInvalid},
		{"array", `[{"name":"x"}]`, "", "JSON object", 400, model.CodeInvalid},
		{"syntax", `{"name":"x",}`, "", "not valid JSON", 400, model.CodeInvalid},
		{"truncated", `{"name":"x"`, "", "ends early", 400, model.CodeInvalid},
		{"trailing", `{"name":"x"} {}`, "", "exactly one", 400, model.CodeInvalid},
		{"unknown top", `{"nmae":"x"}`, "nmae", `did you mean "name"?`, 400, model.CodeInvalid},
		{"unknown nested", `{"name":"x","ipv4":{"cidrr":"10.4.0.0/24"}}`, "ipv4.cidrr", `did you mean "cidr"?`, 400, model.CodeInvalid},
		{"unknown in array", `{"name":"x","ipv4":{"cidr":"10.4.0.0/24","routes":[{"dst":"0.0.0.0/0"},{"dts":"1.0.0.0/8"}]}}`, "ipv4.routes[1].dts", `did you mean "dst"?`, 400, model.CodeInvalid},
		{"unknown far", `{"name":"x","color":"red"}`, "color", "the fields here are", 400, model.CodeInvalid},
		{"dash for underscore", `{"name":"x","physical-network":"eth1"}`, "physical-network", `did you mean "physical_network"?`, 400, model.CodeInvalid},
		{"string for object", `{"name":"x","ipv4":"10.4.0.0/24"}`, "ipv4", "expects an object, got a string", 400, model.CodeInvalid},
		{"string for int", `{"name":"x","mtu":"1500"}`, "mtu", "expects an integer", 400, model.CodeInvalid},
		{"fraction", `{"name":"x","mtu":1500.5}`, "mtu", "expects an integer", 400, model.CodeInvalid},
		{"out of range", `{"name":"x","vlan":65536}`, "vlan", "0 to 65535", 400, model.CodeInvalid},
		{"number for string", `{"name":7}`, "name", "expects a string, got a number 7", 400, model.CodeInvalid},
		{"bad address", `{"name":"x","ipv4":{"cidr":"10.4.0.0/24","gateway":"10.4.0.256"}}`, "ipv4.gateway", "not a valid IP address", 400, model.CodeInvalid},
		{"bad range", `{"name":"x","ipv4":{"cidr":"10.4.0.0/24","ranges":[{"start":"10.4.0.10","end":"x"}]}}`, "ipv4.ranges[0].end", "not a valid IP address", 400, model.CodeInvalid},
		{"address for prefix", `{"name":"x","ipv4":{"cidr":"10.4.0.0"}}`, "ipv4.cidr", "not a valid prefix", 400, model.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any = tc.body
			e := f.call(t, f.acme, "POST", path, body).wantErr(t, tc.status, tc.code, tc.field)
			if !strings.Contains(e.Message, tc.message) {
				t.Fatalf("message %q does not contain %q", e.Message, tc.message)
			}
		})
	}
	// encoding/json matches field names case-insensitively; so does the check.
	f.call(t, f.acme, "POST", path, `{"NAME":"ok","Type":"overlay","ipv4":{"CIDR":"10.4.0.0/24"}}`).want(t, 201)
	// null is "not given".
	f.call(t, f.acme, "POST", path, `{"name":"ok2","type":"overlay","ipv6":null,"ipv4":{"cidr":"10.6.0.0/24","routes":null}}`).want(t, 201)
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	big := `{"name":"x","ips":["` + strings.Repeat("1", MaxBodyBytes) + `"]}`
	f.call(t, f.acme, "POST", "/api/v1/tenants/acme/ipgroups", big).wantErr(t, 413, CodeTooLarge, "")
}

// faultyBackend lets a test make one Backend method fail or panic.
type faultyBackend struct {
	*testBackend
	doErr   error
	doPanic bool
	authErr error
}

func (b *faultyBackend) Do(ctx context.Context, c alloc.Command) (any, error) {
	if b.doPanic {
		panic("boom")
	}
	if b.doErr != nil {
		return nil, b.doErr
	}
	return b.testBackend.Do(ctx, c)
}

func (b *faultyBackend) Authenticate(token string) (alloc.Actor, error) {
	if b.authErr != nil {
		return alloc.Actor{}, b.authErr
	}
	return b.testBackend.Authenticate(token)
}

func faultyServer(t *testing.T, fb *faultyBackend) *httptest.Server {
	srv := httptest.NewServer(NewServer(fb, Options{Logger: quietLogger()}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBackendFailures(t *testing.T) {
	fb := &faultyBackend{testBackend: newTestBackend(t)}
	srv := faultyServer(t, fb)
	call := func(method, path, body string) resp {
		var b any
		if body != "" {
			b = body
		}
		return doRequest(t, srv.Client(), srv.URL, adminToken, method, path, b)
	}

	fb.doErr = errors.New("etcd: connection to 10.0.0.9 refused (secret detail)")
	e := call("POST", "/api/v1/tenants", `{"name":"x"}`).wantErr(t, 500, CodeInternal, "")
	if strings.Contains(e.Message, "secret detail") {
		t.Fatalf("500 leaks internals: %q", e.Message)
	}

	fb.doErr = model.Errorf(model.CodeUnavailable, "", "store write failed")
	r := call("POST", "/api/v1/tenants", `{"name":"x"}`)
	r.wantErr(t, 503, model.CodeUnavailable, "")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	fb.doErr = errors.Join(errors.New("lost the lease"), ErrUnavailable)
	call("DELETE", "/api/v1/pods/p1", "").wantErr(t, 503, model.CodeUnavailable, "")

	fb.doErr, fb.doPanic = nil, true
	call("POST", "/api/v1/tenants", `{"name":"x"}`).wantErr(t, 500, CodeInternal, "")
	fb.doPanic = false
	call("POST", "/api/v1/tenants", `{"name":"x"}`).want(t, 201) // still serving

	fb.authErr = model.Errorf(model.CodeUnavailable, "", "state not loaded")
	call("GET", "/api/v1/tenants", "").wantErr(t, 503, model.CodeUnavailable, "")
}

func TestNotLeader(t *testing.T) {
	f := newFixture(t)
	f.b.setStatus(Status{Ready: true, Leader: false, LeaderURL: "https://10.0.0.2:9527", Reason: "standby"})
	r := f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"x"}`)
	e := r.wantErr(t, 503, model.CodeUnavailable, "")
	if !strings.Contains(e.Message, "https://10.0.0.2:9527") || r.header.Get("Retry-After") == "" {
		t.Fatalf("503 %+v, Retry-After %q", e, r.header.Get("Retry-After"))
	}
	f.call(t, f.admin, "GET", "/api/v1/tenants", nil).wantErr(t, 503, model.CodeUnavailable, "")
	// Probes are answered by every manager.
	f.call(t, "", "GET", "/healthz", nil).want(t, 200)
	var st Status
	f.call(t, "", "GET", "/readyz", nil).want(t, 200).decode(t, &st)
	if st.Leader || st.LeaderURL != "https://10.0.0.2:9527" {
		t.Fatalf("readyz %+v", st)
	}
	f.b.setStatus(Status{Reason: "loading state from etcd"})
	e = f.call(t, "", "GET", "/readyz", nil).wantErr(t, 503, model.CodeUnavailable, "")
	if !strings.Contains(e.Message, "loading state from etcd") {
		t.Fatalf("readyz message %q", e.Message)
	}
}
