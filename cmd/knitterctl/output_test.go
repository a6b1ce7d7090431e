package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// golden compares output with want, showing both in full on a mismatch.
func golden(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n--- got ---\n%s--- want ---\n%s", what, got, want)
	}
}

func tableText(t *testing.T, tb *table) string {
	t.Helper()
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func sampleNetworks() []model.Network {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	return []model.Network{
		{Tenant: "admin", Name: "shared", Type: model.Overlay, VNI: 1000, Public: true,
			IPv4: &model.Subnet{CIDR: p("10.100.0.0/16"), Gateway: a("10.100.0.1")}},
		{Tenant: "demo", Name: "demo-overlay", Type: model.Overlay, VNI: 1001, MTU: 1450,
			IPv4: &model.Subnet{CIDR: p("10.10.0.0/24"), Gateway: a("10.10.0.1"),
				Ranges:  []model.Range{{Start: a("10.10.0.10"), End: a("10.10.0.99")}},
				Exclude: []model.Range{{Start: a("10.10.0.50"), End: a("10.10.0.50")}, {Start: a("10.10.0.60"), End: a("10.10.0.69")}},
				Routes:  []model.Route{{Dst: p("192.168.0.0/16"), Gateway: a("10.10.0.254")}, {Dst: p("172.16.0.0/12")}}},
			IPv6: &model.Subnet{CIDR: p("fd00:10::/64")}},
		{Tenant: "demo", Name: "demo-vlan100", Type: model.VLAN, VLAN: 100, PhysicalNetwork: "eth1",
			IPv4: &model.Subnet{CIDR: p("10.20.0.0/24")}},
		{Tenant: "demo", Name: "demo-macvlan", Type: model.MACVLAN, PhysicalNetwork: "eth2",
			IPv4: &model.Subnet{CIDR: p("10.30.0.0/24")}},
	}
}

func samplePorts() []model.Port {
	a := netip.MustParseAddr
	mac, _ := model.ParseMAC("4a:5d:00:00:00:01")
	return []model.Port{
		{ID: "u1/eth0", Tenant: "demo", Network: "demo/demo-overlay", Pod: model.PodRef{UID: "u1", Namespace: "demo", Name: "web-0"},
			Interface: "eth0", IPs: []netip.Addr{a("10.10.0.10"), a("fd00:10::2")}, MAC: mac, DefaultRoute: true, Node: "worker-1", State: model.PortBound},
		{ID: "u1/net1", Tenant: "demo", Network: "admin/shared", Pod: model.PodRef{UID: "u1", Namespace: "demo", Name: "web-0"},
			Interface: "net1", IPs: []netip.Addr{a("10.100.0.2")}, IPGroup: "frontends", Node: "worker-1", State: model.PortBound},
		{ID: "u2/eth0", Tenant: "demo", Network: "demo/demo-overlay", Pod: model.PodRef{UID: "u2", Namespace: "demo", Name: "web-1"},
			Interface: "eth0", IPs: []netip.Addr{a("10.10.0.11")}, State: model.PortAllocated},
	}
}

func TestTables(t *testing.T) {
	golden(t, "tenants", tableText(t, tenantTable([]httpapi.TenantInfo{
		{Tenant: model.Tenant{Name: "admin", Admin: true}, Usage: httpapi.Usage{Networks: 1}},
		{Tenant: model.Tenant{Name: "demo", DefaultNetwork: "demo-overlay", Quota: model.Quota{Networks: 10, Ports: 500}},
			Usage: httpapi.Usage{Networks: 3, Ports: 12}},
	})), `NAME    ADMIN   DEFAULT-NETWORK   NETWORKS   PORTS
admin   yes     -                 1          0
demo    no      demo-overlay      3/10       12/500
`)
	golden(t, "networks", tableText(t, networkTable(sampleNetworks())), `TENANT   NAME           TYPE      SEGMENT            IPV4            IPV6           MTU    PUBLIC
admin    shared         overlay   vni 1000           10.100.0.0/16   -              -      yes
demo     demo-overlay   overlay   vni 1001           10.10.0.0/24    fd00:10::/64   1450   no
demo     demo-vlan100   vlan      vlan 100 on eth1   10.20.0.0/24    -              -      no
demo     demo-macvlan   macvlan   eth2               10.30.0.0/24    -              -      no
`)
	golden(t, "ports", tableText(t, portTable(samplePorts())), `POD-UID   INTERFACE   POD          NETWORK             IPS                     MAC                 NODE       STATE
u1        eth0*       demo/web-0   demo/demo-overlay   10.10.0.10,fd00:10::2   4a:5d:00:00:00:01   worker-1   bound
u1        net1        demo/web-0   admin/shared        10.100.0.2              -                   worker-1   bound
u2        eth0        demo/web-1   demo/demo-overlay   10.10.0.11              -                   -          allocated
`)
	golden(t, "pods", tableText(t, podTable(podsOf(samplePorts()))), `UID   NAMESPACE   NAME    TENANT   NODE       INTERFACES
u1    demo        web-0   demo     worker-1   eth0=10.10.0.10,fd00:10::2 net1=10.100.0.2
u2    demo        web-1   demo     -          eth0=10.10.0.11
`)
	ips, _ := parseIPs("", []string{"10.10.0.200-10.10.0.205"})
	golden(t, "ipgroups", tableText(t, ipgroupTable([]model.IPGroup{{Tenant: "demo", Name: "frontends", Network: "demo-overlay", IPs: ips}})),
		`TENANT   NAME        NETWORK        SIZE   IPS
demo     frontends   demo-overlay   6      10.10.0.200,10.10.0.201,10.10.0.202,10.10.0.203,+2 more
`)
	golden(t, "nodes", tableText(t, nodeTable([]model.Node{
		{Name: "worker-1", VTEP: netip.MustParseAddr("192.168.10.11"), Heartbeat: 1_795_000_000_000},
		{Name: "worker-2"},
	})), `NAME       VTEP            HEARTBEAT
worker-1   192.168.10.11   2026-11-18T11:06:40Z
worker-2   -               -
`)
	golden(t, "tokens", tableText(t, tokenTable([]httpapi.TokenInfo{
		{ID: "agent", Role: model.RoleSystem, Created: 1_795_000_000_000},
		{ID: "acme-ops", Role: model.RoleTenant, Tenant: "acme"},
	})), `ID         ROLE     TENANT   CREATED
agent      system   -        2026-11-18T11:06:40Z
acme-ops   tenant   acme     -
`)
}

func TestDescribeNetwork(t *testing.T) {
	n := sampleNetworks()[1]
	var b bytes.Buffer
	err := describeNetwork(&b, httpapi.NetworkInfo{Network: n, Stats: &httpapi.NetworkStats{
		IPv4: &httpapi.PoolStats{Capacity: 79, Used: 2, Cooling: 1, Held: 1},
		IPv6: &httpapi.PoolStats{Capacity: 1<<64 - 2, Used: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "describe network", b.String(), `Name:    demo/demo-overlay
Type:    overlay
VNI:     1001
MTU:     1450
Public:  no
IPv4:
  CIDR:     10.10.0.0/24
  Gateway:  10.10.0.1
  Ranges:   10.10.0.10-10.10.0.99
  Exclude:  10.10.0.50, 10.10.0.60-10.10.0.69
  Routes:   192.168.0.0/16 via 10.10.0.254, 172.16.0.0/12 via the gateway
  Pool:     2 used, 1 cooling, 1 held, 75 free of 79 (5.1% taken)
IPv6:
  CIDR:     fd00:10::/64
  Gateway:  none
  Ranges:   the whole subnet
  Exclude:  none
  Routes:   none
  Pool:     1 used, 0 cooling, 0 held, ~1.84e+19 free of ~1.84e+19 (0.0% taken)
`)
	b.Reset()
	if err := describeNetwork(&b, httpapi.NetworkInfo{Network: sampleNetworks()[2]}); err != nil {
		t.Fatal(err)
	}
	golden(t, "describe vlan network without stats", b.String(), `Name:              demo/demo-vlan100
Type:              vlan
VLAN:              100
Physical network:  eth1
MTU:               node default
Public:            no
IPv4:
  CIDR:     10.20.0.0/24
  Gateway:  none
  Ranges:   the whole subnet
  Exclude:  none
  Routes:   none
`)
}

func TestDescribeOthers(t *testing.T) {
	var b bytes.Buffer
	if err := describeTenant(&b, httpapi.TenantInfo{Tenant: model.Tenant{Name: "demo", Quota: model.Quota{Networks: 10}},
		Usage: httpapi.Usage{Networks: 3, Ports: 7}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "describe tenant", b.String(), `Name:             demo
Admin:            no
Default network:  none (pods that ask for nothing get no Knitter interface)
Usage:
  Networks:  3 of 10 (quota)
  Ports:     7 (no quota)
`)

	b.Reset()
	ports := samplePorts()
	pod := model.Pod{PodRef: ports[0].Pod, Tenant: "demo", Node: "worker-1", Created: 1_795_000_000_000, Ports: ports[:2]}
	if err := describePod(&b, pod); err != nil {
		t.Fatal(err)
	}
	golden(t, "describe pod", b.String(), `UID:      u1
Pod:      demo/web-0
Tenant:   demo
Owner:    none (not sticky)
Node:     worker-1
Created:  2026-11-18T11:06:40Z
Ports:
  INTERFACE   NETWORK             IPS                     MAC                 IP-GROUP    DEFAULT-ROUTE   STATE
  eth0        demo/demo-overlay   10.10.0.10,fd00:10::2   4a:5d:00:00:00:01   -           yes             bound
  net1        admin/shared        10.100.0.2              -                   frontends   no              bound
`)

	b.Reset()
	ips, _ := parseIPs("", []string{"10.100.0.2-10.100.0.3"})
	g := model.IPGroup{Tenant: "admin", Name: "frontends", Network: "shared", IPs: ips}
	if err := describeIPGroup(&b, g, ports); err != nil {
		t.Fatal(err)
	}
	golden(t, "describe ipgroup", b.String(), `Name:     admin/frontends
Network:  admin/shared
Size:     2 (1 in use)
Addresses:
  IP           USED-BY
  10.100.0.2   demo/web-0 net1 (port u1/net1)
  10.100.0.3   free
`)

	b.Reset()
	if err := describeNode(&b, model.Node{Name: "worker-2"}, nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "describe node", b.String(), `Name:       worker-2
VTEP:       none
Heartbeat:  never
Ports (0):
  none
`)
}

func TestEncode(t *testing.T) {
	n := sampleNetworks()[2]
	var b bytes.Buffer
	if err := encode(&b, outYAML, httpapi.NetworkList{Networks: []model.Network{n}}); err != nil {
		t.Fatal(err)
	}
	golden(t, "yaml", b.String(), `networks:
- ipv4:
    cidr: 10.20.0.0/24
  name: demo-vlan100
  physical_network: eth1
  tenant: demo
  type: vlan
  vlan: 100
`)
	b.Reset()
	if err := encode(&b, outJSON, n.IPv4); err != nil {
		t.Fatal(err)
	}
	golden(t, "json", b.String(), "{\n  \"cidr\": \"10.20.0.0/24\"\n}\n")
}

func TestEmitEmptyTableSaysSo(t *testing.T) {
	var out, errw bytes.Buffer
	a := &app{streams: streams{out: &out, err: &errw}, flags: globalFlags{output: outTable}}
	if err := a.emit(httpapi.PortList{}, func() *table { return portTable(nil) }); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errw.String() != "No ports found.\n" {
		t.Fatalf("stdout %q stderr %q", out.String(), errw.String())
	}
	a.flags.output = outJSON
	if err := a.emit(httpapi.PortList{Ports: []model.Port{}}, func() *table { return portTable(nil) }); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "{\n  \"ports\": []\n}" {
		t.Fatalf("json of an empty list: %q", got)
	}
}
