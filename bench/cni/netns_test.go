package cnibench

import (
	"errors"
	"github.com/knitter-cni/knitter/bench/benchns"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

type netNS = benchns.NetNS

var (
	needRoot = benchns.NeedRoot
	newNetNS = benchns.New
)

// newNode makes the "node" namespace with the macvlan parent (a veth pair, both ends up), and closes
// it when tb ends.
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
	parent := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: macvlanParent}, PeerName: macvlanParent + "p"}
	if err := node.H.LinkAdd(parent); err != nil {
		tb.Fatalf("add macvlan parent %s: %v", macvlanParent, err)
	}
	for _, name := range []string{macvlanParent, macvlanParent + "p"} {
		if err := node.H.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			tb.Fatalf("set %s up: %v", name, err)
		}
	}
	return node
}

// vlanFiltering says whether the kernel can make VLAN-filtering bridges, by trying one in node.
func vlanFiltering(tb testing.TB, node *netNS) bool {
	tb.Helper()
	on := true
	probe := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "vfprobe0"}, VlanFiltering: &on}
	err := node.H.LinkAdd(probe)
	if errors.Is(err, unix.EOPNOTSUPP) {
		return false
	}
	if err != nil {
		tb.Fatalf("probe for bridge VLAN filtering: %v", err)
	}
	if err := node.H.LinkDel(probe); err != nil {
		tb.Fatalf("remove VLAN filtering probe: %v", err)
	}
	return true
}

// setup makes the node namespace and returns it with the pod to build there: VLAN-tagged where
// the kernel allows it.
func setup(tb testing.TB) (*netNS, []attachment) {
	tb.Helper()
	needRoot(tb)
	node := newNode(tb)
	tagged := vlanFiltering(tb, node)
	if !tagged {
		tb.Log("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): the VLAN port is untagged")
	}
	return node, benchPod(tagged)
}

// reportTagged reports whether pod has a VLAN-tagged port as the metric "vlan-tagged" (1 or 0), so
// that recorded numbers say what they measured.
func reportTagged(b *testing.B, pod []attachment) {
	tagged := 0.0
	if slices.ContainsFunc(pod, func(a attachment) bool { return a.vlan != 0 }) {
		tagged = 1
	}
	b.ReportMetric(tagged, "vlan-tagged")
}

// newPod makes a pod namespace for one iteration; the caller closes it.
func newPod(tb testing.TB) *netNS {
	tb.Helper()
	pod, err := newNetNS()
	if err != nil {
		tb.Fatal(err)
	}
	return pod
}
