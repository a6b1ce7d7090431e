package e2e

import (
	"net/netip"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ = Describe("attaching a pod", Label("attach"), func() {
	var (
		pod   *cluster.Pod
		alloc model.Pod
	)
	BeforeEach(func(ctx SpecContext) {
		pod = createPod(ctx, cluster.PodSpec{Name: podName("attach"), Node: node1, Annotations: npwg("green@net1, mv@net2")})
		alloc = allocation(ctx, pod)
	})

	It("gives eth0 on the default overlay, a second overlay and a macvlan NIC with the manager's MACs and addresses", func() {
		Expect(alloc.Ports).To(HaveLen(3))
		want := map[string]string{"eth0": "e2e/blue", "net1": "e2e/green", "net2": "e2e/mv"}
		Expect(pod.Interfaces).To(HaveLen(3), "interfaces read back: %+v", pod.Interfaces)
		for _, port := range alloc.Ports {
			Expect(port.Network).To(Equal(want[port.Interface]), "port %s", port.ID)
			Expect(port.Node).To(Equal(node1), "port %s is not bound to the pod's node", port.ID)
			itf, ok := pod.Interface(port.Interface)
			Expect(ok).To(BeTrue(), "the pod has no %s: %+v", port.Interface, pod.Interfaces)
			Expect(itf.MAC).To(Equal(port.MAC.String()), "MAC of %s", itf.Name)
			var got []netip.Addr
			for _, a := range itf.Addrs {
				got = append(got, a.Addr())
			}
			Expect(got).To(ConsistOf(port.IPs), "addresses of %s", itf.Name)
		}
		eth0, _ := pod.Interface("eth0")
		for _, a := range eth0.Addrs {
			bits := map[bool]int{true: 24, false: 64}[a.Addr().Is4()]
			Expect(a.Bits()).To(Equal(bits), "eth0's %s has the subnet's prefix length", a)
		}
		Expect(eth0.MTU).To(Equal(1450), "an overlay NIC's MTU leaves room for the VXLAN header")
		mv, _ := pod.Interface("net2")
		Expect(mv.MTU).To(Equal(1500))
	})

	It("puts the single default route on eth0, through its gateway", func(ctx SpecContext) {
		out, err := c.Exec(ctx, pod, "ip", "-4", "route", "show", "default")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Split(strings.TrimSpace(out), "\n")).To(ConsistOf(HavePrefix("default via 10.10.0.1 dev eth0")))
	})

	It("answers with a CNI result that lists every interface and address (the network-status shape)", func(ctx SpecContext) {
		res := pod.Result
		Expect(res).NotTo(BeNil())
		Expect(res.Interfaces).To(HaveLen(len(alloc.Ports)))
		for i, port := range alloc.Ports {
			itf := res.Interfaces[i]
			Expect(itf.Name).To(Equal(port.Interface), "result interface %d", i)
			Expect(itf.Mac).To(Equal(port.MAC.String()), "result MAC of %s", itf.Name)
			Expect(itf.Sandbox).To(Equal(pod.Netns), "result sandbox of %s", itf.Name)
		}
		var ips []string
		for _, ip := range res.IPs {
			Expect(ip.Interface).NotTo(BeNil(), "IP %s names no interface", ip.Address.String())
			Expect(*ip.Interface).To(BeNumerically("<", len(res.Interfaces)))
			name := res.Interfaces[*ip.Interface].Name
			ips = append(ips, name+"="+ip.Address.IP.String())
			if name == "eth0" && ip.Address.IP.To4() != nil {
				Expect(ip.Gateway.String()).To(Equal("10.10.0.1"))
			}
		}
		var want []string
		for _, port := range alloc.Ports {
			for _, a := range port.IPs {
				want = append(want, port.Interface+"="+a.String())
			}
		}
		Expect(ips).To(ConsistOf(want))
		var defaults []string
		for _, r := range res.Routes {
			if ones, _ := r.Dst.Mask.Size(); ones == 0 {
				defaults = append(defaults, r.GW.String())
			}
		}
		Expect(defaults).To(ContainElement("10.10.0.1"))
		Expect(runtimeOf(c).Check(ctx, pod)).To(Succeed(), "CHECK of a freshly attached pod")
	})
})
