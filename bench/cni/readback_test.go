package cnibench

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
)

// checkPod reads the pod's interfaces back through netlink and reports the first way they differ
// from want, so that a benchmark is known to time interfaces that really work. With
// static set, each address and MAC must be exactly the attachment's (the floor); otherwise any
// address in the subnet will do (host-local chooses).
func checkPod(node, pod *netNS, want []attachment, static bool) error {
	vlans, err := node.H.BridgeVlanList()
	if err != nil {
		return fmt.Errorf("list bridge VLANs in the node: %w", err)
	}
	for _, a := range want {
		link, err := pod.H.LinkByName(a.ifName)
		if err != nil {
			return fmt.Errorf("%s: not in the pod: %w", a.ifName, err)
		}
		if link.Attrs().Flags&net.FlagUp == 0 {
			return fmt.Errorf("%s: is down", a.ifName)
		}
		if static && link.Attrs().HardwareAddr.String() != a.mac.String() {
			return fmt.Errorf("%s: MAC %s, want %s", a.ifName, link.Attrs().HardwareAddr, a.mac)
		}
		if err := checkAddr(pod, link, a, static); err != nil {
			return err
		}
		if err := checkRoutes(pod, link, a); err != nil {
			return err
		}
		// For a veth and a macvlan alike, IFLA_LINK names the node-side link: the veth's peer or the
		// macvlan's parent.
		peer, err := node.H.LinkByIndex(link.Attrs().ParentIndex)
		if err != nil {
			return fmt.Errorf("%s: no node-side link with index %d: %w", a.ifName, link.Attrs().ParentIndex, err)
		}
		if a.bridge == "" {
			if err := checkMacvlan(link, peer, a); err != nil {
				return err
			}
			continue
		}
		if err := checkVeth(node, link, peer, a, vlans[int32(peer.Attrs().Index)]); err != nil {
			return err
		}
	}
	return nil
}

func checkAddr(pod *netNS, link netlink.Link, a attachment, static bool) error {
	addrs, err := pod.H.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s: list addresses: %w", a.ifName, err)
	}
	for _, addr := range addrs {
		ip, ok := netip.AddrFromSlice(addr.IP.To4())
		ones, _ := addr.Mask.Size()
		if ok && a.subnet.Contains(ip) && ones == a.subnet.Bits() && (!static || ip == a.addr) {
			return nil
		}
	}
	return fmt.Errorf("%s: no address in %s (static %v, want %s): %v", a.ifName, a.subnet, static, a.addr, addrs)
}

func checkRoutes(pod *netNS, link netlink.Link, a attachment) error {
	routes, err := pod.H.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("%s: list routes: %w", a.ifName, err)
	}
	for _, want := range a.routes {
		found := slices.ContainsFunc(routes, func(r netlink.Route) bool {
			dst := netip.MustParsePrefix("0.0.0.0/0")
			if r.Dst != nil {
				ones, _ := r.Dst.Mask.Size()
				addr, _ := netip.AddrFromSlice(r.Dst.IP.To4())
				dst = netip.PrefixFrom(addr, ones)
			}
			gw, _ := netip.AddrFromSlice(r.Gw.To4())
			return dst == want.dst && gw == want.gw
		})
		if !found {
			return fmt.Errorf("%s: no route to %s via %s: %v", a.ifName, want.dst, want.gw, routes)
		}
	}
	return nil
}

func checkMacvlan(link, parent netlink.Link, a attachment) error {
	mv, ok := link.(*netlink.Macvlan)
	if !ok {
		return fmt.Errorf("%s: is a %s, want a macvlan", a.ifName, link.Type())
	}
	if mv.Mode != netlink.MACVLAN_MODE_BRIDGE {
		return fmt.Errorf("%s: macvlan mode %v, want bridge", a.ifName, mv.Mode)
	}
	if parent.Attrs().Name != macvlanParent {
		return fmt.Errorf("%s: macvlan parent %s, want %s", a.ifName, parent.Attrs().Name, macvlanParent)
	}
	return nil
}

// checkVeth checks that the pod's veth has its node end on the attachment's bridge, and for a VLAN
// attachment that the node end is an untagged PVID port of that VLAN and of no other. (Ports of a
// bridge without VLAN filtering list no VLANs at all.)
func checkVeth(node *netNS, link, peer netlink.Link, a attachment, vlans []*nl.BridgeVlanInfo) error {
	if link.Type() != "veth" {
		return fmt.Errorf("%s: is a %s, want a veth", a.ifName, link.Type())
	}
	bridge, err := node.H.LinkByName(a.bridge)
	if err != nil {
		return fmt.Errorf("%s: bridge %s not in the node: %w", a.ifName, a.bridge, err)
	}
	if peer.Attrs().MasterIndex != bridge.Attrs().Index {
		return fmt.Errorf("%s: node end %s is not a port of %s", a.ifName, peer.Attrs().Name, a.bridge)
	}
	if a.vlan == 0 {
		return nil
	}
	want := nl.BridgeVlanInfo{Vid: a.vlan, Flags: nl.BRIDGE_VLAN_INFO_PVID | nl.BRIDGE_VLAN_INFO_UNTAGGED}
	if len(vlans) != 1 || *vlans[0] != want {
		return fmt.Errorf("%s: node end %s has VLANs %v, want only %d as untagged PVID", a.ifName, peer.Attrs().Name, vlans, a.vlan)
	}
	return nil
}

// checkPodGone reports any interface but lo left in the pod, and any veth left on the node's bridges,
// after a pod DEL.
func checkPodGone(node, pod *netNS) error {
	links, err := pod.H.LinkList()
	if err != nil {
		return fmt.Errorf("list pod links: %w", err)
	}
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			return fmt.Errorf("pod still has %s after DEL", l.Attrs().Name)
		}
	}
	links, err = node.H.LinkList()
	if err != nil {
		return fmt.Errorf("list node links: %w", err)
	}
	for _, l := range links {
		if l.Attrs().MasterIndex != 0 {
			return fmt.Errorf("node still has %s on a bridge after DEL", l.Attrs().Name)
		}
	}
	return nil
}
