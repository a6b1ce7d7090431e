package dataplanetest

import (
	"fmt"
	"net/netip"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// Peers are the other nodes' VTEPs in the contract's overlay plans.
var Peers = []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")}

// Overlay returns an overlay link of VNI vni for container cid, with the addresses given (each
// "10.1.0.5/24" or "fd00::5/64"). Its MTU is 1450, the 1500 of Underlay less VXLAN's overhead.
func Overlay(cid, podIf string, vni uint32, addrs ...string) plan.Link {
	return plan.Link{
		Type: model.Overlay, Network: fmt.Sprintf("t/overlay-%d", vni), PortID: cid + "-" + podIf, PodIf: podIf,
		HostIf: plan.HostIfName(cid, podIf), Bridge: fmt.Sprintf("knbr-%d", vni),
		VXLAN: &plan.VXLAN{Name: fmt.Sprintf("knvx-%d", vni), VNI: vni, Local: VTEP, Device: Underlay, Port: plan.VXLANPort, Peers: Peers},
		MAC:   mac(cid + podIf), MTU: 1450, Addrs: prefixes(addrs),
	}
}

// VLAN returns a vlan link of VLAN vlan on Trunk for container cid.
func VLAN(cid, podIf string, vlan uint16, addrs ...string) plan.Link {
	return plan.Link{
		Type: model.VLAN, Network: fmt.Sprintf("t/vlan-%d", vlan), PortID: cid + "-" + podIf, PodIf: podIf,
		HostIf: plan.HostIfName(cid, podIf), Uplink: Trunk, VLAN: vlan,
		MAC: mac(cid + podIf), MTU: 1500, Addrs: prefixes(addrs),
	}
}

// MACVLAN returns a macvlan link on Parent for container cid.
func MACVLAN(cid, podIf string, addrs ...string) plan.Link {
	return plan.Link{
		Type: model.MACVLAN, Network: "t/macvlan", PortID: cid + "-" + podIf, PodIf: podIf, Uplink: Parent,
		MAC: mac(cid + podIf), MTU: 1500, Addrs: prefixes(addrs),
	}
}

// SRIOV returns an sriov link on PF for container cid.
func SRIOV(cid, podIf string, vlan uint16, addrs ...string) plan.Link {
	return plan.Link{
		Type: model.SRIOV, Network: "t/sriov", PortID: cid + "-" + podIf, PodIf: podIf, Uplink: PF, VLAN: vlan,
		MAC: mac(cid + podIf), MTU: 1500, Addrs: prefixes(addrs),
	}
}

// Route returns a route to dst ("0.0.0.0/0") via gw ("" for on-link).
func Route(dst, gw string) plan.Route {
	r := plan.Route{Dst: netip.MustParsePrefix(dst)}
	if gw != "" {
		r.Gateway = netip.MustParseAddr(gw)
	}
	return r
}

// Pod returns the plan of container cid in netns with links.
func Pod(cid, netns string, links ...plan.Link) plan.Pod {
	return plan.Pod{ContainerID: cid, Netns: netns, Pod: model.PodRef{Namespace: "default", Name: cid}, Links: links}
}

func prefixes(s []string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, a := range s {
		out[i] = netip.MustParsePrefix(a)
	}
	return out
}

// mac derives a stable locally administered unicast MAC from s.
func mac(s string) model.MAC {
	m := model.MAC{0x02, 0x4b}
	var h uint32 = 2166136261
	for _, c := range []byte(s) {
		h = (h ^ uint32(c)) * 16777619
	}
	m[2], m[3], m[4], m[5] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	return m
}
