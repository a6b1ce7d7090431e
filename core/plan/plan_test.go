package plan

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

var (
	ip  = netip.MustParseAddr
	pfx = netip.MustParsePrefix
)

func testNetworks() map[string]model.Network {
	nets := []model.Network{
		{Tenant: "t", Name: "ov", Type: model.Overlay, VNI: 1001, IPv4: &model.Subnet{CIDR: pfx("10.1.0.0/24"), Gateway: ip("10.1.0.1"),
			Routes: []model.Route{{Dst: pfx("192.168.0.0/16")}, {Dst: pfx("0.0.0.0/0"), Gateway: ip("10.1.0.254")}}},
			IPv6: &model.Subnet{CIDR: pfx("fd00:1::/64"), Gateway: ip("fd00:1::1")}},
		{Tenant: "t", Name: "v100", Type: model.VLAN, VLAN: 100, PhysicalNetwork: "physnet1", MTU: 9000, IPv4: &model.Subnet{CIDR: pfx("10.2.0.0/24")}},
		{Tenant: "t", Name: "mv", Type: model.MACVLAN, PhysicalNetwork: "eth2", IPv4: &model.Subnet{CIDR: pfx("10.3.0.0/24"), Gateway: ip("10.3.0.1")}},
		{Tenant: "t", Name: "vf", Type: model.SRIOV, PhysicalNetwork: "ens1f0", VLAN: 30, IPv4: &model.Subnet{CIDR: pfx("10.4.0.0/24")}},
	}
	m := map[string]model.Network{}
	for _, n := range nets {
		m[n.Key()] = n
	}
	return m
}

