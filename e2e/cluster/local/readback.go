package local

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// readInterfaces reads a named namespace's interfaces (see ReadInterfaces).
func readInterfaces(name string) ([]cluster.Interface, error) {
	return ReadInterfaces(netnsPath(name))
}

// ReadInterfaces reads the interfaces of the network namespace at path from the kernel, loopback
// excluded, sorted by name.
func ReadInterfaces(netns string) ([]cluster.Interface, error) {
	var out []cluster.Interface
	err := withHandleAt(netns, func(h *netlink.Handle) error {
		links, err := h.LinkList()
		if err != nil {
			return fmt.Errorf("listing links in %s: %w", netns, err)
		}
		for _, l := range links {
			a := l.Attrs()
			if a.Name == "lo" {
				continue
			}
			itf := cluster.Interface{Name: a.Name, MAC: a.HardwareAddr.String(), MTU: a.MTU}
			if itf.Addrs, err = globalAddrs(h, l); err != nil {
				return fmt.Errorf("addresses of %s in %s: %w", a.Name, netns, err)
			}
			out = append(out, itf)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b cluster.Interface) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// globalAddrs are a link's addresses without the link-local ones, IPv4 first.
func globalAddrs(h *netlink.Handle, l netlink.Link) ([]netip.Prefix, error) {
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLinkLocalUnicast() {
			continue
		}
		bits, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip, bits))
	}
	slices.SortStableFunc(out, func(a, b netip.Prefix) int {
		if a.Addr().Is4() == b.Addr().Is4() {
			return 0
		}
		if a.Addr().Is4() {
			return -1
		}
		return 1
	})
	return out, nil
}
