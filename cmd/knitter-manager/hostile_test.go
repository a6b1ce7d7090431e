package main_test

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// TestHostileTenant runs two tenants on one real manager: ta, the victim, with a network of every
// type, an IP group, a live pod and a sticky hold on its own and on a public network; and tb, which
// tries every route against ta's objects — reads, lists (paged and not), writes, deletes, the
// original /nw/v1 paths, ta's sticky owner, ta's physical networks and VLANs, the nodes' underlay.
// Nothing of ta may be visible to tb (no answer to tb names any of ta's objects or addresses), and
// nothing of ta may change: afterwards ta has all it had, and its owner gets its held addresses and
// MACs back.
func TestHostileTenant(t *testing.T) {
	s := startServingArgs(t, "--underlay", "eth0")
	ctx := context.Background()
	admin := client(t, s.p.url, s.admin, s.ca)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := admin.CreateTenant(ctx, model.Tenant{Name: "infra", Admin: true, PhysicalNetworks: []string{"eth3"}})
	must(err)
	_, err = admin.CreateTenant(ctx, model.Tenant{Name: "ta", PhysicalNetworks: []string{"eth1"}})
	must(err)
	_, err = admin.CreateTenant(ctx, model.Tenant{Name: "tb", PhysicalNetworks: []string{"eth2"}})
	must(err)
	_, err = admin.CreateNetwork(ctx, model.Network{Tenant: "infra", Name: "pub", Public: true, Type: model.Overlay, IPv4: subnet("10.90.0.0/24")})
	must(err)
	mint := func(tenant string) string {
		tok, err := admin.CreateToken(ctx, httpapi.TokenRequest{ID: tenant + "-ci", Role: model.RoleTenant, Tenant: tenant})
		must(err)
		return tok.Token
	}
	taTok, tbTok := mint("ta"), mint("tb")
	ta, tb := client(t, s.p.url, taTok, s.ca), client(t, s.p.url, tbTok, s.ca)

	// The victim's objects, made with its own token.
	for _, n := range []model.Network{
		{Tenant: "ta", Name: "ta-ov", Type: model.Overlay, IPv4: subnet("10.31.0.0/24")},
		{Tenant: "ta", Name: "ta-vlan", Type: model.VLAN, VLAN: 100, PhysicalNetwork: "eth1", IPv4: subnet("10.32.0.0/24")},
		{Tenant: "ta", Name: "ta-mv", Type: model.MACVLAN, PhysicalNetwork: "eth1", IPv4: subnet("10.33.0.0/24")},
	} {
		_, err := ta.CreateNetwork(ctx, n)
		must(err)
	}
	_, err = ta.CreateIPGroup(ctx, model.IPGroup{Tenant: "ta", Name: "ta-g", Network: "ta-ov", Size: 2})
	must(err)
	const owner = "statefulset/ta/web/0"
	taPod := func(uid string) alloc.PodRequest {
		return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "ta", Name: "web-0"}, Tenant: "ta", Owner: owner,
			Requests: []model.AttachRequest{{Network: "ta-ov", Interface: "eth0"}, {Network: "pub", Interface: "net1"}, {Network: "ta-vlan", Interface: "net2"}}}
	}
	held, _, err := ta.AllocatePod(ctx, taPod("ta-pod-1"))
	must(err)
	must(ta.ReleasePod(ctx, "ta-pod-1")) // its addresses and MACs are held for the owner
	live, _, err := ta.AllocatePod(ctx, alloc.PodRequest{Pod: model.PodRef{UID: "ta-pod-2", Namespace: "ta", Name: "db-0"}, Tenant: "ta",
		Requests: []model.AttachRequest{{Network: "ta-ov", Interface: "eth0", IPGroup: "ta-g"}, {Network: "ta-mv", Interface: "net1"}}})
	must(err)
	_, err = admin.RegisterNode(ctx, model.Node{Name: "node-1"})
	must(err)
	live, err = admin.BindPod(ctx, "ta-pod-2", "node-1")
	must(err)
	// tb's own network, so that its pods are possible at all.
	_, err = tb.CreateNetwork(ctx, model.Network{Tenant: "tb", Name: "tb-ov", Type: model.Overlay, IPv4: subnet("10.41.0.0/24")})
	must(err)

	// Everything of ta that tb must never see in an answer.
	// (An answer may repeat what tb itself sent; only what tb did not send counts.)
	secrets := []string{"ta-ov", "ta-vlan", "ta-mv", "ta-g", "ta-pod-1", "ta-pod-2", "db-0", "ta-ci", "node-1", "10.31.0.0/24", "10.33.0.0/24"}
	for _, p := range append(held.Ports, live.Ports...) {
		secrets = append(secrets, `"`+p.MAC.String()+`"`)
		for _, ip := range p.IPs {
			secrets = append(secrets, `"`+ip.String()+`"`)
		}
	}
	type answer struct{ sent, body string }
	pod := func(uid, tenant string, reqs string) string {
		return fmt.Sprintf(`{"pod":{"uid":%q,"namespace":"tb","name":"x"},"tenant":%q,"requests":[%s]}`, uid, tenant, reqs)
	}
	steps := []struct {
		method, path, body string
		status             int
	}{
		// tenants
		{"GET", "/api/v1/tenants/ta", "", 403},
		{"GET", "/api/v1/tenants/nosuch", "", 403},
		{"PUT", "/api/v1/tenants/ta", `{"name":"ta","default_network":"ta-ov"}`, 403},
		{"PUT", "/api/v1/tenants/tb", `{"name":"tb","physical_networks":["eth2","eth1"]}`, 403},
		{"DELETE", "/api/v1/tenants/ta", "", 403},
		{"POST", "/api/v1/tenants", `{"name":"tc"}`, 403},
		// networks
		{"GET", "/api/v1/tenants/ta/networks/ta-ov", "", 403},
		{"GET", "/api/v1/tenants/ta/networks/nosuch", "", 403},
		{"POST", "/api/v1/tenants/ta/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.42.0.0/24"}}`, 403},
		{"DELETE", "/api/v1/tenants/ta/networks/ta-ov", "", 403},
		{"DELETE", "/api/v1/tenants/infra/networks/pub", "", 403},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"pub2","public":true,"type":"overlay","ipv4":{"cidr":"10.43.0.0/24"}}`, 403},
		// physical networks and VLANs: ta's NIC, its VLAN, its untagged segment, the underlay
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v1","type":"vlan","vlan":100,"physical_network":"eth1","ipv4":{"cidr":"10.44.0.0/24"}}`, 403},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v2","type":"macvlan","physical_network":"eth1","ipv4":{"cidr":"10.45.0.0/24"}}`, 403},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v3","type":"macvlan","vlan":100,"physical_network":"eth1","ipv4":{"cidr":"10.46.0.0/24"}}`, 400},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v4","type":"sriov","physical_network":"eth1","ipv4":{"cidr":"10.47.0.0/24"}}`, 403},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v5","type":"vlan","vlan":7,"physical_network":"eth0","ipv4":{"cidr":"10.48.0.0/24"}}`, 400},
		{"POST", "/api/v1/tenants/tb/networks", `{"name":"v6","type":"vlan","vlan":100,"physical_network":"eth2","ipv4":{"cidr":"10.32.0.0/24"}}`, 201},
		// IP groups
		{"GET", "/api/v1/tenants/ta/ipgroups", "", 403},
		{"GET", "/api/v1/tenants/ta/ipgroups/ta-g", "", 403},
		{"POST", "/api/v1/tenants/ta/ipgroups", `{"name":"g","network":"ta-ov","size":1}`, 403},
		{"PUT", "/api/v1/tenants/ta/ipgroups/ta-g", `{"ips":[]}`, 403},
		{"DELETE", "/api/v1/tenants/ta/ipgroups/ta-g", "", 403},
		{"POST", "/api/v1/tenants/tb/ipgroups", `{"name":"g","network":"ta-ov","size":1}`, 404},
		// pods and ports
		{"GET", "/api/v1/pods/ta-pod-2", "", 404},
		{"GET", "/api/v1/pods/nosuch", "", 404},
		{"POST", "/api/v1/pods/ta-pod-2/bind", `{"node":"node-1"}`, 404},
		{"DELETE", "/api/v1/pods/ta-pod-2", "", 204}, // a pod without ports, for tb: nothing released
		{"DELETE", "/api/v1/pods/ta-pod-1", "", 204},
		{"POST", "/api/v1/pods", pod("tb-1", "ta", `{"network":"ta-ov","interface":"eth0"}`), 403},
		{"POST", "/api/v1/pods", pod("ta-pod-2", "tb", `{"network":"tb-ov","interface":"eth0"}`), 409},
		{"POST", "/api/v1/pods", pod("tb-2", "tb", `{"network":"ta-ov","tenant":"ta","interface":"eth0"}`), 404},
		{"POST", "/api/v1/pods", pod("tb-3", "tb", `{"network":"tb-ov","interface":"eth0","ip_group":"ta-g"}`), 404},
		{"POST", "/api/v1/pods", pod("tb-4", "tb", `{"network":"pub","interface":"eth0","ips":["`+held.Ports[1].IPs[0].String()+`"]}`), 409},
		{"GET", "/api/v1/ports?tenant=ta", "", 403},
		// nodes, tokens, metrics
		{"GET", "/api/v1/nodes", "", 403},
		{"GET", "/api/v1/nodes/node-1", "", 403},
		{"PUT", "/api/v1/nodes/node-1", `{"vtep":"192.0.2.9"}`, 403},
		{"DELETE", "/api/v1/nodes/node-1", "", 403},
		{"GET", "/api/v1/tokens", "", 403},
		{"GET", "/api/v1/tokens/ta-ci", "", 403},
		{"POST", "/api/v1/tokens", `{"id":"mine","role":"tenant","tenant":"ta"}`, 403},
		{"DELETE", "/api/v1/tokens/ta-ci", "", 403},
		{"GET", "/metrics", "", 403},
		// the original Knitter paths
		{"GET", "/nw/v1/tenants/ta", "", 403},
		{"GET", "/nw/v1/tenants/ta/networks", "", 403},
		{"GET", "/nw/v1/tenants/ta/networks/ta-ov", "", 403},
		{"DELETE", "/nw/v1/tenants/ta/networks/ta-ov", "", 403},
		{"GET", "/nw/v1/tenants/ta/ipgroups", "", 403},
		{"DELETE", "/nw/v1/tenants/ta/ipgroups/ta-g", "", 403},
		{"PUT", "/nw/v1/tenants/ta/quota?value=1", "", 403},
		{"DELETE", "/nw/v1/tenants/ta", "", 403},
	}
	var answers []answer
	for i, st := range steps {
		status, body := call(t, s.hc, s.p.url, tbTok, st.method, st.path, st.body)
		answers = append(answers, answer{st.path + " " + st.body, body})
		if status != st.status || (status >= 400 && !strings.Contains(body, `"code"`)) {
			t.Errorf("step %d: tb %s %s %s = %d %s; want %d", i, st.method, st.path, st.body, status, body, st.status)
		}
	}
	// Naming a missing object answers exactly like naming one of ta's.
	for _, pr := range []struct{ method, path, body, name string }{
		{"GET", "/api/v1/tenants/ta/networks/%s", "", "ta-ov"},
		{"GET", "/api/v1/tenants/ta/ipgroups/%s", "", "ta-g"},
		{"GET", "/api/v1/pods/%s", "", "ta-pod-2"},
		{"POST", "/api/v1/pods/%s/bind", `{"node":"node-1"}`, "ta-pod-2"},
		{"DELETE", "/api/v1/pods/%s", "", "ta-pod-2"},
		{"GET", "/api/v1/tokens/%s", "", "ta-ci"},
		{"POST", "/api/v1/pods", pod("tb-5", "tb", `{"network":"%s","tenant":"ta","interface":"eth0"}`), "ta-ov"},
	} {
		fill := func(name string) (string, string) {
			if strings.Contains(pr.body, "%s") {
				return pr.path, fmt.Sprintf(pr.body, name)
			}
			return fmt.Sprintf(pr.path, name), pr.body
		}
		p1, body1 := fill(pr.name)
		p2, body2 := fill("nosuch")
		s1, b1 := call(t, s.hc, s.p.url, tbTok, pr.method, p1, body1)
		s2, b2 := call(t, s.hc, s.p.url, tbTok, pr.method, p2, body2)
		if s1 != s2 || strings.ReplaceAll(b1, pr.name, "X") != strings.ReplaceAll(b2, "nosuch", "X") {
			t.Errorf("%s %s: ta's object and a missing one answer differently:\n%d %s\n%d %s", pr.method, pr.path, s1, b1, s2, b2)
		}
	}
	// Lists, whole and in pages of one item, show tb nothing of ta.
	for _, path := range []string{"/api/v1/tenants", "/api/v1/networks", "/api/v1/tenants/ta/networks", "/api/v1/tenants/tb/networks",
		"/api/v1/tenants/tb/ipgroups", "/api/v1/ports", "/api/v1/ports?network=ta/ta-ov", "/api/v1/ports?pod=ta-pod-2",
		"/api/v1/ports?node=node-1", "/nw/v1/tenants", "/nw/v1/tenants/tb/networks?all=true", "/nw/v1/tenants/tb/ipgroups"} {
		status, body := call(t, s.hc, s.p.url, tbTok, "GET", path, "")
		answers = append(answers, answer{path, body})
		if status != 200 {
			t.Errorf("tb GET %s = %d %s", path, status, body)
		}
		if strings.HasPrefix(path, "/nw/") {
			continue
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		for token, pages := "", 0; pages < 50; pages++ {
			q := "limit=1"
			if token != "" {
				q += "&continue=" + url.QueryEscape(token)
			}
			status, body := call(t, s.hc, s.p.url, tbTok, "GET", path+sep+q, "")
			answers = append(answers, answer{path, body})
			if status != 200 {
				t.Fatalf("tb GET %s%s%s = %d %s", path, sep, q, status, body)
			}
			var page struct{ Continue string }
			decodeInto(t, body, &page)
			if token = page.Continue; token == "" {
				break
			}
		}
	}
	// tb borrows ta's sticky owner on its own network and on the public network ta's hold is on.
	stolen, _, err := tb.AllocatePod(ctx, alloc.PodRequest{Pod: model.PodRef{UID: "tb-thief", Namespace: "tb", Name: "web-0"}, Tenant: "tb", Owner: owner,
		Requests: []model.AttachRequest{{Network: "tb-ov", Interface: "eth0"}, {Network: "pub", Interface: "net1"}}})
	if err != nil {
		t.Fatalf("tb's pod with ta's owner string: %v", err)
	}
	for _, p := range stolen.Ports {
		answers = append(answers, answer{"tb-thief", fmt.Sprintf("%q %q", p.IPs[0].String(), p.MAC.String())})
	}
	must(tb.ReleasePod(ctx, "tb-thief"))
	for i, a := range answers {
		for _, secret := range secrets {
			if strings.Contains(a.body, secret) && !strings.Contains(a.sent, strings.Trim(secret, `"`)) {
				t.Errorf("answer %d to tb (%s) names ta's %s: %s", i, a.sent, secret, a.body)
			}
		}
	}

	// ta has everything it had, and its owner gets the held addresses and MACs back.
	nets, err := ta.ListNetworks(ctx, "ta")
	must(err)
	var names []string
	for _, n := range nets {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"ta-mv", "ta-ov", "ta-vlan"}) {
		t.Fatalf("ta's networks afterwards: %v", names)
	}
	g, err := ta.GetIPGroup(ctx, "ta", "ta-g")
	if err != nil || len(g.IPs) != 2 {
		t.Fatalf("ta's group afterwards: %+v %v", g, err)
	}
	got, err := ta.GetPod(ctx, "ta-pod-2")
	if err != nil || fmt.Sprint(got.Ports) != fmt.Sprint(live.Ports) {
		t.Fatalf("ta's live pod afterwards: %+v %v\nwas %+v", got.Ports, err, live.Ports)
	}
	back, _, err := ta.AllocatePod(ctx, taPod("ta-pod-3"))
	must(err)
	for i, p := range back.Ports {
		h := held.Ports[i]
		if fmt.Sprint(p.IPs) != fmt.Sprint(h.IPs) || p.MAC != h.MAC {
			t.Errorf("ta's owner got %s %v %s back; it held %v %s", p.Interface, p.IPs, p.MAC, h.IPs, h.MAC)
		}
	}
	tenant, err := ta.GetTenant(ctx, "ta")
	if err != nil || !slices.Equal(tenant.PhysicalNetworks, []string{"eth1"}) {
		t.Fatalf("ta's grants afterwards: %+v %v", tenant.Tenant, err)
	}
}

func subnet(cidr string) *model.Subnet {
	return &model.Subnet{CIDR: mustPrefix(cidr)}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
