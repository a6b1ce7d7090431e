package netlinkdp_test

import (
	"net"
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var _ = Describe("Detach's one-request delete of an attachment's interfaces", func() {
	var (
		n   *testNode
		w   *world
		pns string
	)
	BeforeEach(func() {
		n, w = freshNode()
		pns = podNetns(w)
	})

	It("removes only its own attachment when several share the pod (Multus delegates)", func() {
		first := podPlan("c1", pns, overlay("c1", "eth0", 101, "10.1.0.5/24"), macvlan("c1", "net1", "10.2.0.5/24"))
		second := podPlan("c1", pns, macvlan("c1", "net2", "10.2.0.6/24"))
		Expect(n.dp.Attach(ctx, first)).To(Succeed())
		Expect(n.dp.Attach(ctx, second)).To(Succeed())
		Expect(group(pns, "eth0")).To(Equal(group(pns, "net1")))
		Expect(group(pns, "net2")).NotTo(Equal(group(pns, "eth0")))
		Expect(n.dp.Detach(ctx, first)).To(Succeed())
		Expect(links(pns)).To(Equal([]string{"net2"}))
		Expect(n.dp.Check(ctx, second)).To(Succeed())
	})

	It("falls back to deleting by name when a link it did not make carries the group", func() {
		pod := podPlan("c1", pns, overlay("c1", "eth0", 101, "10.1.0.5/24"), macvlan("c1", "net1", "10.2.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(vethPair(pns, "other0", pns, "other1", netip.Prefix{})).To(Succeed())
		h, err := handle(pns)
		Expect(err).NotTo(HaveOccurred())
		defer h.Close()
		other, err := h.LinkByName("other0")
		Expect(err).NotTo(HaveOccurred())
		Expect(h.LinkSetGroup(other, int(group(pns, "eth0")))).To(Succeed())

		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(pns)).To(Equal([]string{"other0", "other1"}))
		Expect(links(n.path)).NotTo(ContainElement(pod.Links[0].HostIf))
	})

	It("leaves VFs out of the group: they are given back, not deleted", func() {
		pod := podPlan("c1", pns, macvlan("c1", "net1", "10.2.0.5/24"), vfL("c1", "net2", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(group(pns, "net1")).NotTo(BeZero())
		Expect(group(pns, "net2")).To(BeZero())
		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(n.path)).To(ContainElement(vfName(0)))
	})
})

// group returns the interface group of a link.
func group(path, name string) uint32 {
	g, err := withHandle(path, func(h *netlink.Handle) (uint32, error) {
		l, err := h.LinkByName(name)
		if err != nil {
			return 0, err
		}
		return l.Attrs().Group, nil
	})
	Expect(err).NotTo(HaveOccurred())
	return g
}

var _ = Describe("Quiesce", func() {
	var (
		n   *testNode
		w   *world
		pns string
	)
	BeforeEach(func() {
		n, w = freshNode()
		pns = podNetns(w)
	})

	It("takes an attachment's veths down (their node ends off carrier) and its macvlans off their addresses, and leaves the rest for Detach", func() {
		pod := podPlan("c1", pns, overlay("c1", "eth0", 101, "10.1.0.5/24"), macvlan("c1", "net1", "10.2.0.5/24"))
		other := podPlan("c1", pns, macvlan("c1", "net2", "10.2.0.6/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(n.dp.Attach(ctx, other)).To(Succeed())
		Expect(attrs(n.path, pod.Links[0].HostIf).RawFlags & unix.IFF_LOWER_UP).NotTo(BeZero())

		mac := attrs(pns, "net1").HardwareAddr.String()
		Expect(mac).To(Equal(net.HardwareAddr(pod.Links[1].MAC[:]).String()))
		Expect(addrs(pns, "net1")).NotTo(BeEmpty())
		Expect(n.dp.Quiesce(ctx, pod)).To(BeTrue())
		Expect(attrs(pns, "eth0").Flags & net.FlagUp).To(BeZero())
		Expect(addrs(pns, "net1")).To(BeEmpty())
		Expect(attrs(pns, "net1").Flags&net.FlagUp).NotTo(BeZero(), "up: taking a macvlan down waits for an RCU grace period")
		Expect(attrs(pns, "net1").HardwareAddr.String()).To(Equal(mac), "the macvlan keeps the port's MAC until Detach")
		Expect(attrs(n.path, pod.Links[0].HostIf).RawFlags&unix.IFF_LOWER_UP).To(BeZero(), "the veth's node end keeps its carrier")
		Expect(attrs(pns, "net2").Flags&net.FlagUp).NotTo(BeZero(), "another attachment's interface went down")
		Expect(n.dp.Check(ctx, other)).To(Succeed())

		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(pns)).To(Equal([]string{"net2"}))
		Expect(links(n.path)).NotTo(ContainElement(pod.Links[0].HostIf))
	})

	It("holds no file of the namespace's path: the runtime can unmount it, and Detach still removes the links", func() {
		pod := podPlan("c1", pns, overlay("c1", "eth0", 101, "10.1.0.5/24"), macvlan("c1", "net1", "10.2.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(n.dp.Quiesce(ctx, pod)).To(BeTrue())
		// A plain umount (no MNT_DETACH) fails with EBUSY while anything has a file open on the path.
		Expect(w.remove(pns)).To(Succeed())
		Expect(links(n.path)).To(ContainElement(pod.Links[0].HostIf), "the held socket keeps the namespace and its links")
		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(n.path)).NotTo(ContainElement(pod.Links[0].HostIf))
		Expect(n.dp.Detach(ctx, pod)).To(Succeed(), "a second Detach")
	})

	It("says no, and changes nothing, for a plan it cannot quiesce", func() {
		withVF := podPlan("c1", pns, macvlan("c1", "net1", "10.2.0.5/24"), vfL("c1", "net2", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, withVF)).To(Succeed())
		Expect(n.dp.Quiesce(ctx, withVF)).To(BeFalse())
		Expect(attrs(pns, "net1").Flags & net.FlagUp).NotTo(BeZero())
		Expect(n.dp.Detach(ctx, withVF)).To(Succeed())

		pod := podPlan("c2", pns, overlay("c2", "eth0", 101, "10.1.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(vethPair(pns, "other0", pns, "other1", netip.Prefix{})).To(Succeed())
		h, err := handle(pns)
		Expect(err).NotTo(HaveOccurred())
		defer h.Close()
		o, err := h.LinkByName("other0")
		Expect(err).NotTo(HaveOccurred())
		Expect(h.LinkSetGroup(o, int(group(pns, "eth0")))).To(Succeed())
		Expect(h.LinkSetUp(o)).To(Succeed())
		Expect(n.dp.Quiesce(ctx, pod)).To(BeFalse(), "a link it did not make carries the group")
		Expect(attrs(pns, "other0").Flags & net.FlagUp).NotTo(BeZero())

		gone := podPlan("c3", "/proc/self/ns/does-not-exist", overlay("c3", "eth0", 101, "10.1.0.7/24"))
		Expect(n.dp.Quiesce(ctx, gone)).To(BeFalse())
	})
})

// addrs returns a link's addresses, of every family.
func addrs(path, name string) []netlink.Addr {
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

// attrs returns a link's attributes.
func attrs(path, name string) *netlink.LinkAttrs {
	a, err := withHandle(path, func(h *netlink.Handle) (*netlink.LinkAttrs, error) {
		l, err := h.LinkByName(name)
		if err != nil {
			return nil, err
		}
		return l.Attrs(), nil
	})
	Expect(err).NotTo(HaveOccurred())
	return a
}
