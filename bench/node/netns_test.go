package nodebench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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

// needRoot skips tb unless it runs as root, which making network namespaces requires.
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to make network namespaces; run as root (sudo -E go test ...)")
	}
}

// netNS is a throwaway network namespace, bind-mounted under /var/run/netns as a runtime pins a
// pod's, with a netlink handle into it.
type netNS struct {
	ns ns.NetNS
	h  *netlink.Handle
}

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

// newNode makes a node namespace with underlayNIC (holding the VTEP address) and parentNIC, and
// removes it when tb ends.
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
	for _, nic := range []string{underlayNIC, parentNIC} {
		pair := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nic, Flags: net.FlagUp}, PeerName: nic + "p"}
		if err := node.h.LinkAdd(pair); err != nil {
			tb.Fatalf("add node NIC %s: %v", nic, err)
		}
		if err := node.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: nic + "p"}}); err != nil {
			tb.Fatalf("set %sp up: %v", nic, err)
		}
	}
	addr, err := netlink.ParseAddr(vtepCIDR)
	if err != nil {
		tb.Fatal(err)
	}
	if err := node.h.AddrAdd(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: underlayNIC}}, addr); err != nil {
		tb.Fatalf("add the VTEP address to %s: %v", underlayNIC, err)
	}
	return node
}
