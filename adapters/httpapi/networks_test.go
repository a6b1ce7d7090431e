package httpapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func networkKeys(l NetworkList) []string {
	var out []string
	for _, n := range l.Networks {
		out = append(out, n.Key())
	}
	return out
}

func TestNetworkLists(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		token, path string
		want        []string
	}{
		{f.admin, "/api/v1/networks", []string{"acme/net-a", "beta/net-b", "infra/shared"}},
		{f.system, "/api/v1/networks", []string{"acme/net-a", "beta/net-b", "infra/shared"}},
		{f.acme, "/api/v1/networks", []string{"acme/net-a", "infra/shared"}},
		{f.beta, "/api/v1/networks", []string{"beta/net-b", "infra/shared"}},
		{f.acme, "/api/v1/tenants/acme/networks", []string{"acme/net-a"}},
		// Another tenant's networks: only the public ones show.
		{f.acme, "/api/v1/tenants/beta/networks", nil},
		{f.acme, "/api/v1/tenants/infra/networks", []string{"infra/shared"}},
	} {
		var l NetworkList
		f.call(t, tc.token, "GET", tc.path, nil).want(t, 200).decode(t, &l)
		if got := networkKeys(l); !slices.Equal(got, tc.want) {
			t.Errorf("GET %s: %v, want %v", tc.path, got, tc.want)
		}
	}
	f.call(t, f.acme, "GET", "/api/v1/tenants/nope/networks", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.admin, "GET", "/api/v1/tenants/nope/networks", nil).wantErr(t, 404, model.CodeNotFound, "tenant")
}

func TestNetworkGet(t *testing.T) {
	f := newFixture(t)
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("p1", "acme", "net-a")})
	var n NetworkInfo
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/networks/net-a", nil).want(t, 200).decode(t, &n)
	if n.Key() != "acme/net-a" || n.Stats == nil || n.Stats.IPv4 == nil || n.Stats.IPv6 != nil {
		t.Fatalf("got %+v", n)
	}
	if s := *n.Stats.IPv4; s.Used != 1 || s.Capacity < 250 || s.Cooling != 0 || s.Held != 0 {
		t.Fatalf("stats %+v, want 1 used of a /24", s)
	}
	// Public networks are readable by every tenant.
	f.call(t, f.acme, "GET", "/api/v1/tenants/infra/networks/shared", nil).want(t, 200)
	f.call(t, f.acme, "GET", "/api/v1/tenants/beta/networks/net-b", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	// Existing or not, another tenant's network is refused the same way.
	f.call(t, f.acme, "GET", "/api/v1/tenants/beta/networks/nope", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/networks/nope", nil).wantErr(t, 404, model.CodeNotFound, "name")
}

func TestNetworkCreate(t *testing.T) {
	f := newFixture(t)
	var n model.Network
	f.call(t, f.acme, "POST", "/api/v1/tenants/acme/networks",
		`{"name":"net-c","type":"overlay","ipv4":{"cidr":"10.3.0.0/24","gateway":"10.3.0.1"}}`).want(t, 201).decode(t, &n)
	if n.Tenant != "acme" || n.VNI == 0 {
		t.Fatalf("got %+v, want the tenant from the path and a chosen VNI", n)
	}
	for _, tc := range []struct {
		name, token, path, body string
		status                  int
		code                    model.Code
		field                   string
	}{
		{"tenant mismatch", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","tenant":"beta","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 400, model.CodeInvalid, "tenant"},
		{"other tenant", f.acme, "/api/v1/tenants/beta/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 403, model.CodeForbidden, "tenant"},
		{"public by tenant", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","public":true,"type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 403, model.CodeForbidden, "public"},
		{"system token", f.system, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 403, model.CodeForbidden, ""},
		{"overlap", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.1.0.128/25"}}`, 409, model.CodeConflict, "ipv4.cidr"},
		{"overlap public", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.9.0.0/16"}}`, 409, model.CodeConflict, "ipv4.cidr"},
		{"duplicate", f.acme, "/api/v1/tenants/acme/networks", `{"name":"net-a","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 409, model.CodeConflict, "name"},
		{"no such tenant", f.admin, "/api/v1/tenants/nope/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`, 404, model.CodeNotFound, "tenant"},
		{"bad prefix", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/33"}}`, 400, model.CodeInvalid, "ipv4.cidr"},
		{"host bits", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.1/24"}}`, 400, model.CodeInvalid, "ipv4.cidr"},
		{"bad type", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"bridge","ipv4":{"cidr":"10.4.0.0/24"}}`, 400, model.CodeInvalid, "type"},
		{"vlan range", f.admin, "/api/v1/tenants/acme/networks", `{"name":"x","type":"vlan","vlan":70000,"physical_network":"eth1","ipv4":{"cidr":"10.4.0.0/24"}}`, 400, model.CodeInvalid, "vlan"},
		{"unknown field", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidrr":"10.4.0.0/24"}}`, 400, model.CodeInvalid, "ipv4.cidrr"},
		{"bad route", f.acme, "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24","routes":[{"dst":"0.0.0.0/0","gateway":"10.5.0.1"}]}}`, 400, model.CodeInvalid, "ipv4.routes[0].gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.call(t, tc.token, "POST", tc.path, tc.body).wantErr(t, tc.status, tc.code, tc.field)
		})
	}
}

func TestNetworkQuota(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "PUT", "/api/v1/tenants/acme", `{"quota":{"networks":1}}`).want(t, 200)
	e := f.call(t, f.acme, "POST", "/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`).
		wantErr(t, 409, model.CodeQuota, "")
	if !strings.Contains(e.Message, "quota") {
		t.Fatalf("message %q does not say what to change", e.Message)
	}
}

func TestNetworkDelete(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.beta, "DELETE", "/api/v1/tenants/acme/networks/net-a", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	// Public networks are read-only for tenants.
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/infra/networks/shared", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("p1", "acme", "net-a")})
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/acme/networks/net-a", nil).wantErr(t, 409, model.CodeConflict, "name")
	f.b.mustDo(t, alloc.ReleasePodCmd{UID: "p1"})
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/acme/networks/net-a", nil).want(t, 204)
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/acme/networks/net-a", nil).wantErr(t, 404, model.CodeNotFound, "name")
}

// podReq asks for one interface, eth0, on network.
func podReq(uid, tenant, network string) alloc.PodRequest {
	return alloc.PodRequest{
		Pod:      model.PodRef{UID: uid, Namespace: tenant, Name: "pod-" + uid},
		Tenant:   tenant,
		Requests: []model.AttachRequest{{Network: network, Interface: "eth0", DefaultRoute: true}},
	}
}