func testRequest() Request {
	mac := model.MAC{0x02, 0, 0, 0, 0, 1}
	return Request{
		ContainerID: "c0ffee", Netns: "/var/run/netns/p1", Pod: model.PodRef{UID: "u1", Namespace: "t", Name: "p1"},
		Networks: testNetworks(),
		Peers:    []netip.Addr{ip("192.0.2.3"), ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"), ip("2001:db8::9")},
		Ports: []model.Port{
			{ID: "u1/eth0", Network: "t/ov", Interface: "eth0", IPs: []netip.Addr{ip("10.1.0.5"), ip("fd00:1::5")}, MAC: mac, DefaultRoute: true},
			{ID: "u1/net1", Network: "t/v100", Interface: "net1", IPs: []netip.Addr{ip("10.2.0.5")}, MAC: mac},
			{ID: "u1/net2", Network: "t/mv", Interface: "net2", IPs: []netip.Addr{ip("10.3.0.5")}, MAC: mac},
			{ID: "u1/net3", Network: "t/vf", Interface: "net3", IPs: []netip.Addr{ip("10.4.0.5")}, MAC: mac},
		},
	}
}

var testNode = Node{Name: "n1", VTEP: ip("192.0.2.1"), VTEPDevice: "eth0", Uplinks: map[string]string{"physnet1": "eth1"}, MTU: 1500}

func TestPlanResolvesEveryLink(t *testing.T) {
	pod, err := Plan(testNode, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	ov, vl, mv, vf := pod.Links[0], pod.Links[1], pod.Links[2], pod.Links[3]
	// Overlay: bridge and VXLAN named by VNI, peers sorted, deduplicated, self and other family dropped.
	if ov.Bridge != "knbr-1001" || ov.VXLAN == nil || ov.VXLAN.Name != "knvx-1001" || ov.VXLAN.Port != 4789 || ov.VXLAN.Device != "eth0" {
		t.Fatalf("overlay plumbing: %+v %+v", ov, ov.VXLAN)
	}
	if got := joinAddr(ov.VXLAN.Peers); got != "192.0.2.2,192.0.2.3" {
		t.Fatalf("peers = %s; want 192.0.2.2,192.0.2.3", got)
	}
	if ov.MTU != 1450 || vl.MTU != 9000 || mv.MTU != 1500 {
		t.Fatalf("MTUs = %d %d %d; want 1450 (1500 - VXLAN) 9000 (network) 1500 (node)", ov.MTU, vl.MTU, mv.MTU)
	}
	if got := joinPfx(ov.Addrs); got != "10.1.0.5/24,fd00:1::5/64" {
		t.Fatalf("overlay addrs = %s", got)
	}
	// Routes: the subnet's routes (gateway defaulting to the subnet's), its own default route (not a
	// second one), and for IPv6 a default route through the gateway.
	if got := joinRoutes(ov.Routes); got != "192.168.0.0/16>10.1.0.1,0.0.0.0/0>10.1.0.254,::/0>fd00:1::1" {
		t.Fatalf("overlay routes = %s", got)
	}
	if vl.Uplink != "eth1" || vl.VLAN != 100 || vl.Bridge != "" || vl.HostIf == "" {
		t.Fatalf("vlan link: %+v", vl)
	}
	if len(vl.Routes) != 0 || len(vl.Gateways) != 0 {
		t.Fatalf("a gateway-less non-default link got routes %v / gateways %v", vl.Routes, vl.Gateways)
	}
	if mv.Uplink != "eth2" || mv.HostIf != "" || mv.Bridge != "" || len(mv.Routes) != 0 {
		t.Fatalf("macvlan link: %+v (a non-default link must not get a default route)", mv)
	}
	if vf.Uplink != "ens1f0" || vf.VLAN != 30 {
		t.Fatalf("sriov link: %+v", vf)
	}
	for _, l := range pod.Links {
		if len(l.HostIf) > 15 {
			t.Fatalf("host interface %q is longer than IFNAMSIZ", l.HostIf)
		}
	}
	if ov.HostIf == vl.HostIf || ov.HostIf != HostIfName("c0ffee", "eth0") {
		t.Fatalf("host interface names not unique/stable: %q %q", ov.HostIf, vl.HostIf)
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	a, err := Plan(testNode, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, _ := Plan(testNode, testRequest())
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("two plans of the same request differ:\n%s\n%s", ja, jb)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		node  Node
		edit  func(r *Request)
		field string
	}{
		{"no container", testNode, func(r *Request) { r.ContainerID = "" }, "container_id"},
		{"no netns", testNode, func(r *Request) { r.Netns = "" }, "netns"},
		{"unknown network", testNode, func(r *Request) { r.Ports[1].Network = "t/nope" }, "ports[1].network"},
		{"overlay without vtep", Node{Name: "n1"}, func(r *Request) {}, "ports[0].network"},
		{"address outside subnet", testNode, func(r *Request) { r.Ports[2].IPs = []netip.Addr{ip("10.9.9.9")} }, "ports[2].ips"},
		{"bad interface", testNode, func(r *Request) { r.Ports[3].Interface = "net 3" }, "ports[3].interface"},
		{"duplicate interface", testNode, func(r *Request) { r.Ports[3].Interface = "net1" }, "ports[3].interface"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRequest()
			tc.edit(&r)
			_, err := Plan(tc.node, r)
			var e *model.Error
			if !errors.As(err, &e) || e.Field != tc.field {
				t.Fatalf("Plan() = %v; want an error on %q", err, tc.field)
			}
		})
	}
}

func TestNoDefaultRouteWithoutGateway(t *testing.T) {
	r := testRequest()
	r.Ports = r.Ports[1:2]
	r.Ports[0].DefaultRoute = true // vlan network without a gateway
	pod, err := Plan(testNode, r)
	if err != nil || len(pod.Links[0].Routes) != 0 {
		t.Fatalf("Plan() = %+v, %v; want no routes (there is no next hop)", pod.Links, err)
	}
}

func joinAddr(a []netip.Addr) string {
	var s []string
	for _, x := range a {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func joinPfx(a []netip.Prefix) string {
	var s []string
	for _, x := range a {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func joinRoutes(rs []Route) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Dst.String()+">"+r.Gateway.String())
	}
	return strings.Join(s, ",")
}
