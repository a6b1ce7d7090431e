package model

import (
	"fmt"
	"net/netip"
)

// NetworkType says how a network reaches the pod.
type NetworkType string

// The network types Knitter builds.
const (
	// Overlay is a VXLAN segment: a bridge per network on every node, joined by VXLAN tunnels.
	Overlay NetworkType = "overlay"
	// VLAN is an underlay segment: a VLAN id on the node's uplink NIC (a trunk), tagged by eBPF.
	VLAN NetworkType = "vlan"
	// MACVLAN attaches pods as macvlan children of a host NIC.
	MACVLAN NetworkType = "macvlan"
	// SRIOV hands the pod a virtual function of a physical NIC.
	SRIOV NetworkType = "sriov"
)

// Valid reports whether t is one of the known types.
func (t NetworkType) Valid() bool {
	switch t {
	case Overlay, VLAN, MACVLAN, SRIOV:
		return true
	}
	return false
}

// Limits of the network fields.
const (
	MaxVNI    = 1<<24 - 1
	MaxVLAN   = 4094
	MinMTU    = 576 // IPv4's minimum datagram; IPv6 needs 1280 and is checked separately
	MaxMTU    = 9216
	MinV6MTU  = 1280
	MinV6Bits = 64 // IPv6 subnets must be /64 or longer: an address's offset fits in 64 bits
)

// Network is a layer-2 segment with up to one IPv4 and one IPv6 subnet.
type Network struct {
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
	// Public networks belong to an admin tenant and every tenant's pods may attach to them.
	Public bool        `json:"public,omitempty"`
	Type   NetworkType `json:"type"`
	// VNI is the VXLAN id of an overlay network; 0 lets the manager choose one.
	VNI uint32 `json:"vni,omitempty"`
	// VLAN is the VLAN id of a vlan network (1-4094), or an optional tag on an SR-IOV VF.
	VLAN uint16 `json:"vlan,omitempty"`
	// PhysicalNetwork names the node NIC (or the physical network an agent maps to a NIC) that vlan,
	// macvlan and sriov networks use. Overlay networks leave it empty.
	PhysicalNetwork string  `json:"physical_network,omitempty"`
	MTU             int     `json:"mtu,omitempty"`
	IPv4            *Subnet `json:"ipv4,omitempty"`
	IPv6            *Subnet `json:"ipv6,omitempty"`
}

// Key returns the network's unique key, "tenant/name".
func (n *Network) Key() string { return n.Tenant + "/" + n.Name }

// Subnets returns the network's subnets, IPv4 first.
func (n *Network) Subnets() []*Subnet {
	var s []*Subnet
	if n.IPv4 != nil {
		s = append(s, n.IPv4)
	}
	if n.IPv6 != nil {
		s = append(s, n.IPv6)
	}
	return s
}

// Subnet is one address family of a network.
type Subnet struct {
	CIDR netip.Prefix `json:"cidr"`
	// Gateway is the router of the subnet; the zero value means none (no default route through it).
	Gateway netip.Addr `json:"gateway,omitzero"`
	// Ranges limit allocation to these addresses; empty means the whole subnet.
	Ranges []Range `json:"ranges,omitempty"`
	// Exclude lists addresses never handed out.
	Exclude []Range `json:"exclude,omitempty"`
	Routes  []Route `json:"routes,omitempty"`
}

// Range is an inclusive range of addresses of one family.
type Range struct {
	Start netip.Addr `json:"start"`
	End   netip.Addr `json:"end"`
}

// Contains reports whether a lies in r.
func (r Range) Contains(a netip.Addr) bool {
	return r.Start.Compare(a) <= 0 && a.Compare(r.End) <= 0
}

// String formats r as "start-end".
func (r Range) String() string { return r.Start.String() + "-" + r.End.String() }

// Route is a route the pod gets through this network's interface. A zero Gateway means the subnet's
// gateway, or an on-link route when the subnet has none.
type Route struct {
	Dst     netip.Prefix `json:"dst"`
	Gateway netip.Addr   `json:"gateway,omitzero"`
}

