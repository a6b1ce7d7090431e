package cnibench

import (
	"net"
	"net/netip"
	"slices"
)

// attachment is one of the benchmark pod's interfaces: what it is attached to and how it is
// addressed. The reference plugins and the bare-netlink floor both build it from this description,
// so the two measure the same work.
type attachment struct {
	ifName string
	// bridge names the node bridge for a veth attachment; empty means a macvlan on macvlanParent.
	bridge string
	// vlan tags the pod's bridge port (PVID, untagged) on a VLAN-filtering bridge; 0 means untagged.
	vlan uint16
	// subnet is the attachment's IPv4 subnet and addr the pod's address in it. The floor uses addr as
	// given (Knitter's allocation is done before the CNI call); host-local picks its own in subnet.
	subnet netip.Prefix
	addr   netip.Addr
	mac    net.HardwareAddr
	routes []route
}

// route is a pod route through a gateway on the attachment's subnet.
type route struct {
	dst netip.Prefix
	gw  netip.Addr
}

// macvlanParent is the node NIC the macvlan attachment hangs off: one end of a veth pair that the
// benchmarks create in the node namespace, standing in for a physical NIC.
const macvlanParent = "mvparent0"

// benchPod returns Knitter's benchmark pod: eth0 with the default route, a second bridged network,
// a VLAN-tagged bridge port and a macvlan with a routed prefix behind its gateway. Without tagged,
// the VLAN port is untagged (VLAN 0): kernels built without CONFIG_BRIDGE_VLAN_FILTERING (this one)
// cannot tag a bridge port, and 8021q devices are not an option either.
func benchPod(tagged bool) []attachment {
	pod := slices.Clone(podAttachments)
	if !tagged {
		for i := range pod {
			pod[i].vlan = 0
		}
	}
	return pod
}

// podAttachments is the pod benchPod returns, with the VLAN tag.
var podAttachments = []attachment{
	{
		ifName: "eth0", bridge: "cbr0",
		subnet: netip.MustParsePrefix("10.10.0.0/24"), addr: netip.MustParseAddr("10.10.0.5"),
		mac:    mustMAC("02:00:0a:0a:00:05"),
		routes: []route{{dst: netip.MustParsePrefix("0.0.0.0/0"), gw: netip.MustParseAddr("10.10.0.1")}},
	},
	{
		ifName: "net1", bridge: "cbr1",
		subnet: netip.MustParsePrefix("10.11.0.0/24"), addr: netip.MustParseAddr("10.11.0.5"),
		mac: mustMAC("02:00:0a:0b:00:05"),
	},
	{
		ifName: "net2", bridge: "cbr2", vlan: 100,
		subnet: netip.MustParsePrefix("10.12.0.0/24"), addr: netip.MustParseAddr("10.12.0.5"),
		mac: mustMAC("02:00:0a:0c:00:05"),
	},
	{
		ifName: "net3",
		subnet: netip.MustParsePrefix("10.13.0.0/24"), addr: netip.MustParseAddr("10.13.0.5"),
		mac:    mustMAC("02:00:0a:0d:00:05"),
		routes: []route{{dst: netip.MustParsePrefix("10.20.0.0/16"), gw: netip.MustParseAddr("10.13.0.1")}},
	},
}

func mustMAC(s string) net.HardwareAddr {
	mac, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return mac
}
