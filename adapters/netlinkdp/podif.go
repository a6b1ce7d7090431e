package netlinkdp

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// configurePodIf gives a pod interface its planned MAC, MTU, group (unless 0), addresses and routes
// and sets it up, changing only what differs, so that a repeated Attach writes nothing. fresh says
// the link has just been created or moved into the pod, so it has no addresses or routes to list
// (moving a netdev between namespaces flushes them).
func configurePodIf(h *netlink.Handle, link netlink.Link, l plan.Link, group uint32, fresh bool) error {
	a := link.Attrs()
	if err := setGroup(h, link, group); err != nil {
		return err
	}
	if !l.MAC.IsZero() && !bytes.Equal(a.HardwareAddr, l.MAC[:]) {
		if err := h.LinkSetHardwareAddr(link, l.MAC[:]); err != nil {
			return fmt.Errorf("setting MAC %s on %s: %w", l.MAC, l.PodIf, err)
		}
	}
	if l.MTU != 0 && a.MTU != l.MTU {
		if err := h.LinkSetMTU(link, l.MTU); err != nil {
			return fmt.Errorf("setting MTU %d on %s: %w", l.MTU, l.PodIf, err)
		}
	}
	// Up before addresses and routes: the kernel refuses a route through a link that is down.
	if !isUp(link) {
		if err := h.LinkSetUp(link); err != nil {
			return fmt.Errorf("setting %s up: %w", l.PodIf, err)
		}
	}
	var have []netlink.Addr
	var routes []netlink.Route
	if !fresh {
		var err error
		if have, err = retryDump(func() ([]netlink.Addr, error) { return h.AddrList(link, netlink.FAMILY_ALL) }); err != nil {
			return fmt.Errorf("listing the addresses of %s: %w", l.PodIf, err)
		}
		if routes, err = retryDump(func() ([]netlink.Route, error) { return h.RouteList(link, netlink.FAMILY_ALL) }); err != nil {
			return fmt.Errorf("listing the routes of %s: %w", l.PodIf, err)
		}
	}
	for _, p := range l.Addrs {
		if hasAddr(have, p) {
			continue
		}
		addr := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			addr.Flags = unix.IFA_F_NODAD // usable at once; the manager guarantees uniqueness
		}
		if err := h.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("adding address %s to %s: %w", p, l.PodIf, err)
		}
	}
	for _, r := range l.Routes {
		if hasRoute(routes, r) {
			continue
		}
		if err := h.RouteReplace(netlinkRoute(a.Index, r)); err != nil {
			return fmt.Errorf("adding route %s: %w", describeRoute(r), err)
		}
	}
	return nil
}

func hasAddr(have []netlink.Addr, p netip.Prefix) bool {
	for _, a := range have {
		if prefixOf(a.IPNet, false) == p {
			return true
		}
	}
	return false
}

func hasRoute(have []netlink.Route, r plan.Route) bool {
	for _, h := range have {
		if h.Table != unix.RT_TABLE_MAIN && h.Table != 0 {
			continue
		}
		if prefixOf(h.Dst, h.Family == netlink.FAMILY_V6) == r.Dst && addrOf(h.Gw) == r.Gateway {
			return true
		}
	}
	return false
}

func netlinkRoute(ifindex int, r plan.Route) *netlink.Route {
	nr := &netlink.Route{LinkIndex: ifindex, Dst: ipNet(r.Dst)}
	if r.Gateway.IsValid() {
		nr.Gw = net.IP(r.Gateway.AsSlice())
	} else {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr
}

func describeRoute(r plan.Route) string {
	if r.Gateway.IsValid() {
		return r.Dst.String() + " via " + r.Gateway.String()
	}
	return r.Dst.String() + " on-link"
}