// Validate checks every field of the network; errors name the field and the fix.
func (n *Network) Validate() error {
	if err := ValidateName("name", n.Name); err != nil {
		return err
	}
	if err := ValidateName("tenant", n.Tenant); err != nil {
		return err
	}
	if !n.Type.Valid() {
		return Invalid("type", "%q is not a network type; use one of overlay, vlan, macvlan, sriov", n.Type)
	}
	if err := n.validateSegment(); err != nil {
		return err
	}
	if n.MTU != 0 && (n.MTU < MinMTU || n.MTU > MaxMTU) {
		return Invalid("mtu", "%d is out of range; use %d-%d, or 0 for the node default", n.MTU, MinMTU, MaxMTU)
	}
	if n.IPv4 == nil && n.IPv6 == nil {
		return Invalid("ipv4", "a network needs an ipv4 or an ipv6 subnet (or both); add {\"cidr\": \"10.1.0.0/16\"}")
	}
	if n.IPv4 != nil {
		if err := n.IPv4.Validate("ipv4", false); err != nil {
			return err
		}
		if err := n.IPv4.checkUnicast("ipv4"); err != nil {
			return err
		}
	}
	if n.IPv6 != nil {
		if n.MTU != 0 && n.MTU < MinV6MTU {
			return Invalid("mtu", "%d is below IPv6's minimum; use at least %d on a network with an ipv6 subnet", n.MTU, MinV6MTU)
		}
		if err := n.IPv6.Validate("ipv6", true); err != nil {
			return err
		}
		if err := n.IPv6.checkUnicast("ipv6"); err != nil {
			return err
		}
	}
	return nil
}

func (n *Network) validateSegment() error {
	switch n.Type {
	case Overlay:
		if n.VNI > MaxVNI {
			return Invalid("vni", "%d is out of range; use 1-%d, or 0 to let the manager choose", n.VNI, MaxVNI)
		}
		if n.VLAN != 0 {
			return Invalid("vlan", "an overlay network has no VLAN id; remove it or use type vlan")
		}
	case VLAN:
		if n.VLAN < 1 || n.VLAN > MaxVLAN {
			return Invalid("vlan", "%d is out of range; a vlan network needs a VLAN id 1-%d", n.VLAN, MaxVLAN)
		}
	case MACVLAN:
		if n.VLAN != 0 {
			return Invalid("vlan", "a macvlan network cannot carry VLAN %d: macvlan delivers by MAC and never tags, so the pods would be untagged; remove vlan, or use type vlan on physical_network %q for a tagged segment", n.VLAN, n.PhysicalNetwork)
		}
	case SRIOV:
		if n.VLAN > MaxVLAN {
			return Invalid("vlan", "%d is out of range; use 1-%d, or 0 for untagged", n.VLAN, MaxVLAN)
		}
	}
	if n.Type != Overlay && n.VNI != 0 {
		return Invalid("vni", "only overlay networks have a VNI; remove it or use type overlay")
	}
	if n.Type != Overlay && n.PhysicalNetwork == "" {
		return Invalid("physical_network", "a %s network needs the node NIC (or physical network) it uses, e.g. \"eth1\"", n.Type)
	}
	if n.Type == Overlay && n.PhysicalNetwork != "" {
		return Invalid("physical_network", "an overlay network runs over the node's VTEP, not a NIC; remove it or use type vlan")
	}
	if n.PhysicalNetwork != "" {
		return ValidateInterfaceName("physical_network", n.PhysicalNetwork)
	}
	return nil
}

