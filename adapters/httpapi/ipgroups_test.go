package httpapi

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func TestIPGroupLifecycle(t *testing.T) {
	f := newFixture(t)
	var g model.IPGroup
	f.call(t, f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"web","network":"net-a","ips":["10.1.0.20","10.1.0.10"]}`).
		want(t, 201).decode(t, &g)
	if g.Tenant != "acme" || g.Size != 2 || !slices.Equal(g.IPs, []netip.Addr{netip.MustParseAddr("10.1.0.10"), netip.MustParseAddr("10.1.0.20")}) {
		t.Fatalf("created %+v", g)
	}
	f.call(t, f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"db","network":"net-a","size":3}`).want(t, 201).decode(t, &g)
	if len(g.IPs) != 3 {
		t.Fatalf("sized group %+v", g)
	}

	var l IPGroupList
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/ipgroups", nil).want(t, 200).decode(t, &l)
	if len(l.IPGroups) != 2 || l.IPGroups[0].Name != "db" {
		t.Fatalf("list %+v", l.IPGroups)
	}
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/ipgroups?network=other", nil).want(t, 200).decode(t, &l)
	if len(l.IPGroups) != 0 {
		t.Fatalf("filtered list %+v", l.IPGroups)
	}
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/ipgroups?netwrok=net-a", nil).wantErr(t, 400, model.CodeInvalid, "netwrok")

	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/ipgroups/web", nil).want(t, 200).decode(t, &g)
	if g.Name != "web" || len(g.IPs) != 2 {
		t.Fatalf("get %+v", g)
	}
	f.call(t, f.acme, "PUT", "/api/v1/tenants/acme/ipgroups/web", `{"ips":["10.1.0.10","10.1.0.30"]}`).want(t, 200).decode(t, &g)
	if !slices.Equal(g.IPs, []netip.Addr{netip.MustParseAddr("10.1.0.10"), netip.MustParseAddr("10.1.0.30")}) {
		t.Fatalf("updated %+v", g)
	}
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/acme/ipgroups/web", nil).want(t, 204)
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme/ipgroups/web", nil).wantErr(t, 404, model.CodeNotFound, "name")
}

func TestIPGroupErrors(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"web","network":"net-a","ips":["10.1.0.10"]}`).want(t, 201)
	pod := podReq("p1", "acme", "net-a")
	pod.Requests[0].IPGroup = "web"
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: pod})

	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		code                            model.Code
		field                           string
	}{
		{"list other tenant", f.acme, "GET", "/api/v1/tenants/beta/ipgroups", "", 403, model.CodeForbidden, "tenant"},
		{"get other tenant", f.beta, "GET", "/api/v1/tenants/acme/ipgroups/web", "", 403, model.CodeForbidden, "tenant"},
		{"create in other tenant", f.beta, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a","size":1}`, 403, model.CodeForbidden, "tenant"},
		{"update other tenant", f.beta, "PUT", "/api/v1/tenants/acme/ipgroups/web", `{"ips":["10.1.0.10"]}`, 403, model.CodeForbidden, "tenant"},
		{"delete other tenant", f.beta, "DELETE", "/api/v1/tenants/acme/ipgroups/web", "", 403, model.CodeForbidden, "tenant"},
		{"list missing tenant", f.admin, "GET", "/api/v1/tenants/nope/ipgroups", "", 404, model.CodeNotFound, "tenant"},
		{"duplicate", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"web","network":"net-a","size":1}`, 409, model.CodeConflict, "name"},
		{"no network", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"nope","size":1}`, 404, model.CodeNotFound, "network"},
		{"address taken", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a","ips":["10.1.0.10"]}`, 409, model.CodeConflict, "ips[0]"},
		{"outside subnet", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a","ips":["10.7.0.10"]}`, 400, model.CodeInvalid, "ips[0]"},
		{"not an address", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a","ips":["10.1.0.300"]}`, 400, model.CodeInvalid, "ips[0]"},
		{"neither", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a"}`, 400, model.CodeInvalid, "ips"},
		{"too big", f.acme, "POST", "/api/v1/tenants/acme/ipgroups", `{"name":"x","network":"net-a","size":1000}`, 409, model.CodeExhausted, "size"},
		{"remove used", f.acme, "PUT", "/api/v1/tenants/acme/ipgroups/web", `{"ips":["10.1.0.11"]}`, 409, model.CodeConflict, "ips"},
		{"rename", f.acme, "PUT", "/api/v1/tenants/acme/ipgroups/web", `{"name":"other","ips":["10.1.0.10"]}`, 400, model.CodeInvalid, "name"},
		{"update missing", f.acme, "PUT", "/api/v1/tenants/acme/ipgroups/nope", `{"ips":["10.1.0.12"]}`, 404, model.CodeNotFound, "name"},
		{"delete used", f.acme, "DELETE", "/api/v1/tenants/acme/ipgroups/web", "", 409, model.CodeConflict, "name"},
		{"delete missing", f.acme, "DELETE", "/api/v1/tenants/acme/ipgroups/nope", "", 404, model.CodeNotFound, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			f.call(t, tc.token, tc.method, tc.path, body).wantErr(t, tc.status, tc.code, tc.field)
		})
	}
}
