package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func newClient(t *testing.T, url, token string) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{URL: url, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCode fails unless err is a *model.Error with code and field.
func wantCode(t *testing.T, err error, code model.Code, field string) *model.Error {
	t.Helper()
	var e *model.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("error %v (%T), want code %q field %q", err, err, code, field)
	}
	if unavailable := errors.Is(err, ErrUnavailable); unavailable != (code == model.CodeUnavailable) {
		t.Fatalf("errors.Is(%v, ErrUnavailable) = %v", err, unavailable)
	}
	return e
}

// result holds a call's value and error, so that got(c.X(ctx)).must(t) reads in one line.
type result[T any] struct {
	v   T
	err error
}

func got[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func TestClientRoutes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, acme, agent := newClient(t, f.srv.URL, f.admin), newClient(t, f.srv.URL, f.acme), newClient(t, f.srv.URL, f.system)

	if ti := got(admin.CreateTenant(ctx, model.Tenant{Name: "gamma"})).must(t); ti.Name != "gamma" {
		t.Fatalf("created %+v", ti)
	}
	if ti := got(admin.UpdateTenant(ctx, model.Tenant{Name: "gamma", Quota: model.Quota{Ports: 9}})).must(t); ti.Quota.Ports != 9 {
		t.Fatalf("updated %+v", ti)
	}
	if l := got(acme.ListTenants(ctx)).must(t); len(l) != 1 {
		t.Fatalf("acme lists %+v", l)
	}
	if ti := got(acme.GetTenant(ctx, "acme")).must(t); ti.Usage.Networks != 1 {
		t.Fatalf("acme %+v", ti)
	}
	if err := admin.DeleteTenant(ctx, "gamma"); err != nil {
		t.Fatal(err)
	}

	n := overlay("acme", "net-c", "10.3.0.0/24")
	if got := got(acme.CreateNetwork(ctx, n)).must(t); got.VNI == 0 {
		t.Fatalf("created %+v", got)
	}
	if l := got(acme.ListNetworks(ctx, "acme")).must(t); len(l) != 2 {
		t.Fatalf("acme networks %+v", l)
	}
	if l := got(acme.ListNetworks(ctx, "")).must(t); len(l) != 3 {
		t.Fatalf("visible networks %+v", l)
	}
	if ni := got(acme.GetNetwork(ctx, "acme", "net-c")).must(t); ni.Stats == nil || ni.Stats.IPv4.Capacity == 0 {
		t.Fatalf("network %+v", ni)
	}
	if _, err := acme.CreateNetwork(ctx, overlay("acme", "net-d", "10.7.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if err := acme.DeleteNetwork(ctx, "acme", "net-d"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, acme.DeleteNetwork(ctx, "acme", "net-d"), model.CodeNotFound, "name")

	g := got(acme.CreateIPGroup(ctx, model.IPGroup{Name: "web", Tenant: "acme", Network: "net-c", Size: 2})).must(t)
	if len(g.IPs) != 2 {
		t.Fatalf("group %+v", g)
	}
	g.IPs = g.IPs[:1]
	if got := got(acme.UpdateIPGroup(ctx, g)).must(t); len(got.IPs) != 1 {
		t.Fatalf("updated %+v", got)
	}
	if got := got(acme.GetIPGroup(ctx, "acme", "web")).must(t); got.Size != 1 {
		t.Fatalf("group %+v", got)
	}
	if l := got(acme.ListIPGroups(ctx, "acme", "net-c")).must(t); len(l) != 1 {
		t.Fatalf("groups %+v", l)
	}
	if err := acme.DeleteIPGroup(ctx, "acme", "web"); err != nil {
		t.Fatal(err)
	}

	node := got(agent.RegisterNode(ctx, model.Node{Name: "n1", VTEP: netip.MustParseAddr("192.168.0.1")})).must(t)
	if node.VTEP.String() != "192.168.0.1" {
		t.Fatalf("node %+v", node)
	}
	req := podReq("p1", "acme", "net-c")
	pod, created, err := agent.AllocatePod(ctx, req)
	if err != nil || !created || len(pod.Ports) != 1 {
		t.Fatalf("allocate: %+v created=%v err=%v", pod, created, err)
	}
	if _, created, err := acme.AllocatePod(ctx, req); err != nil || created {
		t.Fatalf("retry: created=%v err=%v", created, err)
	}
	if p := got(agent.BindPod(ctx, "p1", "n1")).must(t); p.Node != "n1" {
		t.Fatalf("bound %+v", p)
	}
	if p := got(acme.GetPod(ctx, "p1")).must(t); p.Ports[0].State != model.PortBound {
		t.Fatalf("pod %+v", p)
	}
	if l := got(acme.ListPorts(ctx, PortQuery{Network: "net-c", Node: "n1"})).must(t); len(l) != 1 {
		t.Fatalf("ports %+v", l)
	}
	if l := got(agent.ListPorts(ctx, PortQuery{Tenant: "beta"})).must(t); len(l) != 0 {
		t.Fatalf("beta ports %+v", l)
	}
	if err := acme.ReleasePod(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := acme.ReleasePod(ctx, "p1"); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if l := got(agent.ListNodes(ctx)).must(t); len(l) != 1 {
		t.Fatalf("nodes %+v", l)
	}
	if got := got(admin.GetNode(ctx, "n1")).must(t); got.Name != "n1" {
		t.Fatalf("node %+v", got)
	}
	if err := agent.DeleteNode(ctx, "n1"); err != nil {
		t.Fatal(err)
	}

	tok := got(admin.CreateToken(ctx, TokenRequest{ID: "ci", Role: model.RoleSystem})).must(t)
	ci := newClient(t, f.srv.URL, tok.Token)
	if _, err := ci.ListNodes(ctx); err != nil {
		t.Fatalf("new token: %v", err)
	}
	if l := got(admin.ListTokens(ctx)).must(t); len(l) != 4 {
		t.Fatalf("tokens %+v", l)
	}
	if got := got(admin.GetToken(ctx, "ci")).must(t); got.Role != model.RoleSystem {
		t.Fatalf("token %+v", got)
	}
	if err := admin.DeleteToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	_, err = ci.ListNodes(ctx)
	wantCode(t, err, model.CodeUnauthenticated, "")

	if err := newClient(t, f.srv.URL, "").Health(ctx); err != nil {
		t.Fatal(err)
	}
	if st := got(newClient(t, f.srv.URL, "").Ready(ctx)).must(t); !st.Leader {
		t.Fatalf("ready %+v", st)
	}
}

func TestClientErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme := newClient(t, f.srv.URL, f.acme)

	_, err := acme.CreateNetwork(ctx, overlay("acme", "net-a", "10.4.0.0/24"))
	e := wantCode(t, err, model.CodeConflict, "name")
	if !errors.Is(err, model.ErrConflict) || e.Message == "" {
		t.Fatalf("%v does not match model.ErrConflict", err)
	}
	_, err = acme.GetNetwork(ctx, "beta", "net-b")
	wantCode(t, err, model.CodeForbidden, "tenant")
	_, err = acme.GetPod(ctx, "nope")
	wantCode(t, err, model.CodeNotFound, "uid")
	_, err = acme.CreateNetwork(ctx, model.Network{Name: "x", Tenant: "acme", Type: "bridge"})
	wantCode(t, err, model.CodeInvalid, "type")
	_, err = newClient(t, f.srv.URL, "").ListTenants(ctx)
	wantCode(t, err, model.CodeUnauthenticated, "")

	f.b.setStatus(Status{Reason: "standby"})
	_, err = acme.ListTenants(ctx)
	wantCode(t, err, model.CodeUnavailable, "")
	_, err = acme.Ready(ctx)
	wantCode(t, err, model.CodeUnavailable, "")

	// A proxy in front of the manager that answers in its own words.
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	}))
	defer lb.Close()
	_, err = newClient(t, lb.URL, f.acme).ListTenants(ctx)
	wantCode(t, err, model.CodeUnavailable, "")

	// Nothing listening: retry later.
	gone := httptest.NewServer(nil)
	gone.Close()
	_, err = newClient(t, gone.URL, f.acme).ListTenants(ctx)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("connection refused gave %v, want ErrUnavailable", err)
	}

	// The caller giving up is not the manager's unavailability.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = acme.ListTenants(cctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("canceled call gave %v", err)
	}

	for _, url := range []string{"", "10.0.0.2:9527", "ftp://x", "https://"} {
		_, err := NewClient(ClientConfig{URL: url})
		wantCode(t, err, model.CodeInvalid, "url")
	}
	_, err = NewClient(ClientConfig{URL: "https://x", CAFile: "/nonexistent/ca.crt"})
	wantCode(t, err, model.CodeInvalid, "ca_file")
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A Transport carries the requests instead of connections to the URL's host, which need not exist.
func TestClientTransport(t *testing.T) {
	var paths []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"acme","tenant":"acme","type":"overlay"}`))
	})
	c, err := NewClient(ClientConfig{URL: "https://manager.invalid:9527", Token: "t.s", Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	got(c.GetNetwork(context.Background(), "acme", "net")).must(t)
	if len(paths) != 1 || paths[0] != "GET /api/v1/tenants/acme/networks/net Bearer t.s" {
		t.Fatalf("requests carried: %v", paths)
	}
	refused, err := NewClient(ClientConfig{URL: "https://manager.invalid:9527", Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refused.ListTenants(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a transport that cannot connect: %v; want ErrUnavailable", err)
	}
}
