package model

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestReservedSubnets: subnets that are not unicast host space are refused with an error on the
// subnet's cidr that says which block they hit; their neighbours are accepted.
func TestReservedSubnets(t *testing.T) {
	for cidr, want := range map[string]string{
		"224.0.0.0/24":     "link-local multicast",
		"239.1.0.0/16":     "multicast",
		"127.0.0.0/24":     "loopback",
		"0.0.0.0/8":        "unspecified",
		"0.0.0.0/24":       "unspecified",
		"240.0.0.0/24":     "class E",
		"255.255.255.0/24": "broadcast",
		"ff02::/64":        "link-local multicast",
		"ff05::/64":        "multicast",
		"::/64":            "unspecified",
		"::/120":           "unspecified",
		"0.0.0.0/1":        "unspecified",
	} {
		p := netip.MustParsePrefix(cidr)
		field := "ipv4"
		if p.Addr().Is6() {
			field = "ipv6"
		}
		err := subnetNetwork(field, p).Validate()
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != field+".cidr" || !strings.Contains(e.Message, want) {
			t.Errorf("%s: Validate() = %v; want invalid %s.cidr naming %q", cidr, err, field, want)
		}
	}
	for _, cidr := range []string{"1.0.0.0/24", "126.255.255.0/24", "128.0.0.0/24", "223.255.255.0/24", "10.0.0.0/8", "fd00::/64", "2001:db8::/64", "fe80::/64"} {
		p := netip.MustParsePrefix(cidr)
		field := "ipv4"
		if p.Addr().Is6() {
			field = "ipv6"
		}
		if err := subnetNetwork(field, p).Validate(); err != nil {
			t.Errorf("%s: Validate() = %v; want nil", cidr, err)
		}
	}
}

func subnetNetwork(field string, p netip.Prefix) *Network {
	n := &Network{Name: "n", Tenant: "t", Type: Overlay}
	if field == "ipv6" {
		n.IPv6 = &Subnet{CIDR: p}
	} else {
		n.IPv4 = &Subnet{CIDR: p}
	}
	return n
}
