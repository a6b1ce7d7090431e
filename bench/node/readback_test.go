package nodebench

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/core/plan"
)

// wantLink is what one of a pod's interfaces must look like when read back through netlink.
type wantLink struct {
	ifName string
	// mac is the interface's MAC; nil accepts any (the reference plugins let the kernel choose).
	mac net.HardwareAddr
	// addr is the interface's address with its prefix length; with anyAddr, any address of the
	// same prefix will do (host-local chooses).
	addr    netip.Prefix
	anyAddr bool
	routes  []plan.Route
	// bridge is the node bridge the veth's node end is a port of; "" means a macvlan on parentNIC.
	bridge string
}

// wantFromPlan is what the agent's plan (or the floor, built from it) must have built.
func wantFromPlan(p plan.Pod) []wantLink {
	var want []wantLink
	for _, l := range p.Links {
		want = append(want, wantLink{ifName: l.PodIf, mac: net.HardwareAddr(l.MAC[:]), addr: l.Addrs[0], routes: l.Routes, bridge: l.Bridge})
	}
	return want
}

// checkLinks reads the pod's interfaces back and returns the first way they differ from want, so
// that a benchmark is known to time interfaces that really work.
func checkLinks(node, pod *netNS, want []wantLink) error {
	links, err := pod.H.LinkList()
	if err != nil {
		return fmt.Errorf("list pod links: %w", err)
	}
	if len(links) != len(want)+1 {
		return fmt.Errorf("the pod has %d interfaces, want lo and %d: %v", len(links), len(want), names(links))
	}
	for _, w := range want {
		if err := checkLink(node, pod, w); err != nil {
			return fmt.Errorf("%s: %w", w.ifName, err)
		}
	}
	return nil
}

func checkLink(node, pod *netNS, w wantLink) error {
	link, err := pod.H.LinkByName(w.ifName)
	if err != nil {
		return fmt.Errorf("not in the pod: %w", err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("is down")
	}
	if w.mac != nil && link.Attrs().HardwareAddr.String() != w.mac.String() {
		return fmt.Errorf("MAC %s, want %s", link.Attrs().HardwareAddr, w.mac)
	}
	addrs, err := pod.H.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return addrMatches(prefixOf(a.IPNet), w) }) {
		return fmt.Errorf("addresses %v, want %s (any in its subnet: %v)", addrs, w.addr, w.anyAddr)
	}
	routes, err := pod.H.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	for _, r := range w.routes {
		if !slices.ContainsFunc(routes, func(got netlink.Route) bool { return routeMatches(got, r) }) {
			return fmt.Errorf("no route to %s via %s: %v", r.Dst, r.Gateway, routes)
		}
	}
	// For a veth and a macvlan alike, IFLA_LINK names the node-side link: the veth's peer or the
	// macvlan's parent.
	peer, err := node.H.LinkByIndex(link.Attrs().ParentIndex)
	if err != nil {
		return fmt.Errorf("no node-side link with index %d: %w", link.Attrs().ParentIndex, err)
	}
	if w.bridge == "" {
		mv, ok := link.(*netlink.Macvlan)
		if !ok || mv.Mode != netlink.MACVLAN_MODE_BRIDGE || peer.Attrs().Name != parentNIC {
			return fmt.Errorf("is a %s on %s, want a bridge-mode macvlan on %s", link.Type(), peer.Attrs().Name, parentNIC)
		}
		return nil
	}
	br, err := node.H.LinkByName(w.bridge)
	if err != nil {
		return fmt.Errorf("bridge %s is not on the node: %w", w.bridge, err)
	}
	if link.Type() != "veth" || peer.Attrs().MasterIndex != br.Attrs().Index || peer.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("is a %s whose node end %s is not an up port of %s", link.Type(), peer.Attrs().Name, w.bridge)
	}
	return nil
}

func addrMatches(got netip.Prefix, w wantLink) bool {
	if w.anyAddr {
		return got.Bits() == w.addr.Bits() && w.addr.Contains(got.Addr())
	}
	return got == w.addr
}

// netipDefault is the IPv4 default route's destination.
var netipDefault = netip.MustParsePrefix("0.0.0.0/0")

func routeMatches(got netlink.Route, want plan.Route) bool {
	dst := netipDefault
	if got.Dst != nil {
		dst = prefixOf(got.Dst)
	}
	gw, _ := netip.AddrFromSlice(got.Gw.To4())
	return dst == want.Dst && gw == want.Gateway
}

func prefixOf(n *net.IPNet) netip.Prefix {
	addr, _ := netip.AddrFromSlice(n.IP.To4())
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr, ones)
}

func names(links []netlink.Link) []string {
	var out []string
	for _, l := range links {
		out = append(out, l.Attrs().Name)
	}
	return out
}

// checkPodEmpty reports any interface but lo left in the pod after DEL.
func checkPodEmpty(pod *netNS) error {
	links, err := pod.H.LinkList()
	if err != nil {
		return fmt.Errorf("list pod links: %w", err)
	}
	if len(links) != 1 || links[0].Attrs().Name != "lo" {
		return fmt.Errorf("the pod still has %v after DEL", names(links))
	}
	return nil
}

// checkNodeClean reports any link on the node that is not node plumbing — lo, the NICs and their
// peers, bridges and VXLAN devices — such as the node end of a pod's veth after DEL.
func checkNodeClean(node *netNS) error {
	links, err := node.H.LinkList()
	if err != nil {
		return fmt.Errorf("list node links: %w", err)
	}
	var left []string
	for _, l := range links {
		name := l.Attrs().Name
		nic := name == "lo" || strings.TrimSuffix(name, "p") == underlayNIC || strings.TrimSuffix(name, "p") == parentNIC
		if !nic && l.Type() != "bridge" && l.Type() != "vxlan" {
			left = append(left, name+" ("+l.Type()+")")
		}
	}
	if len(left) > 10 {
		return fmt.Errorf("the node still has %d links after DEL: %v ...", len(left), left[:10])
	}
	if len(left) > 0 {
		return fmt.Errorf("the node still has %v after DEL", left)
	}
	return nil
}
