package netlinkdp_test

import (
	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/adapters/sriov/sriovtest"
	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// readLink reads one link back from the namespace at path.
func readLink(path, name string) netlink.Link {
	l, err := withHandle(path, func(h *netlink.Handle) (netlink.Link, error) { return h.LinkByName(name) })
	Expect(err).NotTo(HaveOccurred(), "reading %s", name)
	return l
}

func readAddrs(path, name string) []netlink.Addr {
	a, err := withHandle(path, func(h *netlink.Handle) ([]netlink.Addr, error) {
		l, err := h.LinkByName(name)
		if err != nil {
			return nil, err
		}
		return h.AddrList(l, netlink.FAMILY_ALL)
	})
	Expect(err).NotTo(HaveOccurred())
	return a
}

// addrFlags returns the flags of the address p on name, failing when it is not there.
func addrFlags(path, name string, p netip.Prefix) int {
	for _, a := range readAddrs(path, name) {
		ip, _ := netip.AddrFromSlice(a.IP)
		bits, _ := a.Mask.Size()
		if netip.PrefixFrom(ip.Unmap(), bits) == p {
			return a.Flags
		}
	}
	Fail("address " + p.String() + " missing from " + name)
	return 0
}

// hasRouteVia reports whether the namespace has a main-table route to dst via gw on ifname.
func hasRouteVia(path, ifname string, dst netip.Prefix, gw netip.Addr) bool {
	found, err := withHandle(path, func(h *netlink.Handle) (bool, error) {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return false, err
		}
		routes, err := h.RouteList(l, netlink.FAMILY_ALL)
		if err != nil {
			return false, err
		}
		for _, r := range routes {
			d := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if r.Family == netlink.FAMILY_V6 {
				d = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			if r.Dst != nil {
				a, _ := netip.AddrFromSlice(r.Dst.IP)
				bits, _ := r.Dst.Mask.Size()
				d = netip.PrefixFrom(a.Unmap(), bits)
			}
			g, _ := netip.AddrFromSlice(r.Gw)
			if d == dst && g.Unmap() == gw {
				return true, nil
			}
		}
		return false, nil
	})
	Expect(err).NotTo(HaveOccurred())
	return found
}

func mac(m model.MAC) net.HardwareAddr { return net.HardwareAddr(m[:]) }

var _ = Describe("each network type, read back from netlink", func() {
	var (
		n   *testNode
		w   *world
		pns string
	)
	BeforeEach(func() {
		n, w = freshNode()
		pns = podNetns(w)
	})

	It("builds an overlay: bridge, VXLAN with its flood list, veth, addresses and default routes", func() {
		l := overlay("c1", "eth0", 101, "10.1.0.5/24", "fd01::5/64")
		l.Routes = []plan.Route{route("0.0.0.0/0", "10.1.0.1"), route("::/0", "fd01::1")}
		Expect(n.dp.Attach(ctx, podPlan("c1", pns, l))).To(Succeed())

		br := readLink(n.path, "knbr-101")
		Expect(br.Type()).To(Equal("bridge"))
		Expect(br.Attrs().MTU).To(Equal(1450))
		Expect(br.Attrs().Flags & net.FlagUp).NotTo(BeZero())

		vx, ok := readLink(n.path, "knvx-101").(*netlink.Vxlan)
		Expect(ok).To(BeTrue())
		under := readLink(n.path, dataplanetest.Underlay)
		Expect(vx.VxlanId).To(Equal(101))
		Expect(vx.Port).To(Equal(plan.VXLANPort))
		Expect(vx.Learning).To(BeFalse())
		Expect(vx.SrcAddr.String()).To(Equal("192.0.2.1"))
		Expect(vx.VtepDevIndex).To(Equal(under.Attrs().Index))
		Expect(vx.Attrs().MasterIndex).To(Equal(br.Attrs().Index))
		Expect(vx.Attrs().Flags & net.FlagUp).NotTo(BeZero())
		Expect(fdb(n.path, "knvx-101")).To(Equal(dataplanetest.Peers))

		host := readLink(n.path, l.HostIf)
		Expect(host.Type()).To(Equal("veth"))
		Expect(host.Attrs().MasterIndex).To(Equal(br.Attrs().Index))
		Expect(host.Attrs().MTU).To(Equal(1450))
		Expect(host.Attrs().Flags & net.FlagUp).NotTo(BeZero())

		eth0 := readLink(pns, "eth0")
		Expect(eth0.Type()).To(Equal("veth"))
		Expect(eth0.Attrs().HardwareAddr).To(Equal(mac(l.MAC)))
		Expect(eth0.Attrs().MTU).To(Equal(1450))
		Expect(eth0.Attrs().Flags & net.FlagUp).NotTo(BeZero())
		Expect(eth0.Attrs().ParentIndex).To(Equal(host.Attrs().Index), "the pod end's peer is the node end")
		Expect(addrFlags(pns, "eth0", netip.MustParsePrefix("10.1.0.5/24"))).To(BeNumerically(">=", 0))
		v6 := addrFlags(pns, "eth0", netip.MustParsePrefix("fd01::5/64"))
		Expect(v6 & unix.IFA_F_NODAD).NotTo(BeZero())
		Expect(v6&unix.IFA_F_TENTATIVE).To(BeZero(), "usable at once")
		Expect(hasRouteVia(pns, "eth0", netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("10.1.0.1"))).To(BeTrue())
		Expect(hasRouteVia(pns, "eth0", netip.MustParsePrefix("::/0"), netip.MustParseAddr("fd01::1"))).To(BeTrue())
	})

	It("builds a bridge-mode macvlan of the parent, straight in the pod", func() {
		l := macvlan("c1", "net1", "10.2.0.5/24")
		l.Routes = []plan.Route{route("10.20.0.0/16", "10.2.0.1")}
		Expect(n.dp.Attach(ctx, podPlan("c1", pns, l))).To(Succeed())
		mv, ok := readLink(pns, "net1").(*netlink.Macvlan)
		Expect(ok).To(BeTrue())
		Expect(mv.Mode).To(Equal(netlink.MACVLAN_MODE_BRIDGE))
		Expect(mv.Attrs().ParentIndex).To(Equal(readLink(n.path, dataplanetest.Parent).Attrs().Index))
		Expect(mv.Attrs().HardwareAddr).To(Equal(mac(l.MAC)))
		Expect(mv.Attrs().MTU).To(Equal(1500))
		Expect(hasRouteVia(pns, "net1", netip.MustParsePrefix("10.20.0.0/16"), netip.MustParseAddr("10.2.0.1"))).To(BeTrue())
		Expect(links(n.path)).NotTo(ContainElement("net1"))
	})

	It("builds a vlan port: a veth on no bridge, the VLAN programs on its node end and on the trunk", func() {
		l := vlanL("c1", "net1", 100, "10.3.0.5/24")
		Expect(n.dp.Attach(ctx, podPlan("c1", pns, l))).To(Succeed())
		trunk := readLink(n.path, dataplanetest.Trunk)
		host := readLink(n.path, l.HostIf)
		Expect(trunk.Attrs().MasterIndex).To(BeZero())
		Expect(host.Attrs().MasterIndex).To(BeZero())
		Expect(trunk.Attrs().Promisc).To(Equal(1), "the trunk takes frames for the pods' MACs")
		Expect(vlanPorts(n.path, dataplanetest.Trunk)).To(Equal([]string{l.HostIf + "/100"}))
		d := vlanbpf.New(vlanbpf.Options{Netns: n.path, PinDir: pinDir})
		defer d.Close()
		Expect(d.IngressPrograms(host.Attrs().Index)).To(HaveLen(1))
		Expect(readLink(pns, "net1").Attrs().HardwareAddr).To(Equal(mac(l.MAC)))
	})

	It("hands a VF to the pod: PF told its MAC and VLAN, netdev moved and renamed, and back on Detach", func() {
		l := vfL("c1", "net1", 30, "10.6.0.5/24")
		pod := podPlan("c1", pns, l)
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(n.config.Calls()).To(Equal([]sriovtest.Call{{Op: "configure", PF: dataplanetest.PF, VF: 0, MAC: mac(l.MAC).String(), VLAN: 30}}))
		vf := readLink(pns, "net1")
		Expect(vf.Attrs().HardwareAddr).To(Equal(mac(l.MAC)))
		Expect(vf.Attrs().Flags & net.FlagUp).NotTo(BeZero())
		Expect(links(n.path)).NotTo(ContainElement(vfName(0)))

		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(pns)).To(BeEmpty())
		back := readLink(n.path, vfName(0))
		Expect(back.Attrs().Flags & net.FlagUp).To(BeZero())
		Expect(n.config.Calls()).To(HaveLen(2))
		Expect(n.config.Calls()[1]).To(Equal(sriovtest.Call{Op: "reset", PF: dataplanetest.PF, VF: 0, MAC: back.Attrs().HardwareAddr.String()}))
		Expect(back.Attrs().HardwareAddr).NotTo(Equal(mac(l.MAC)), "the pod's MAC stayed on the VF")
	})

	It("keeps the VF when the PF refuses its configuration, and says so", func() {
		n.config.Fail = unix.EOPNOTSUPP
		pod := podPlan("c1", pns, vfL("c1", "net1", 30, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(MatchError(ContainSubstring("sriov link net1")))
		Expect(links(n.path)).To(ContainElement(vfName(0)))
		Expect(links(pns)).To(BeEmpty())
		n.config.Fail = nil
		Expect(n.dp.Attach(ctx, pod)).To(Succeed(), "the VF was given back to the pool")
	})

	It("refuses sriov links without a VF pool", func() {
		dp, err := newPoolless(n.path)
		Expect(err).NotTo(HaveOccurred())
		defer dp.Close()
		err = dp.Attach(ctx, podPlan("c1", pns, vfL("c1", "net1", 0)))
		Expect(model.CodeOf(err)).To(Equal(model.CodeInvalid))
		Expect(err).To(MatchError(ContainSubstring("no SR-IOV VF pool")))
		Expect(dp.Detach(ctx, podPlan("c1", pns, vfL("c1", "net1", 0)))).To(Succeed())
	})

	It("keeps every link as it is on a second Attach", func() {
		eth0 := overlay("c1", "eth0", 101, "10.1.0.5/24", "fd01::5/64")
		eth0.Routes = []plan.Route{route("0.0.0.0/0", "10.1.0.1")}
		pod := podPlan("c1", pns, eth0, macvlan("c1", "net1", "10.2.0.5/24"), vfL("c1", "net2", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		nodeBefore, podBefore := snapshot(n.path), snapshot(pns)
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(snapshot(n.path)).To(Equal(nodeBefore))
		Expect(snapshot(pns)).To(Equal(podBefore))
		Expect(n.config.Calls()).To(HaveLen(1), "the VF is configured once")
	})

	It("rolls back when the kernel refuses an address (IPv6 disabled in the pod)", func() {
		Expect(nsSysctl(pns, "net/ipv6/conf/all/disable_ipv6", "1")).To(Succeed())
		Expect(nsSysctl(pns, "net/ipv6/conf/default/disable_ipv6", "1")).To(Succeed())
		eth0 := overlay("c1", "eth0", 101, "10.1.0.5/24")
		net1 := macvlan("c1", "net1", "10.2.0.5/24", "fd02::5/64")
		net2 := vfL("c1", "net2", 0, "10.6.0.5/24")
		err := n.dp.Attach(ctx, podPlan("c1", pns, eth0, net2, net1))
		Expect(err).To(MatchError(And(ContainSubstring("macvlan link net1"), ContainSubstring("adding address fd02::5/64"))))
		Expect(links(pns)).To(BeEmpty())
		Expect(links(n.path)).NotTo(ContainElement(eth0.HostIf))
		Expect(links(n.path)).To(ContainElement(vfName(0)), "the VF is back on the node")
	})

	It("detaches every type after the pod's namespace was deleted", func() {
		eth0 := overlay("c1", "eth0", 101, "10.1.0.5/24")
		pod := podPlan("c1", pns, eth0, macvlan("c1", "net1", "10.2.0.5/24"), vfL("c1", "net2", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(w.remove(pns)).To(Succeed())
		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(n.path)).NotTo(ContainElement(eth0.HostIf))
		// The stand-in VF (a veth) died with the namespace; the pool still gives the other one.
		ns2 := podNetns(w)
		Expect(n.dp.Attach(ctx, podPlan("c2", ns2, vfL("c2", "net1", 0)))).To(Succeed())
		Expect(n.dp.Attach(ctx, podPlan("c3", podNetns(w), vfL("c3", "net1", 0)))).To(MatchError(ContainSubstring("no free VF")))
	})

	It("opens the agent's own namespace when HostNetns is empty", func() {
		var dp *netlinkdp.Dataplane
		Expect(ns.WithNetNSPath(n.path, func(ns.NetNS) error {
			var err error
			dp, err = newPoolless("")
			return err
		})).To(Succeed())
		defer dp.Close()
		// The parent NIC exists only in the node namespace, where the dataplane must act.
		Expect(dp.Attach(ctx, podPlan("c1", pns, macvlan("c1", "net1", "10.2.0.5/24")))).To(Succeed())
		Expect(links(pns)).To(Equal([]string{"net1"}))
	})

	It("fails New on a namespace that does not exist", func() {
		_, err := newPoolless(filepath.Join(os.TempDir(), "knitter-no-such-netns"))
		Expect(model.CodeOf(err)).To(Equal(model.CodeNotFound))
	})
})
