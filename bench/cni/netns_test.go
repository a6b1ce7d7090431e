package cnibench

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// needRoot skips tb unless it runs as root, which making network namespaces requires.
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to make network namespaces; run as root (sudo -E go test ...)")
	}
}

// netNS is a throwaway network namespace with a netlink handle into it.
type netNS struct {
	ns ns.NetNS
	h  *netlink.Handle
}

// newNetNS makes a fresh namespace, bind-mounted under /var/run/netns as a runtime pins a pod's.
// Cleanup is the caller's, through close: a pod's namespace lives for one benchmark iteration only.
func newNetNS() (*netNS, error) {
	n, err := testutils.NewNS()
	if err != nil {
		return nil, fmt.Errorf("make network namespace: %w", err)
	}
	h, err := handleAt(n.Path())
	if err != nil {
		return nil, errors.Join(err, n.Close(), testutils.UnmountNS(n))
	}
	return &netNS{ns: n, h: h}, nil
}

// handleAt opens a netlink handle in the namespace at path, so that no OS thread has to switch
// namespaces to talk to it.
func handleAt(path string) (*netlink.Handle, error) {
	fd, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer fd.Close()
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in %s: %w", path, err)
	}
	return h, nil
}

func (n *netNS) path() string { return n.ns.Path() }

// close deletes the namespace and with it every link still inside it.
func (n *netNS) close() error {
	n.h.Close()
	return errors.Join(n.ns.Close(), testutils.UnmountNS(n.ns))
}

// newNode makes the "node" namespace with the macvlan parent (a veth pair, both ends up), and closes
// it when tb ends.
func newNode(tb testing.TB) *netNS {
	tb.Helper()
	node, err := newNetNS()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := node.close(); err != nil {
			tb.Error(err)
		}
	})
	parent := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: macvlanParent}, PeerName: macvlanParent + "p"}
	if err := node.h.LinkAdd(parent); err != nil {
		tb.Fatalf("add macvlan parent %s: %v", macvlanParent, err)
	}
	for _, name := range []string{macvlanParent, macvlanParent + "p"} {
		if err := node.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
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
	err := node.h.LinkAdd(probe)
	if errors.Is(err, unix.EOPNOTSUPP) {
		return false
	}
	if err != nil {
		tb.Fatalf("probe for bridge VLAN filtering: %v", err)
	}
	if err := node.h.LinkDel(probe); err != nil {
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
