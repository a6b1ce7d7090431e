package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func TestCompatTenants(t *testing.T) {
	f := newFixture(t)
	var created struct{ Tenant nwTenant }
	f.call(t, f.admin, "POST", "/nw/v1/tenants/gamma", nil).want(t, 200).decode(t, &created)
	if created.Tenant.ID != "gamma" || created.Tenant.Status != "ACTIVE" {
		t.Fatalf("created %+v", created.Tenant)
	}
	f.call(t, f.admin, "POST", "/nw/v1/tenants/gamma", nil).wantErr(t, 409, model.CodeConflict, "name")
	f.call(t, f.admin, "POST", "/nw/v1/tenants", `{"name":"delta","iaas_tenant":{"endpoint":"http://keystone","auth":{"user_name":"u"}}}`).want(t, 200)
	f.call(t, f.admin, "POST", "/nw/v1/tenants", `{"nme":"delta"}`).wantErr(t, 400, model.CodeInvalid, "nme")

	var list struct {
		Tenant []nwTenant `json:"tenant"`
	}
	f.call(t, f.admin, "GET", "/nw/v1/tenants", nil).want(t, 200).decode(t, &list)
	if len(list.Tenant) != 5 {
		t.Fatalf("list %+v", list.Tenant)
	}
	var got struct{ Tenant nwTenant }
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme", nil).want(t, 200).decode(t, &got)
	if got.Tenant.NetNumber != 1 {
		t.Fatalf("acme %+v", got.Tenant)
	}
	f.call(t, f.acme, "GET", "/nw/v1/tenants/beta", nil).wantErr(t, 403, model.CodeForbidden, "tenant")

	f.call(t, f.admin, "PUT", "/nw/v1/tenants/acme/quota?value=7", nil).want(t, 200).decode(t, &got)
	if got.Tenant.Quotas.Network != 7 {
		t.Fatalf("quota %+v", got.Tenant)
	}
	if tn, _ := f.b.st.Tenant("acme"); tn.Quota.Networks != 7 {
		t.Fatalf("state quota %+v", tn.Quota)
	}
	f.call(t, f.admin, "PUT", "/nw/v1/tenants/acme/quota?value=lots", nil).wantErr(t, 400, model.CodeInvalid, "value")
	f.call(t, f.admin, "PUT", "/nw/v1/tenants/acme/quota", nil).wantErr(t, 400, model.CodeInvalid, "value")
	f.call(t, f.acme, "PUT", "/nw/v1/tenants/acme/quota?value=70", nil).wantErr(t, 403, model.CodeForbidden, "value")
	f.call(t, f.admin, "PUT", "/nw/v1/tenants/nope/quota?value=1", nil).wantErr(t, 404, model.CodeNotFound, "tenant")

	f.call(t, f.admin, "DELETE", "/nw/v1/tenants/gamma", nil).want(t, 200)
	f.call(t, f.admin, "DELETE", "/nw/v1/tenants/acme", nil).wantErr(t, 409, model.CodeConflict, "name")
	f.call(t, f.admin, "GET", "/nw/v1/tenants/gamma", nil).wantErr(t, 404, model.CodeNotFound, "tenant")
}

