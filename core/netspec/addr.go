package netspec

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// parseStaticIP parses one requested address. cidrOK allows the NPWG form "10.1.1.5/24"; the prefix
// length is dropped because the network's subnet, not the pod, decides it.
func parseStaticIP(field, s string, cidrOK bool) (netip.Addr, error) {
	var a netip.Addr
	if strings.Contains(s, "/") {
		if !cidrOK {
			addr, _, _ := strings.Cut(s, "/")
			return a, model.Invalid(field, "%q has a prefix length; give the address alone (%q): the network's subnet sets the prefix", s, addr)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return a, model.Invalid(field, "%q is not an address or address/prefix; write one such as \"10.1.1.5/24\" or \"fd00::5\"", s)
		}
		a = p.Addr()
	} else {
		var err error
		if a, err = netip.ParseAddr(s); err != nil {
			if cidrOK {
				return a, model.Invalid(field, "%q is not an IP address; write one such as \"10.1.1.5\", \"10.1.1.5/24\" or \"fd00::5\"", s)
			}
			return a, model.Invalid(field, "%q is not an IP address; write one such as \"10.1.1.5\" or \"fd00::5\"", s)
		}
	}
	return a, checkStaticIP(field, a)
}

// checkStaticIP rejects addresses no interface can own, whatever its network.
func checkStaticIP(field string, a netip.Addr) error {
	switch {
	case !a.IsValid():
		return model.Invalid(field, "is not an IP address; give one such as \"10.1.1.5\"")
	case a.Zone() != "":
		return model.Invalid(field, "%s has a zone; give the address without %q", a, "%"+a.Zone())
	case a.Is4In6():
		return model.Invalid(field, "%s is an IPv4-mapped IPv6 address; write it as %s", a, a.Unmap())
	case a.IsUnspecified():
		return model.Invalid(field, "%s is the unspecified address; give the pod's own address", a)
	case a.IsLoopback():
		return model.Invalid(field, "%s is a loopback address; give an address of the network's subnet", a)
	case a.IsMulticast():
		return model.Invalid(field, "%s is a multicast address; give a unicast address of the network's subnet", a)
	}
	return nil
}

// family names an address's family for messages and indexes it for per-family checks.
func family(a netip.Addr) (name string, index int) {
	if a.Is4() {
		return "IPv4", 0
	}
	return "IPv6", 1
}

// checkFamilies enforces at most one static address per family: an interface gets one address from
// each of its network's subnets.
func checkFamilies(field string, ips []netip.Addr) error {
	var first [2]int // index+1 of the first address of each family
	for i, a := range ips {
		name, fi := family(a)
		if j := first[fi]; j != 0 {
			return model.Invalid(fmt.Sprintf("%s[%d]", field, i), "%s is a second %s address (%s[%d] is %s); give at most one address per family",
				a, name, field, j-1, ips[j-1])
		}
		first[fi] = i + 1
	}
	return nil
}

// CheckAddresses checks a request's static IPs, MAC and IP group against the network it resolved
// to: each static IP lies inside its family's subnet, is not the subnet's network, broadcast or
// gateway address nor excluded, at most one per family, and the family exists on the network.
// field is the request's path (e.g. `annotations["networks"].ports[1]`); errors name sub-fields by
// the request's JSON names (ips[0], mac, ip_group).
func CheckAddresses(field string, req model.AttachRequest, n *model.Network) error {
	return model.Prefix(field, checkAddresses(req, n))
}

func checkAddresses(req model.AttachRequest, n *model.Network) error {
	for i, a := range req.IPs {
		f := fmt.Sprintf("ips[%d]", i)
		if err := checkStaticIP(f, a); err != nil {
			return err
		}
		if err := checkInSubnet(f, a, n); err != nil {
			return err
		}
	}
	if err := checkFamilies("ips", req.IPs); err != nil {
		return err
	}
	if !req.MAC.IsZero() && !req.MAC.Unicast() {
		return model.Invalid("mac", "%s is a multicast address; give a unicast MAC (first byte even), such as \"02:00:00:00:00:01\"", req.MAC)
	}
	if req.IPGroup != "" {
		if err := model.ValidateName("ip_group", req.IPGroup); err != nil {
			return err
		}
		if len(req.IPs) > 0 {
			return model.Invalid("ip_group", "is given with static ips; the address comes from one or the other, so drop one")
		}
	}
	return nil
}

// checkInSubnet checks one static address against its family's subnet of n.
func checkInSubnet(field string, a netip.Addr, n *model.Network) error {
	fam, fi := family(a)
	s := n.IPv4
	if fi == 1 {
		s = n.IPv6
	}
	switch {
	case s == nil:
		return model.Invalid(field, "%s is %s but network %q has no %s subnet; drop the address or attach to a network with one", a, fam, n.Name, fam)
	case !s.CIDR.Contains(a):
		return model.Invalid(field, "%s is outside network %q's subnet %s; pick an address inside it", a, n.Name, s.CIDR)
	case a == s.CIDR.Masked().Addr():
		return model.Invalid(field, "%s is the network address of %s; pick a host address", a, s.CIDR)
	case fi == 0 && a == model.LastAddr(s.CIDR):
		return model.Invalid(field, "%s is the broadcast address of %s; pick a host address", a, s.CIDR)
	case s.Gateway.IsValid() && a == s.Gateway:
		return model.Invalid(field, "%s is the gateway of %s; pick another address", a, s.CIDR)
	}
	for _, r := range s.Exclude {
		if r.Contains(a) {
			return model.Invalid(field, "%s is excluded on network %q (%s); pick an address outside the excluded ranges", a, n.Name, r)
		}
	}
	return nil
}

// CheckNPWG checks what an NPWG element asked of the network it resolved to: each "ips" prefix
// length must be the subnet's (the interface gets the subnet's prefix), and each "default-route"
// gateway must be the subnet's gateway (the default route goes through it). Errors name the field
// and the fix.
func CheckNPWG(req model.AttachRequest, n *model.Network) error {
	subnet := func(a netip.Addr) *model.Subnet {
		if a.Is4() {
			return n.IPv4
		}
		return n.IPv6
	}
	for i, p := range req.IPPrefixes {
		if s := subnet(p.Addr()); s != nil && p.Bits() != s.CIDR.Bits() {
			return model.Invalid(fmt.Sprintf("ips[%d]", i), "%s has prefix length /%d, but network %q's subnet is %s; write %s/%d or the address alone",
				p, p.Bits(), n.Name, s.CIDR, p.Addr(), s.CIDR.Bits())
		}
	}
	for i, gw := range req.Gateways {
		f := fmt.Sprintf("default-route[%d]", i)
		s := subnet(gw)
		switch {
		case s == nil || !s.CIDR.Contains(gw):
			return model.Invalid(f, "%s is outside interface %s's subnet on network %q; give the subnet's gateway or leave default-route empty", gw, req.Interface, n.Name)
		case !s.Gateway.IsValid():
			return model.Invalid(f, "%s: network %q's subnet %s has no gateway to route through; leave default-route empty", gw, n.Name, s.CIDR)
		case gw != s.Gateway:
			return model.Invalid(f, "%s is not network %q's gateway %s, through which the default route goes; give %s or leave default-route empty", gw, n.Name, s.Gateway, s.Gateway)
		}
	}
	return nil
}
