package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// VXLANPort is the UDP port of Knitter's VXLAN devices (IANA's).
const VXLANPort = 4789

// Default MTUs when neither the network nor the node says otherwise.
const (
	DefaultMTU    = 1500
	VXLANOverhead = 50 // outer Ethernet + IPv4 + UDP + VXLAN headers
)

// Node is what the planner knows of the node it plans for.
type Node struct {
	Name string `json:"name"`
	// VTEP is this node's VXLAN source address; VTEPDevice the underlay NIC that carries it.
	VTEP       netip.Addr `json:"vtep,omitzero"`
	VTEPDevice string     `json:"vtep_device,omitempty"`
	// Uplinks maps a network's physical_network to this node's NIC; a name missing here is taken
	// as the NIC's own name.
	Uplinks map[string]string `json:"uplinks,omitempty"`
	// MTU is the node's NIC MTU, the default for networks without one (overlays subtract the VXLAN
	// overhead). 0 means 1500.
	MTU int `json:"mtu,omitempty"`
}

// Request is one pod's attachment on this node.
type Request struct {
	ContainerID string       `json:"container_id"`
	Netns       string       `json:"netns"`
	Pod         model.PodRef `json:"pod"`
	// Ports are the ports to build, in the pod's request order.
	Ports []model.Port `json:"ports"`
	// Networks holds every network a port names, by key ("tenant/name").
	Networks map[string]model.Network `json:"networks"`
	// Peers are the other nodes' VTEPs, for the overlays' forwarding entries.
	Peers []netip.Addr `json:"peers,omitempty"`
}

// Pod is the plan of one pod's interfaces; stored, it is the agent's checkpoint of the attachment.
type Pod struct {
	ContainerID string       `json:"container_id"`
	Netns       string       `json:"netns"`
	Pod         model.PodRef `json:"pod"`
	Links       []Link       `json:"links"`
}

// Link is one interface of the pod and the node-side plumbing it needs.
type Link struct {
	Type    model.NetworkType `json:"type"`
	Network string            `json:"network"`
	PortID  string            `json:"port_id"`
	// PodIf is the interface name inside the pod.
	PodIf string `json:"pod_if"`
	// HostIf is the node end of the pod's veth (overlay and vlan networks).
	HostIf string `json:"host_if,omitempty"`
	// Bridge is the node bridge the veth joins (overlay networks; a vlan link's veth is on none).
	Bridge string `json:"bridge,omitempty"`
	// VXLAN is the overlay's tunnel device, enslaved to Bridge.
	VXLAN *VXLAN `json:"vxlan,omitempty"`
	// Uplink is the node NIC: a vlan network's trunk, a macvlan's parent, an SR-IOV PF.
	Uplink string `json:"uplink,omitempty"`
	// VLAN is the tag of a vlan link's frames on the trunk, or of the VF (sriov); 0 is untagged.
	VLAN   uint16         `json:"vlan,omitempty"`
	MAC    model.MAC      `json:"mac"`
	MTU    int            `json:"mtu"`
	Addrs  []netip.Prefix `json:"addrs"`
	Routes []Route        `json:"routes,omitempty"`
	// Gateways of the link's subnets (IPv4 first), for the CNI result.
	Gateways []netip.Addr `json:"gateways,omitempty"`
}

// VXLAN is an overlay network's tunnel device on this node.
type VXLAN struct {
	Name   string       `json:"name"`
	VNI    uint32       `json:"vni"`
	Local  netip.Addr   `json:"local"`
	Device string       `json:"device,omitempty"`
	Port   int          `json:"port"`
	Peers  []netip.Addr `json:"peers,omitempty"`
}

// Route is a route inside the pod through one link. A zero Gateway is on-link.
type Route struct {
	Dst     netip.Prefix `json:"dst"`
	Gateway netip.Addr   `json:"gateway,omitzero"`
}

// Plan resolves a pod's ports into links. Errors name the port and what to fix.
func Plan(node Node, r Request) (Pod, error) {
	if r.ContainerID == "" {
		return Pod{}, model.Invalid("container_id", "is empty; the runtime passes CNI_CONTAINERID")
	}
	if r.Netns == "" {
		return Pod{}, model.Invalid("netns", "is empty; the runtime passes CNI_NETNS")
	}
	pod := Pod{ContainerID: r.ContainerID, Netns: r.Netns, Pod: r.Pod}
	names := map[string]bool{}
	for i, p := range r.Ports {
		n, ok := r.Networks[p.Network]
		if !ok {
			return Pod{}, model.Errorf(model.CodeNotFound, fmt.Sprintf("ports[%d].network", i), "network %q of port %s is unknown to the agent", p.Network, p.ID)
		}
		l, err := link(node, r, p, &n)
		if err != nil {
			return Pod{}, model.Prefix(fmt.Sprintf("ports[%d]", i), err)
		}
		if names[l.PodIf] {
			return Pod{}, model.Invalid(fmt.Sprintf("ports[%d].interface", i), "%q is used by two ports of the pod", l.PodIf)
		}
		names[l.PodIf] = true
		pod.Links = append(pod.Links, l)
	}
	return pod, nil
}