func TestCompatNetworks(t *testing.T) {
	f := newFixture(t)
	var created map[string]nwNetwork
	f.call(t, f.acme, "POST", "/nw/v1/tenants/acme/networks",
		`{"network":{"name":"net_api","public":false,"gateway":"123.124.125.1","cidr":"123.124.125.0/24","description":"api"}}`).
		want(t, 200).decode(t, &created)
	if n := created["network"]; n.ID != "net_api" || n.Owner != "acme" || n.CIDR != "123.124.125.0/24" || n.Gateway != "123.124.125.1" || n.State != "ACTIVE" || n.Description != "api" {
		t.Fatalf("created %+v", created)
	}
	if n, _ := f.b.st.Network("acme", "net_api"); n.Type != model.Overlay {
		t.Fatalf("stored %+v", n)
	}
	f.call(t, f.admin, "POST", "/nw/v1/tenants/infra/networks",
		`{"provider_network":{"name":"phy_net","cidr":"172.16.0.0/24","gateway":"172.16.0.1","provider:network_type":"vlan","provider:physical_network":"eth1","provider:segmentation_id":"100","allocation_pools":[{"start":"172.16.0.10","end":"172.16.0.99"}],"public":true}}`).
		want(t, 200).decode(t, &created)
	if n := created["provider_network"]; n.NetworkType != "vlan" || n.SegmentationID != "100" || len(n.AllocationPools) != 1 || !n.Public {
		t.Fatalf("created %+v", created)
	}
	if n, _ := f.b.st.Network("infra", "phy_net"); n.Type != model.VLAN || n.VLAN != 100 || n.PhysicalNetwork != "eth1" {
		t.Fatalf("stored %+v", n)
	}

	for _, tc := range []struct {
		name, token, tenant, body string
		status                    int
		code                      model.Code
		field                     string
	}{
		{"no cidr", f.acme, "acme", `{"network":{"name":"x"}}`, 400, model.CodeInvalid, "network.cidr"},
		{"bad gateway", f.acme, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24","gateway":"10.5.0.1"}}`, 400, model.CodeInvalid, "network.gateway"},
		{"bad pool", f.acme, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24","allocation_pools":[{"start":"10.4.0.9","end":"10.4.0.1"}]}}`, 400, model.CodeInvalid, "network.allocation_pools[0]"},
		{"bad name", f.acme, "acme", `{"network":{"name":"Net","cidr":"10.4.0.0/24"}}`, 400, model.CodeInvalid, "network.name"},
		{"public by tenant", f.acme, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24","public":true}}`, 403, model.CodeForbidden, "network.public"},
		{"other tenant", f.beta, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24"}}`, 403, model.CodeForbidden, "tenant"},
		{"overlap", f.acme, "acme", `{"network":{"name":"x","cidr":"10.1.0.0/16"}}`, 409, model.CodeConflict, "network.cidr"},
		{"provider attrs in network", f.admin, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"vlan"}}`, 400, model.CodeInvalid, "network"},
		{"provider type", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"gre"}}`, 400, model.CodeInvalid, "provider_network.provider:network_type"},
		{"provider vlan id", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"vlan","provider:physical_network":"eth1","provider:segmentation_id":"5000"}}`, 400, model.CodeInvalid, "provider_network.provider:segmentation_id"},
		{"provider vlan not a number", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"vlan","provider:segmentation_id":"ten"}}`, 400, model.CodeInvalid, "provider_network.provider:segmentation_id"},
		{"provider no nic", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"flat"}}`, 400, model.CodeInvalid, "provider_network.provider:physical_network"},
		{"vlan in use", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","provider:network_type":"vlan","provider:physical_network":"eth1","provider:segmentation_id":100}}`, 409, model.CodeConflict, "provider_network.provider:segmentation_id"},
		{"transparent", f.admin, "acme", `{"provider_network":{"name":"x","cidr":"10.4.0.0/24","vlan_transparent":true}}`, 400, model.CodeInvalid, "provider_network.vlan_transparent"},
		{"external", f.admin, "acme", `{"external_network":{"id":"abc"}}`, 400, model.CodeInvalid, "external_network"},
		{"both", f.admin, "acme", `{"network":{"name":"x","cidr":"10.4.0.0/24"},"provider_network":{"name":"y"}}`, 400, model.CodeInvalid, "provider_network"},
		{"neither", f.admin, "acme", `{}`, 400, model.CodeInvalid, "network"},
		{"typo", f.admin, "acme", `{"netwrok":{}}`, 400, model.CodeInvalid, "netwrok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.call(t, tc.token, "POST", "/nw/v1/tenants/"+tc.tenant+"/networks", tc.body).wantErr(t, tc.status, tc.code, tc.field)
		})
	}

	names := func(path string) []string {
		var l struct{ Networks []nwNetwork }
		f.call(t, f.acme, "GET", path, nil).want(t, 200).decode(t, &l)
		var out []string
		for _, n := range l.Networks {
			out = append(out, n.Owner+"/"+n.Name)
		}
		return out
	}
	if got := names("/nw/v1/tenants/acme/networks"); len(got) != 4 || got[0] != "acme/net-a" || got[2] != "infra/phy_net" {
		t.Fatalf("visible %v, want own then public", got)
	}
	if got := names("/nw/v1/tenants/acme/networks?public=true"); len(got) != 2 {
		t.Fatalf("public %v", got)
	}
	if got := names("/nw/v1/tenants/acme/networks?name=net_api"); len(got) != 1 || got[0] != "acme/net_api" {
		t.Fatalf("by name %v", got)
	}
	if got := names("/nw/v1/tenants/acme/networks?all=true"); len(got) != 4 {
		t.Fatalf("all (for a tenant: what it may see) %v", got)
	}
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme/networks?name=nope", nil).wantErr(t, 404, model.CodeNotFound, "name")
	f.call(t, f.acme, "GET", "/nw/v1/tenants/beta/networks", nil).wantErr(t, 403, model.CodeForbidden, "tenant")

	var one map[string]nwNetwork
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme/networks/shared", nil).want(t, 200).decode(t, &one)
	if one["network"].Owner != "infra" || !one["network"].Public {
		t.Fatalf("public by id %+v", one)
	}
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme/networks/net-b", nil).wantErr(t, 404, model.CodeNotFound, "network_id")

	r := f.call(t, f.acme, "DELETE", "/nw/v1/tenants/acme/networks/net_api", nil).want(t, 200)
	if string(r.body) != "null\n" {
		t.Fatalf("delete answered %q", r.body)
	}
	f.call(t, f.acme, "DELETE", "/nw/v1/tenants/acme/networks/net_api", nil).wantErr(t, 404, model.CodeNotFound, "network_id")
	f.call(t, f.acme, "DELETE", "/nw/v1/tenants/infra/networks/shared", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
}

