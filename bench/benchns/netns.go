// Package benchns gives the node-path benchmarks their throwaway network namespaces: made with the
// CNI project's testutils (bind-mounted under /var/run/netns as a runtime pins a pod's), each with a
// netlink handle into it so no OS thread has to switch namespaces to talk to it.
package benchns

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NeedRoot skips tb unless it runs as root, which making network namespaces requires.
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to make network namespaces; run as root (sudo -E go test ...)")
	}
}

// NetNS is a throwaway network namespace with a netlink handle into it.
type NetNS struct {
	NS ns.NetNS
	H  *netlink.Handle
}

// New makes a fresh namespace. Cleanup is the caller's, through Close.
func New() (*NetNS, error) {
	n, err := testutils.NewNS()
	if err != nil {
		return nil, fmt.Errorf("make network namespace: %w", err)
	}
	h, err := HandleAt(n.Path())
	if err != nil {
		return nil, errors.Join(err, n.Close(), testutils.UnmountNS(n))
	}
	return &NetNS{NS: n, H: h}, nil
}

// HandleAt opens a netlink handle in the namespace at path.
func HandleAt(path string) (*netlink.Handle, error) {
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

// Path is the namespace's bind mount.
func (n *NetNS) Path() string { return n.NS.Path() }

// Close deletes the namespace and with it every link still inside it.
func (n *NetNS) Close() error {
	n.H.Close()
	return errors.Join(n.NS.Close(), testutils.UnmountNS(n.NS))
}
