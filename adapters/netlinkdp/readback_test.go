package netlinkdp_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// snapshot describes what Attach controls in a namespace: every link's identity (ifindex included,
// so a recreated link shows), MAC, MTU, admin state and master, its addresses and main-table routes,
// and the flood lists of VXLAN devices. Kernel-made IPv6 link-local state is left out: it changes on
// its own (duplicate address detection ends when it ends).
func snapshot(path string) []string {
	out, err := withHandle(path, func(h *netlink.Handle) ([]string, error) {
		links, err := h.LinkList()
		if err != nil {
			return nil, err
		}
		var out []string
		for _, l := range links {
			a := l.Attrs()
			out = append(out, fmt.Sprintf("link %d %s %s mac=%s mtu=%d up=%v master=%d", a.Index, a.Name, l.Type(),
				a.HardwareAddr, a.MTU, a.RawFlags&unix.IFF_UP != 0, a.MasterIndex))
			addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
			if err != nil {
				return nil, err
			}
			for _, ad := range addrs {
				if !ad.IP.IsLinkLocalUnicast() {
					out = append(out, fmt.Sprintf("addr %s %s", a.Name, ad.IPNet))
				}
			}
			routes, err := h.RouteList(l, netlink.FAMILY_ALL)
			if err != nil {
				return nil, err
			}
			for _, r := range routes {
				if r.Dst == nil || !r.Dst.IP.IsLinkLocalUnicast() {
					out = append(out, fmt.Sprintf("route %s %v via %v", a.Name, r.Dst, r.Gw))
				}
			}
			if l.Type() == "vxlan" {
				peers, err := fdb(path, a.Name)
				if err != nil {
					return nil, err
				}
				out = append(out, fmt.Sprintf("fdb %s %v", a.Name, peers))
			}
		}
		slices.Sort(out)
		return out, nil
	})
	Expect(err).NotTo(HaveOccurred())
	return out
}

// nsSysctl writes a sysctl of the namespace at path ("net/ipv6/conf/all/disable_ipv6"): /proc/sys/net
// shows the namespace of the thread that opens it.
func nsSysctl(path, key, value string) error {
	return ns.WithNetNSPath(path, func(ns.NetNS) error {
		return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644)
	})
}

// newPoolless returns a dataplane for the namespace at path without an SR-IOV pool.
func newPoolless(path string) (*netlinkdp.Dataplane, error) {
	return netlinkdp.New(netlinkdp.Options{HostNetns: path, VLANPinDir: pinDir})
}
