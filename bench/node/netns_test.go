package nodebench

import (
	"github.com/knitter-cni/knitter/bench/benchns"
	"net"
	"testing"

	"github.com/vishvananda/netlink"
)

// The node NICs every node namespace has, standing in for physical ones: this kernel has no dummy
// devices, so each is one end of a veth pair whose other end (NIC + "p") stays in the node, up.
const (
	// underlayNIC carries the node's VTEP address, vtepCIDR.
	underlayNIC = "under0"
	// parentNIC is the macvlan networks' parent.
	parentNIC = "mvparent0"
	vtepCIDR  = "192.0.2.1/24"
)

type netNS = benchns.NetNS

var (
	needRoot = benchns.NeedRoot
	newNetNS = benchns.New
)

// newNode makes a node namespace with underlayNIC (holding the VTEP address) and parentNIC, and
// removes it when tb ends.
func newNode(tb testing.TB) *netNS {
	tb.Helper()
	node, err := newNetNS()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := node.Close(); err != nil {
			tb.Error(err)
		}
	})
	for _, nic := range []string{underlayNIC, parentNIC} {
		pair := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nic, Flags: net.FlagUp}, PeerName: nic + "p"}
		if err := node.H.LinkAdd(pair); err != nil {
			tb.Fatalf("add node NIC %s: %v", nic, err)
		}
		if err := node.H.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: nic + "p"}}); err != nil {
			tb.Fatalf("set %sp up: %v", nic, err)
		}
	}
	addr, err := netlink.ParseAddr(vtepCIDR)
	if err != nil {
		tb.Fatal(err)
	}
	if err := node.H.AddrAdd(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: underlayNIC}}, addr); err != nil {
		tb.Fatalf("add the VTEP address to %s: %v", underlayNIC, err)
	}
	return node
}
