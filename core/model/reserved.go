package model

import "net/netip"

// reservedRange is a block of addresses no pod may have: traffic to it is never unicast to one host.
type reservedRange struct {
	prefix netip.Prefix
	what   string
}

// reservedRanges are refused as subnets (and so as ranges, gateways and static addresses, which lie
// inside a subnet). More specific blocks come first, so the message names the most precise reason.
var reservedRanges = []reservedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "the unspecified (\"this network\") range"},
	{netip.MustParsePrefix("127.0.0.0/8"), "the loopback range"},
	{netip.MustParsePrefix("224.0.0.0/24"), "the link-local multicast range"},
	{netip.MustParsePrefix("224.0.0.0/4"), "the multicast range"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "the reserved (class E) range"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "the loopback address"},
	{netip.MustParsePrefix("ff02::/16"), "the link-local multicast range"},
	{netip.MustParsePrefix("ff00::/8"), "the multicast range"},
}

// reserved returns the first reserved block that p overlaps.
func reserved(p netip.Prefix) (reservedRange, bool) {
	for _, r := range reservedRanges {
		if r.prefix.Overlaps(p) {
			return r, true
		}
	}
	return reservedRange{}, false
}

// checkUnicast refuses a network's subnet that overlaps a reserved block. It is a rule of networks,
// not of Subnet.Validate: an address pool itself works on any prefix.
func (s *Subnet) checkUnicast(field string) error {
	if r, bad := reserved(s.CIDR); bad {
		return Invalid(field+".cidr", "%s overlaps %s, %s, which pods cannot use; pick a unicast subnet such as %q", s.CIDR, r.prefix, r.what, example(s.CIDR.Addr().Is6()))
	}
	return nil
}