func link(node Node, r Request, p model.Port, n *model.Network) (Link, error) {
	if err := model.ValidateInterfaceName("interface", p.Interface); err != nil {
		return Link{}, err
	}
	l := Link{Type: n.Type, Network: n.Key(), PortID: p.ID, PodIf: p.Interface, MAC: p.MAC, MTU: mtu(node, n)}
	switch n.Type {
	case model.Overlay:
		if !node.VTEP.IsValid() {
			return Link{}, model.Invalid("network", "overlay network %q needs this node's VTEP address; start knitter-agent with --vtep", n.Key())
		}
		l.HostIf = HostIfName(r.ContainerID, p.Interface)
		l.Bridge = fmt.Sprintf("knbr-%d", n.VNI)
		peers := slices.DeleteFunc(slices.Clone(r.Peers), func(a netip.Addr) bool { return a == node.VTEP || a.Is4() != node.VTEP.Is4() })
		slices.SortFunc(peers, netip.Addr.Compare)
		l.VXLAN = &VXLAN{Name: fmt.Sprintf("knvx-%d", n.VNI), VNI: n.VNI, Local: node.VTEP, Device: node.VTEPDevice,
			Port: VXLANPort, Peers: slices.Compact(peers)}
	case model.VLAN:
		l.Uplink = node.uplink(n.PhysicalNetwork)
		l.HostIf = HostIfName(r.ContainerID, p.Interface)
		l.VLAN = n.VLAN
	case model.MACVLAN:
		l.Uplink = node.uplink(n.PhysicalNetwork)
	case model.SRIOV:
		l.Uplink = node.uplink(n.PhysicalNetwork)
		l.VLAN = n.VLAN
	}
	for _, ip := range p.IPs {
		sub := n.IPv4
		if ip.Is6() {
			sub = n.IPv6
		}
		if sub == nil || !sub.CIDR.Contains(ip) {
			return Link{}, model.Invalid("ips", "%s is not in a subnet of network %q; the manager's port and network disagree", ip, n.Key())
		}
		l.Addrs = append(l.Addrs, netip.PrefixFrom(ip, sub.CIDR.Bits()))
		if sub.Gateway.IsValid() {
			l.Gateways = append(l.Gateways, sub.Gateway)
		}
		l.Routes = append(l.Routes, routes(sub, p.DefaultRoute)...)
	}
	return l, nil
}

// routes are a subnet's configured routes, plus the default route through its gateway when the port
// carries the pod's default route and the subnet has a gateway (without one there is no next hop).
func routes(sub *model.Subnet, defaultRoute bool) []Route {
	var out []Route
	hasDefault := false
	for _, r := range sub.Routes {
		gw := r.Gateway
		if !gw.IsValid() {
			gw = sub.Gateway
		}
		if r.Dst.Bits() == 0 {
			if !defaultRoute {
				continue // only the default-route interface gets a default route
			}
			hasDefault = true
		}
		out = append(out, Route{Dst: r.Dst, Gateway: gw})
	}
	if defaultRoute && !hasDefault && sub.Gateway.IsValid() {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if sub.CIDR.Addr().Is6() {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		out = append(out, Route{Dst: dst, Gateway: sub.Gateway})
	}
	return out
}

func mtu(node Node, n *model.Network) int {
	if n.MTU != 0 {
		return n.MTU
	}
	m := node.MTU
	if m == 0 {
		m = DefaultMTU
	}
	if n.Type == model.Overlay {
		m -= VXLANOverhead
	}
	return m
}

func (n Node) uplink(physical string) string {
	if nic, ok := n.Uplinks[physical]; ok {
		return nic
	}
	return physical
}

// HostIfName is the node-side name of a pod's veth: "kn" and 11 hex digits of a hash of the container
// and the pod interface, so it is unique per attachment, stable across retries, and fits IFNAMSIZ.
func HostIfName(containerID, podIf string) string {
	return "kn" + shortHash(containerID+"/"+podIf, 11)
}

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}
