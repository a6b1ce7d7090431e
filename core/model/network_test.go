package model

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func subnet(cidr string) *Subnet { return &Subnet{CIDR: netip.MustParsePrefix(cidr)} }

func validNetwork() Network {
	return Network{Name: "net_api", Tenant: "acme", Type: Overlay, IPv4: subnet("10.1.0.0/24")}
}

// TestNetworkValidate checks every rule of Network.Validate: each case breaks one field and expects
// the error to name that field and to say how to fix it.
func TestNetworkValidate(t *testing.T) {
	a := netip.MustParseAddr
	r := func(s, e string) Range { return Range{Start: a(s), End: a(e)} }
	for _, tc := range []struct {
		name   string
		mutate func(n *Network)
		field  string // "" means valid
		fix    string // a piece of the message
	}{
		{"valid overlay", func(n *Network) {}, "", ""},
		{"valid dual stack vlan", func(n *Network) {
			n.Type, n.VLAN, n.PhysicalNetwork, n.IPv6 = VLAN, 100, "eth1", subnet("fd00::/64")
		}, "", ""},
		{"valid v6 only macvlan", func(n *Network) {
			n.Type, n.PhysicalNetwork, n.IPv4, n.IPv6 = MACVLAN, "eth1", nil, subnet("fd00::/120")
		}, "", ""},
		{"valid sriov with vlan", func(n *Network) { n.Type, n.PhysicalNetwork, n.VLAN = SRIOV, "ens1f0", 30 }, "", ""},
		{"empty name", func(n *Network) { n.Name = "" }, "name", "give a name"},
		{"upper-case name", func(n *Network) { n.Name = "NetAPI" }, "name", `use "netapi"`},
		{"name with dot", func(n *Network) { n.Name = "net.api" }, "name", "lower-case letters"},
		{"name ends with dash", func(n *Network) { n.Name = "net-" }, "name", "ending with a letter or digit"},
		{"name too long", func(n *Network) { n.Name = strings.Repeat("a", 64) }, "name", "at most 63"},
		{"bad tenant", func(n *Network) { n.Tenant = "" }, "tenant", "give a name"},
		{"unknown type", func(n *Network) { n.Type = "bridge" }, "type", "overlay, vlan, macvlan, sriov"},
		{"vni too big", func(n *Network) { n.VNI = MaxVNI + 1 }, "vni", "1-16777215"},
		{"overlay with vlan", func(n *Network) { n.VLAN = 5 }, "vlan", "use type vlan"},
		{"overlay with nic", func(n *Network) { n.PhysicalNetwork = "eth1" }, "physical_network", "remove it"},
		{"vlan without id", func(n *Network) { n.Type, n.PhysicalNetwork = VLAN, "eth1" }, "vlan", "1-4094"},
		{"vlan id 4095", func(n *Network) { n.Type, n.PhysicalNetwork, n.VLAN = VLAN, "eth1", 4095 }, "vlan", "1-4094"},
		{"macvlan with a vlan id", func(n *Network) { n.Type, n.PhysicalNetwork, n.VLAN = MACVLAN, "eth2", 100 }, "vlan", "use type vlan"},
		{"vlan without nic", func(n *Network) { n.Type, n.VLAN = VLAN, 7 }, "physical_network", "needs the node NIC"},
		{"vlan with vni", func(n *Network) { n.Type, n.VLAN, n.PhysicalNetwork, n.VNI = VLAN, 7, "eth1", 9 }, "vni", "only overlay"},
		{"macvlan bad nic", func(n *Network) { n.Type, n.PhysicalNetwork = MACVLAN, "eth 1" }, "physical_network", "whitespace"},
		{"mtu too small", func(n *Network) { n.MTU = 500 }, "mtu", "576-9216"},
		{"mtu too big", func(n *Network) { n.MTU = 10000 }, "mtu", "576-9216"},
		{"v6 mtu", func(n *Network) { n.MTU, n.IPv6 = 1000, subnet("fd00::/64") }, "mtu", "at least 1280"},
		{"no subnet", func(n *Network) { n.IPv4 = nil }, "ipv4", "needs an ipv4 or an ipv6 subnet"},
		{"missing cidr", func(n *Network) { n.IPv4 = &Subnet{} }, "ipv4.cidr", "missing or malformed"},
		{"v6 under ipv4", func(n *Network) { n.IPv4 = subnet("fd00::/64") }, "ipv4.cidr", `put it under "ipv6"`},
		{"v4 under ipv6", func(n *Network) { n.IPv6 = subnet("10.2.0.0/24") }, "ipv6.cidr", `put it under "ipv4"`},
		{"host bits", func(n *Network) { n.IPv4 = subnet("10.1.0.1/24") }, "ipv4.cidr", "use 10.1.0.0/24"},
		{"v4 too small", func(n *Network) { n.IPv4 = subnet("10.1.0.0/31") }, "ipv4.cidr", "/30 or shorter"},
		{"v6 too big", func(n *Network) { n.IPv6 = subnet("fd00::/56") }, "ipv6.cidr", "/64 or longer"},
		{"v6 too small", func(n *Network) { n.IPv6 = subnet("fd00::/127") }, "ipv6.cidr", "/126 or shorter"},
		{"gateway outside", func(n *Network) { n.IPv4.Gateway = a("10.2.0.1") }, "ipv4.gateway", "inside the subnet"},
		{"gateway is network", func(n *Network) { n.IPv4.Gateway = a("10.1.0.0") }, "ipv4.gateway", "host address"},
		{"gateway is broadcast", func(n *Network) { n.IPv4.Gateway = a("10.1.0.255") }, "ipv4.gateway", "host address"},
		{"range outside", func(n *Network) { n.IPv4.Ranges = []Range{r("10.1.0.10", "10.1.1.10")} }, "ipv4.ranges[0]", "within the subnet"},
		{"range reversed", func(n *Network) { n.IPv4.Ranges = []Range{r("10.1.0.20", "10.1.0.10")} }, "ipv4.ranges[0]", "swap start and end"},
		{"range half", func(n *Network) { n.IPv4.Ranges = []Range{{Start: a("10.1.0.1")}} }, "ipv4.ranges[0]", "both start and end"},
		{"ranges overlap", func(n *Network) {
			n.IPv4.Ranges = []Range{r("10.1.0.10", "10.1.0.20"), r("10.1.0.20", "10.1.0.30")}
		}, "ipv4.ranges[1]", "merge them"},
		{"exclude outside", func(n *Network) { n.IPv4.Exclude = []Range{r("10.9.0.1", "10.9.0.2")} }, "ipv4.exclude[0]", "within the subnet"},
		{"route wrong family", func(n *Network) {
			n.IPv4.Routes = []Route{{Dst: netip.MustParsePrefix("fd00::/8")}}
		}, "ipv4.routes[0].dst", "IPv4 prefix"},
		{"route host bits", func(n *Network) {
			n.IPv4.Routes = []Route{{Dst: netip.MustParsePrefix("192.168.1.1/16")}}
		}, "ipv4.routes[0].dst", "use 192.168.0.0/16"},
		{"route gateway off-link", func(n *Network) {
			n.IPv4.Routes = []Route{{Dst: netip.MustParsePrefix("192.168.0.0/16"), Gateway: a("10.9.9.9")}}
		}, "ipv4.routes[0].gateway", "next hop inside the subnet"},
		{"default route without gateway", func(n *Network) {
			n.IPv4.Routes = []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0")}}
		}, "ipv4.routes[0].gateway", "needs a next hop"},
		{"default route via subnet gateway", func(n *Network) {
			n.IPv4.Gateway = a("10.1.0.1")
			n.IPv4.Routes = []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0")}}
		}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := validNetwork()
			n.IPv4 = subnet("10.1.0.0/24")
			tc.mutate(&n)
			err := n.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate() = %v; want a *model.Error on %q", err, tc.field)
			}
			if e.Code != CodeInvalid || e.Field != tc.field || !strings.Contains(e.Message, tc.fix) {
				t.Fatalf("Validate() = [%s] %q: %q; want [invalid] %q with %q", e.Code, e.Field, e.Message, tc.field, tc.fix)
			}
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
				t.Fatalf("errors.Is does not match by code: %v", err)
			}
		})
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.0.0/24":  "10.1.0.255",
		"10.1.0.0/30":  "10.1.0.3",
		"10.0.0.0/8":   "10.255.255.255",
		"10.1.2.0/23":  "10.1.3.255",
		"fd00::/64":    "fd00::ffff:ffff:ffff:ffff",
		"fd00::/120":   "fd00::ff",
		"0.0.0.0/0":    "255.255.255.255",
		"10.1.2.3/32":  "10.1.2.3",
		"fd00::10/126": "fd00::13",
	} {
		if got := LastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("LastAddr(%s) = %s; want %s", in, got, want)
		}
	}
}
