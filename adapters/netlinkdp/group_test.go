package netlinkdp_test

import (
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
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