// Validate checks the subnet; field is "ipv4" or "ipv6" and v6 its family.
func (s *Subnet) Validate(field string, v6 bool) error {
	fam, other := "IPv4", "ipv6"
	if v6 {
		fam, other = "IPv6", "ipv4"
	}
	if !s.CIDR.IsValid() {
		return Invalid(field+".cidr", "is missing or malformed; give a prefix such as %q", example(v6))
	}
	if s.CIDR.Addr().Is4In6() || s.CIDR.Addr().Is6() != v6 {
		return Invalid(field+".cidr", "%s is not an %s prefix; put it under %q", s.CIDR, fam, other)
	}
	if s.CIDR != s.CIDR.Masked() {
		return Invalid(field+".cidr", "%s has host bits set; use %s", s.CIDR, s.CIDR.Masked())
	}
	if v6 && s.CIDR.Bits() < MinV6Bits {
		return Invalid(field+".cidr", "%s is larger than a /%d; give each network an IPv6 subnet of /%d or longer", s.CIDR, MinV6Bits, MinV6Bits)
	}
	if !v6 && s.CIDR.Bits() > 30 {
		return Invalid(field+".cidr", "%s leaves no room for pods; use /30 or shorter", s.CIDR)
	}
	if v6 && s.CIDR.Bits() > 126 {
		return Invalid(field+".cidr", "%s leaves no room for pods; use /126 or shorter", s.CIDR)
	}
	if s.Gateway.IsValid() {
		if !s.CIDR.Contains(s.Gateway) {
			return Invalid(field+".gateway", "%s is outside %s; pick an address inside the subnet", s.Gateway, s.CIDR)
		}
		if s.Gateway == s.CIDR.Addr() || !v6 && s.Gateway == LastAddr(s.CIDR) {
			return Invalid(field+".gateway", "%s is the subnet's network or broadcast address; pick a host address", s.Gateway)
		}
	}
	for i, r := range s.Ranges {
		if err := s.validateRange(fmt.Sprintf("%s.ranges[%d]", field, i), r); err != nil {
			return err
		}
		for j := range i {
			if o := s.Ranges[j]; o.Start.Compare(r.End) <= 0 && r.Start.Compare(o.End) <= 0 {
				return Invalid(fmt.Sprintf("%s.ranges[%d]", field, i), "%s overlaps ranges[%d] %s; merge them", r, j, o)
			}
		}
	}
	for i, r := range s.Exclude {
		if err := s.validateRange(fmt.Sprintf("%s.exclude[%d]", field, i), r); err != nil {
			return err
		}
	}
	for i, r := range s.Routes {
		f := fmt.Sprintf("%s.routes[%d]", field, i)
		if !r.Dst.IsValid() || r.Dst.Addr().Is6() != v6 {
			return Invalid(f+".dst", "is missing or not an %s prefix; give one such as %q", fam, example(v6))
		}
		if r.Dst != r.Dst.Masked() {
			return Invalid(f+".dst", "%s has host bits set; use %s", r.Dst, r.Dst.Masked())
		}
		if r.Gateway.IsValid() && !s.CIDR.Contains(r.Gateway) {
			return Invalid(f+".gateway", "%s is not reachable on %s; use a next hop inside the subnet", r.Gateway, s.CIDR)
		}
		if !r.Gateway.IsValid() && !s.Gateway.IsValid() && r.Dst.Bits() == 0 {
			return Invalid(f+".gateway", "a default route needs a next hop; set it or the subnet's gateway")
		}
	}
	return nil
}

func (s *Subnet) validateRange(field string, r Range) error {
	if !r.Start.IsValid() || !r.End.IsValid() {
		return Invalid(field, "needs both start and end addresses")
	}
	if !s.CIDR.Contains(r.Start) || !s.CIDR.Contains(r.End) {
		return Invalid(field, "%s is not inside %s; keep ranges within the subnet", r, s.CIDR)
	}
	if r.Start.Compare(r.End) > 0 {
		return Invalid(field, "%s starts after it ends; swap start and end", r)
	}
	return nil
}

func example(v6 bool) string {
	if v6 {
		return "fd00:10::/64"
	}
	return "10.1.0.0/16"
}

// LastAddr returns the last address of p (the IPv4 broadcast address).
func LastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	bits := p.Bits()
	for i := range b {
		hostBits := len(b)*8 - bits - (len(b)-1-i)*8
		switch {
		case hostBits >= 8:
			b[i] = 0xff
		case hostBits > 0:
			b[i] |= byte(1)<<hostBits - 1
		}
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// Overlaps reports whether two prefixes share an address.
func Overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }
