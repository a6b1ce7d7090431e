package main

import (
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/core/model"
)

// networkFlags are the fields of `network create`.
type networkFlags struct {
	typ      string
	vni      uint32
	vlan     uint16
	physical string
	mtu      int
	public   bool
	ipv4     string
	gateway  string
	ipv6     string
	gateway6 string
	ranges   []string
	excludes []string
	routes   []string
}

var networkFields = []string{"type", "vni", "vlan", "physical-network", "mtu", "public", "ipv4", "gateway",
	"ipv6", "gateway6", "range", "exclude", "route"}

func (f *networkFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "overlay, vlan, macvlan or sriov")
	fl.Uint32Var(&f.vni, "vni", 0, "VXLAN id of an overlay network (default: the manager picks one)")
	fl.Uint16Var(&f.vlan, "vlan", 0, "VLAN id: required for vlan, an optional tag for macvlan and sriov")
	fl.StringVar(&f.physical, "physical-network", "", "node NIC (or physical network) of vlan, macvlan and sriov networks")
	fl.IntVar(&f.mtu, "mtu", 0, "MTU of the pods' interfaces (default: the node's)")
	fl.BoolVar(&f.public, "public", false, "every tenant's pods may attach (admin tenants only)")
	fl.StringVar(&f.ipv4, "ipv4", "", "IPv4 subnet, e.g. 10.1.0.0/24")
	fl.StringVar(&f.gateway, "gateway", "", "IPv4 gateway, e.g. 10.1.0.1")
	fl.StringVar(&f.ipv6, "ipv6", "", "IPv6 subnet, /64 or longer, e.g. fd00:1::/64")
	fl.StringVar(&f.gateway6, "gateway6", "", "IPv6 gateway")
	fl.StringSliceVar(&f.ranges, "range", nil, "allocate only from start-end (repeatable; the family picks the subnet)")
	fl.StringSliceVar(&f.excludes, "exclude", nil, "never allocate this address or start-end range (repeatable)")
	fl.StringSliceVar(&f.routes, "route", nil, "route dst[=gateway] for the pods, e.g. 192.168.0.0/16=10.1.0.254 (repeatable)")
}

// networkFlagNames maps the model's field paths to the flags that set them.
var networkFlagNames = map[string]string{
	"name": "NETWORK", "tenant": "--tenant", "type": "--type", "vni": "--vni", "vlan": "--vlan",
	"physical_network": "--physical-network", "mtu": "--mtu",
	"ipv4": "--ipv4", "ipv4.cidr": "--ipv4", "ipv4.gateway": "--gateway", "ipv4.ranges": "--range",
	"ipv4.exclude": "--exclude", "ipv4.routes": "--route",
	"ipv6": "--ipv6", "ipv6.cidr": "--ipv6", "ipv6.gateway": "--gateway6", "ipv6.ranges": "--range",
	"ipv6.exclude": "--exclude", "ipv6.routes": "--route",
}

// network builds the network that the flags describe and checks it with the model's rules, so
// that a mistake is reported against the flag before anything is sent.
func (f *networkFlags) network(tenant, name string) (model.Network, error) {
	n := model.Network{
		Name: name, Tenant: tenant, Type: model.NetworkType(f.typ), VNI: f.vni, VLAN: f.vlan,
		PhysicalNetwork: f.physical, MTU: f.mtu, Public: f.public,
	}
	if f.typ == "" {
		return n, usageErr("--type", "is missing; give overlay, vlan, macvlan or sriov")
	}
	var err error
	if n.IPv4, err = subnetFlag("--ipv4", f.ipv4, "--gateway", f.gateway, false); err != nil {
		return n, err
	}
	if n.IPv6, err = subnetFlag("--ipv6", f.ipv6, "--gateway6", f.gateway6, true); err != nil {
		return n, err
	}
	if n.IPv4 == nil && n.IPv6 == nil {
		return n, usageErr("--ipv4", "a network needs --ipv4 or --ipv6 (or both), e.g. --ipv4 10.1.0.0/24")
	}
	for _, s := range f.ranges {
		r, err := parseRange("--range", s)
		if err != nil {
			return n, err
		}
		sub, err := familySubnet(&n, "--range", s, r.Start)
		if err != nil {
			return n, err
		}
		sub.Ranges = append(sub.Ranges, r)
	}
	for _, s := range f.excludes {
		r, err := parseRange("--exclude", s)
		if err != nil {
			return n, err
		}
		sub, err := familySubnet(&n, "--exclude", s, r.Start)
		if err != nil {
			return n, err
		}
		sub.Exclude = append(sub.Exclude, r)
	}
	for _, s := range f.routes {
		rt, err := parseRoute(s)
		if err != nil {
			return n, err
		}
		sub, err := familySubnet(&n, "--route", s, rt.Dst.Addr())
		if err != nil {
			return n, err
		}
		sub.Routes = append(sub.Routes, rt)
	}
	return n, flagErr(n.Validate(), networkFlagNames)
}

// subnetFlag parses a subnet flag and its gateway flag; nil when neither is given.
func subnetFlag(flag, cidr, gwFlag, gw string, v6 bool) (*model.Subnet, error) {
	if cidr == "" {
		if gw != "" {
			return nil, usageErr(gwFlag, "is given without %s; add the subnet", flag)
		}
		return nil, nil
	}
	fam, other, example := "IPv4", "--ipv6", "10.1.0.0/24"
	if v6 {
		fam, other, example = "IPv6", "--ipv4", "fd00:1::/64"
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, usageErr(flag, "%q is not a subnet; give a prefix such as %s", cidr, example)
	}
	if p.Addr().Is6() != v6 || p.Addr().Is4In6() {
		return nil, usageErr(flag, "%s is not an %s subnet; pass it with %s", cidr, fam, other)
	}
	s := &model.Subnet{CIDR: p}
	if gw != "" {
		if s.Gateway, err = netip.ParseAddr(gw); err != nil {
			return nil, usageErr(gwFlag, "%q is not an IP address", gw)
		}
	}
	return s, nil
}

// parseRange parses "start-end", or one address as a range of one.
func parseRange(flag, s string) (model.Range, error) {
	start, end, isRange := strings.Cut(strings.TrimSpace(s), "-")
	if !isRange {
		end = start
	}
	a, err1 := netip.ParseAddr(strings.TrimSpace(start))
	b, err2 := netip.ParseAddr(strings.TrimSpace(end))
	if err1 != nil || err2 != nil {
		return model.Range{}, usageErr(flag, "%q is not an address or a start-end range such as 10.1.0.10-10.1.0.99", s)
	}
	if a.Is4() != b.Is4() {
		return model.Range{}, usageErr(flag, "%q mixes IPv4 and IPv6; give both ends in one family", s)
	}
	if a.Compare(b) > 0 {
		return model.Range{}, usageErr(flag, "%q starts after it ends; write %s-%s", s, b, a)
	}
	return model.Range{Start: a, End: b}, nil
}

// parseRoute parses "dst" or "dst=gateway".
func parseRoute(s string) (model.Route, error) {
	dst, gw, hasGW := strings.Cut(strings.TrimSpace(s), "=")
	p, err := netip.ParsePrefix(strings.TrimSpace(dst))
	if err != nil {
		return model.Route{}, usageErr("--route", "%q does not start with a destination prefix; give dst[=gateway] such as 192.168.0.0/16=10.1.0.254", s)
	}
	r := model.Route{Dst: p}
	if hasGW {
		if r.Gateway, err = netip.ParseAddr(strings.TrimSpace(gw)); err != nil {
			return model.Route{}, usageErr("--route", "%q has %q as gateway, which is not an IP address", s, gw)
		}
		if r.Gateway.Is4() != p.Addr().Is4() {
			return model.Route{}, usageErr("--route", "%q mixes IPv4 and IPv6", s)
		}
	}
	return r, nil
}

// familySubnet returns the subnet of a's family, or an error naming the flag when the network
// has none.
func familySubnet(n *model.Network, flag, value string, a netip.Addr) (*model.Subnet, error) {
	if a.Is4() {
		if n.IPv4 == nil {
			return nil, usageErr(flag, "%s is IPv4 but no --ipv4 subnet is given", value)
		}
		return n.IPv4, nil
	}
	if n.IPv6 == nil {
		return nil, usageErr(flag, "%s is IPv6 but no --ipv6 subnet is given", value)
	}
	return n.IPv6, nil
}
