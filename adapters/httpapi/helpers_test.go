package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/prometheus/client_golang/prometheus"
)

// fixture is a server on a real backend with three tenants: acme and beta (ordinary) and infra (an
// admin tenant with a public network), and a token for each role.
type fixture struct {
	b      *testBackend
	srv    *httptest.Server
	reg    *prometheus.Registry
	admin  string
	system string
	acme   string // tenant token of acme
	beta   string // tenant token of beta
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := newTestBackend(t)
	grant := []string{"eth1"} // vlan networks of the tests use it
	for _, tn := range []model.Tenant{{Name: "acme", PhysicalNetworks: grant}, {Name: "beta", PhysicalNetworks: grant}, {Name: "infra", Admin: true, PhysicalNetworks: grant}} {
		b.mustDo(t, alloc.CreateTenantCmd{Tenant: tn})
	}
	for _, n := range []model.Network{
		overlay("acme", "net-a", "10.1.0.0/24"),
		overlay("beta", "net-b", "10.2.0.0/24"),
		func() model.Network { n := overlay("infra", "shared", "10.9.0.0/24"); n.Public = true; return n }(),
	} {
		b.mustDo(t, alloc.CreateNetworkCmd{Network: n})
	}
	f := &fixture{b: b, reg: prometheus.NewRegistry(), admin: adminToken}
	f.system = b.token(t, "agent", model.RoleSystem, "")
	f.acme = b.token(t, "acme-ops", model.RoleTenant, "acme")
	f.beta = b.token(t, "beta-ops", model.RoleTenant, "beta")
	f.srv = httptest.NewServer(NewServer(b, Options{Logger: quietLogger(), Registry: f.reg}))
	t.Cleanup(f.srv.Close)
	return f
}

func overlay(tenant, name, cidr string) model.Network {
	return model.Network{Name: name, Tenant: tenant, Type: model.Overlay,
		IPv4: &model.Subnet{CIDR: netip.MustParsePrefix(cidr), Gateway: netip.MustParsePrefix(cidr).Addr().Next()}}
}

// resp is one answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with token (none if empty). body is sent as is when it is a string, else as
// JSON; nil sends no body.
func (f *fixture) call(t *testing.T, token, method, path string, body any) resp {
	t.Helper()
	return doRequest(t, f.srv.Client(), f.srv.URL, token, method, path, body)
}

func doRequest(t *testing.T, c *http.Client, base, token, method, path string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

// want fails unless the answer has status.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// decode decodes the answer into v.
func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// wantErr fails unless the answer is an error with status, code and field.
func (r resp) wantErr(t *testing.T, status int, code model.Code, field string) ErrorBody {
	t.Helper()
	r.want(t, status)
	var e ErrorBody
	r.decode(t, &e)
	if e.Code != code || e.Field != field {
		t.Fatalf("error %+v, want code %q field %q", e, code, field)
	}
	if e.Message == "" {
		t.Fatalf("error %+v has no message", e)
	}
	return e
}
