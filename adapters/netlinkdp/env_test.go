package netlinkdp_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// world tracks the network namespaces a test made, so that it removes every one of them.
type world struct {
	mu  sync.Mutex
	nss map[string]ns.NetNS
}

func newWorld() *world { return &world{nss: map[string]ns.NetNS{}} }

// netns makes a fresh namespace (bind-mounted under /var/run/netns) and returns its path.
func (w *world) netns() (string, error) {
	n, err := testutils.NewNS()
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nss[n.Path()] = n
	return n.Path(), nil
}

// remove deletes one namespace, as a runtime does with a dead sandbox.
func (w *world) remove(path string) error {
	w.mu.Lock()
	n, ok := w.nss[path]
	delete(w.nss, path)
	w.mu.Unlock()
	if !ok {
		return fmt.Errorf("%s is not one of this test's namespaces", path)
	}
	return errors.Join(n.Close(), testutils.UnmountNS(n))
}

// close removes every namespace left; pods' first (their VFs' peers live on the node), then nodes.
func (w *world) close(nodes ...string) error {
	w.mu.Lock()
	var pods []string
	for p := range w.nss {
		if !slices.Contains(nodes, p) {
			pods = append(pods, p)
		}
	}
	w.mu.Unlock()
	var errs []error
	for _, p := range append(pods, nodes...) {
		if err := w.remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// handle opens a netlink handle in the namespace at path; the caller closes it.
func handle(path string) (*netlink.Handle, error) {
	fd, err := netns.GetFromPath(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	return netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
}

func withHandle[T any](path string, f func(h *netlink.Handle) (T, error)) (T, error) {
	h, err := handle(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer h.Close()
	return f(h)
}

// linkNames lists the interfaces in a namespace, sorted, without the loopback.
func linkNames(path string) ([]string, error) {
	return withHandle(path, func(h *netlink.Handle) ([]string, error) {
		links, err := h.LinkList()
		if err != nil {
			return nil, err
		}
		var names []string
		for _, l := range links {
			if l.Attrs().Name != "lo" {
				names = append(names, l.Attrs().Name)
			}
		}
		slices.Sort(names)
		return names, nil
	})
}

// master returns the name of ifname's master in the namespace, "" if none.
func master(path, ifname string) (string, error) {
	return withHandle(path, func(h *netlink.Handle) (string, error) {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return "", err
		}
		if l.Attrs().MasterIndex == 0 {
			return "", nil
		}
		m, err := h.LinkByIndex(l.Attrs().MasterIndex)
		if err != nil {
			return "", err
		}
		return m.Attrs().Name, nil
	})
}

// fdb returns the sorted VTEPs of a VXLAN device's all-zero (flood) entries.
func fdb(path, vxlan string) ([]netip.Addr, error) {
	return withHandle(path, func(h *netlink.Handle) ([]netip.Addr, error) {
		l, err := h.LinkByName(vxlan)
		if err != nil {
			return nil, err
		}
		entries, err := h.NeighList(l.Attrs().Index, unix.AF_BRIDGE)
		if err != nil {
			return nil, err
		}
		var out []netip.Addr
		for _, e := range entries {
			if e.IP != nil && e.HardwareAddr.String() == "00:00:00:00:00:00" {
				a, _ := netip.AddrFromSlice(e.IP)
				out = append(out, a.Unmap())
			}
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return out, nil
	})
}

// vethPair makes a veth a <-> b, a in the namespace at aNs and b in bNs (the same one when equal),
// both up, with addr (if valid) on a.
func vethPair(aNs, a, bNs, b string, addr netip.Prefix) error {
	ha, err := handle(aNs)
	if err != nil {
		return err
	}
	defer ha.Close()
	bfd, err := netns.GetFromPath(bNs)
	if err != nil {
		return err
	}
	defer bfd.Close()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = a
	if err := ha.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: b, PeerNamespace: netlink.NsFd(bfd)}); err != nil {
		return fmt.Errorf("creating veth %s-%s: %w", a, b, err)
	}
	hb, err := handle(bNs)
	if err != nil {
		return err
	}
	defer hb.Close()
	for _, end := range []struct {
		h    *netlink.Handle
		name string
	}{{ha, a}, {hb, b}} {
		l, err := end.h.LinkByName(end.name)
		if err != nil {
			return err
		}
		if err := end.h.LinkSetUp(l); err != nil {
			return err
		}
	}
	if addr.IsValid() {
		l, err := ha.LinkByName(a)
		if err != nil {
			return err
		}
		return ha.AddrAdd(l, addrOf(addr))
	}
	return nil
}

// addrOf converts a prefix for netlink.
func addrOf(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
}

func isRoot() bool { return os.Geteuid() == 0 }
