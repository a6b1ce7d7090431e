package netlinkdp_test

import (
	"os"
	"path/filepath"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// moveToNode moves the pod interface podIf to the node under the name onNode, as the kernel does
// with a VF's netdev when its namespace dies.
func moveToNode(n *testNode, pod, podIf, onNode string) {
	h, err := handle(pod)
	Expect(err).NotTo(HaveOccurred())
	defer h.Close()
	l, err := h.LinkByName(podIf)
	Expect(err).NotTo(HaveOccurred())
	Expect(h.LinkSetDown(l)).To(Succeed())
	if onNode != podIf {
		Expect(h.LinkSetName(l, onNode)).To(Succeed())
	}
	fd, err := netns.GetFromPath(n.path)
	Expect(err).NotTo(HaveOccurred())
	defer fd.Close()
	Expect(h.LinkSetNsFd(l, int(fd))).To(Succeed())
}

var _ = Describe("SR-IOV VFs on a fake sysfs tree", func() {
	var (
		n   *testNode
		w   *world
		pns string
	)
	BeforeEach(func() {
		n, w = freshNode()
		pns = podNetns(w)
	})

	It("renames a VF that came back from a dead namespace under its pod name", func() {
		pod := podPlan("c1", pns, vfL("c1", "net1", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		// What the kernel does when the namespace dies: the netdev comes back as net1, and sysfs
		// shows it under that name.
		moveToNode(n, pns, "net1", "net1")
		vfDir := filepath.Join(n.sysfs, "devices", "0000:01:01.0", "net")
		Expect(os.Rename(filepath.Join(vfDir, vfName(0)), filepath.Join(vfDir, "net1"))).To(Succeed())
		Expect(w.remove(pns)).To(Succeed())

		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(links(n.path)).To(ContainElement(vfName(0)))
		Expect(links(n.path)).NotTo(ContainElement("net1"))
	})

	It("starts over with the same VF when an earlier Attach left it outside the pod", func() {
		pod := podPlan("c1", pns, vfL("c1", "net1", 0, "10.6.0.5/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		moveToNode(n, pns, "net1", vfName(0))
		Expect(n.dp.Check(ctx, pod)).To(MatchError(ContainSubstring("net1 is missing")))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(n.dp.Check(ctx, pod)).To(Succeed())
		Expect(links(n.path)).NotTo(ContainElement(vfName(0)))
		Expect(links(n.path)).To(ContainElement(vfName(1)), "the other VF stays free")
	})

	It("gives a VF back with the MAC it had before the pod", func() {
		mac := func(name string) string {
			h, err := handle(n.path)
			Expect(err).NotTo(HaveOccurred())
			defer h.Close()
			l, err := h.LinkByName(name)
			Expect(err).NotTo(HaveOccurred())
			return l.Attrs().HardwareAddr.String()
		}
		before := mac(vfName(0))
		pod := podPlan("c1", pns, vfL("c1", "net1", 0, "10.6.0.5/24"))
		Expect(pod.Links[0].MAC.String()).NotTo(Equal(before))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(mac(vfName(0))).To(Equal(before), "the pod's MAC stayed on the free VF")
		calls := n.config.Calls()
		Expect(calls[len(calls)-1]).To(MatchFields(IgnoreExtras, Fields{"Op": Equal("reset"), "MAC": Equal(before)}),
			"the PF's VF MAC is not restored")

		// The same when the pod's namespace dies first and the kernel brings the netdev back.
		pns2 := podNetns(w)
		pod = podPlan("c2", pns2, vfL("c2", "net1", 0, "10.6.0.6/24"))
		Expect(n.dp.Attach(ctx, pod)).To(Succeed())
		moveToNode(n, pns2, "net1", vfName(0))
		Expect(w.remove(pns2)).To(Succeed())
		Expect(n.dp.Detach(ctx, pod)).To(Succeed())
		Expect(mac(vfName(0))).To(Equal(before))
	})

	It("refuses a pod interface name that is taken before taking a VF", func() {
		Expect(n.dp.Attach(ctx, podPlan("a", pns, macvlan("a", "net1", "10.2.0.5/24")))).To(Succeed())
		err := n.dp.Attach(ctx, podPlan("b", pns, vfL("b", "net1", 0)))
		Expect(err).To(MatchError(ContainSubstring("not this port's interface")))
		Expect(links(n.path)).To(ContainElements(vfName(0), vfName(1)))
	})
})

var _ = Describe("concurrent attaches on one node", func() {
	It("share node plumbing that none of them found, and all succeed", func() {
		n, w := freshNode()
		const pods = 8
		var wg sync.WaitGroup
		errs := make([]error, pods)
		paths := make([]string, pods)
		for i := range pods {
			paths[i] = podNetns(w)
		}
		for i := range pods {
			cid := string(rune('a' + i))
			wg.Go(func() {
				defer GinkgoRecover()
				errs[i] = n.dp.Attach(ctx, podPlan(cid, paths[i], overlay(cid, "eth0", 101, "10.1.0.5/24"), macvlan(cid, "net1", "10.2.0.5/24")))
			})
		}
		wg.Wait()
		for i := range pods {
			Expect(errs[i]).NotTo(HaveOccurred())
			Expect(links(paths[i])).To(Equal([]string{"eth0", "net1"}))
		}
		br, err := withHandle(n.path, func(h *netlink.Handle) (netlink.Link, error) { return h.LinkByName("knbr-101") })
		Expect(err).NotTo(HaveOccurred())
		ports := 0
		for _, name := range links(n.path) {
			if m, _ := master(n.path, name); m == br.Attrs().Name {
				ports++
			}
		}
		Expect(ports).To(Equal(pods+1), "every pod's veth and the VXLAN device")
	})
})