func TestCompatIPGroups(t *testing.T) {
	f := newFixture(t)
	var got map[string]nwIPGroup
	f.call(t, f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"ig1","ips":"[10.1.0.10,10.1.0.11]","network_id":"net-a"}}`).
		want(t, 200).decode(t, &got)
	if g := got["ipgroup"]; g.ID != "ig1" || g.Size != 2 || g.NetworkID != "net-a" || g.IPs[0] != (nwIP{IPAddr: "10.1.0.10"}) {
		t.Fatalf("created %+v", got)
	}
	f.call(t, f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"ig2","size":"3","network_id":"net-a"}}`).want(t, 200).decode(t, &got)
	if got["ipgroup"].Size != 3 {
		t.Fatalf("sized %+v", got)
	}

	pod := podReq("p1", "acme", "net-a")
	pod.Requests[0].IPGroup = "ig1"
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: pod})
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme/ipgroups/ig1", nil).want(t, 200).decode(t, &got)
	if ips := got["ipgroup"].IPs; !ips[0].Used || ips[1].Used {
		t.Fatalf("used flags %+v", ips)
	}
	var list struct{ IPGroups []nwIPGroup }
	f.call(t, f.acme, "GET", "/nw/v1/tenants/acme/ipgroups?network_id=net-a", nil).want(t, 200).decode(t, &list)
	if len(list.IPGroups) != 2 {
		t.Fatalf("list %+v", list)
	}

	f.call(t, f.acme, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{"ips":["10.1.0.10","10.1.0.12"]}}`).want(t, 200).decode(t, &got)
	if ips := got["ipgroup"].IPs; len(ips) != 2 || ips[1].IPAddr != "10.1.0.12" {
		t.Fatalf("updated %+v", ips)
	}
	// An empty ips changes nothing.
	f.call(t, f.acme, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{"ips":""}}`).want(t, 200)

	for _, tc := range []struct {
		name, token, method, path, body string
		status                          int
		code                            model.Code
		field                           string
	}{
		{"bad ips", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"x","ips":"[10.1.0.1,bogus]","network_id":"net-a"}}`, 400, model.CodeInvalid, "ipgroup.ips"},
		{"no network", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"x","ips":"[10.1.0.20]","network_id":"nope"}}`, 404, model.CodeNotFound, "ipgroup.network_id"},
		{"outside", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"x","ips":"[10.7.0.1]","network_id":"net-a"}}`, 400, model.CodeInvalid, "ipgroup.ips[0]"},
		{"size string", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":{"name":"x","size":"many","network_id":"net-a"}}`, 400, model.CodeInvalid, "ipgroup.size"},
		{"no wrapper", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"name":"x"}`, 400, model.CodeInvalid, "name"},
		{"null wrapper", f.acme, "POST", "/nw/v1/tenants/acme/ipgroups", `{"ipgroup":null}`, 400, model.CodeInvalid, "ipgroup"},
		{"other tenant", f.beta, "GET", "/nw/v1/tenants/acme/ipgroups", "", 403, model.CodeForbidden, "tenant"},
		{"other tenant get", f.beta, "GET", "/nw/v1/tenants/acme/ipgroups/ig1", "", 403, model.CodeForbidden, "tenant"},
		{"other tenant noop put", f.beta, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{}}`, 403, model.CodeForbidden, "tenant"},
		{"rename", f.acme, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{"name":"ig9"}}`, 400, model.CodeInvalid, "ipgroup.name"},
		{"resize", f.acme, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{"size":5}}`, 400, model.CodeInvalid, "ipgroup.size"},
		{"drop used", f.acme, "PUT", "/nw/v1/tenants/acme/ipgroups/ig1", `{"ipgroup":{"ips":"[10.1.0.12]"}}`, 409, model.CodeConflict, "ipgroup.ips"},
		{"missing", f.acme, "GET", "/nw/v1/tenants/acme/ipgroups/nope", "", 404, model.CodeNotFound, "id"},
		{"delete used", f.acme, "DELETE", "/nw/v1/tenants/acme/ipgroups/ig1", "", 409, model.CodeConflict, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			f.call(t, tc.token, tc.method, tc.path, body).wantErr(t, tc.status, tc.code, tc.field)
		})
	}
	f.call(t, f.acme, "DELETE", "/nw/v1/tenants/acme/ipgroups/ig2", nil).want(t, 204)
	f.call(t, f.acme, "DELETE", "/nw/v1/tenants/acme/ipgroups/ig2", nil).wantErr(t, 404, model.CodeNotFound, "id")
}

func TestFlexTypes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{{`"100"`, 100, true}, {`100`, 100, true}, {`""`, 0, true}, {`" 7 "`, 7, true}, {`"-1"`, 0, false}, {`1.5`, 0, false}, {`"x"`, 0, false}} {
		var f flexUint
		err := json.Unmarshal([]byte(tc.in), &f)
		if (err == nil) != tc.ok || (tc.ok && uint32(f) != tc.want) {
			t.Errorf("flexUint %s: %d, %v", tc.in, f, err)
		}
	}
	for _, tc := range []struct {
		in string
		n  int
		ok bool
	}{{`"[1.1.1.1,1.1.1.2]"`, 2, true}, {`"1.1.1.1, fd00::1"`, 2, true}, {`"[]"`, 0, true}, {`["1.1.1.1"]`, 1, true}, {`"[1.1.1]"`, 0, false}, {`[1]`, 0, false}, {`5`, 0, false}} {
		var f flexIPs
		err := json.Unmarshal([]byte(tc.in), &f)
		if (err == nil) != tc.ok || (tc.ok && len(f) != tc.n) {
			t.Errorf("flexIPs %s: %v, %v", tc.in, f, err)
		}
	}
}
