package e2e

import (
	"fmt"
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ = Describe("reachability", Label("overlay", "macvlan"), func() {
	It("lets pods on different nodes reach each other over the overlay (IPv4 and IPv6) and over macvlan", func(ctx SpecContext) {
		a := createPod(ctx, cluster.PodSpec{Name: podName("reach-a"), Node: node1, Annotations: npwg("mv@net1")})
		b := createPod(ctx, cluster.PodSpec{Name: podName("reach-b"), Node: node2, Annotations: npwg("mv@net1")})
		expectReach(ctx, a, addrOn(b, "eth0", 4))
		expectReach(ctx, b, addrOn(a, "eth0", 4))
		expectReach(ctx, a, addrOn(b, "eth0", 6))
		expectReach(ctx, a, addrOn(b, "net1", 4))
		expectReach(ctx, b, addrOn(a, "net1", 4))
	})

	It("keeps pods on different overlay networks (different VNIs) apart, even with one address range", func(ctx SpecContext) {
		// blue (tenant e2e) and red (tenant other) are both 10.10.0.0/24, so their pods are on-link
		// to each other's addresses: only the VNI separates them.
		static := func(network, ip string) map[string]string {
			return npwg(fmt.Sprintf(`[{"name": %q, "interface": "eth0", "ips": [%q]}]`, network, ip))
		}
		blue1 := createPod(ctx, cluster.PodSpec{Name: podName("blue"), Node: node1, Annotations: static("blue", "10.10.0.50/24")})
		red1 := createPod(ctx, cluster.PodSpec{Namespace: "other", Name: podName("red"), Node: node1, Annotations: static("red", "10.10.0.51/24")})
		red2 := createPod(ctx, cluster.PodSpec{Namespace: "other", Name: podName("red"), Node: node2, Annotations: static("red", "10.10.0.52/24")})
		Expect(addrOn(blue1, "eth0", 4)).To(Equal(netip.MustParseAddr("10.10.0.50")))

		blue, err := c.ManagerClient().GetNetwork(ctx, "e2e", "blue")
		Expect(err).NotTo(HaveOccurred())
		red, err := c.ManagerClient().GetNetwork(ctx, "other", "red")
		Expect(err).NotTo(HaveOccurred())
		Expect(blue.VNI).NotTo(Equal(red.VNI))
		if in, ok := c.(cluster.Inspector); ok {
			links, err := in.NodeLinks(ctx, node1)
			Expect(err).NotTo(HaveOccurred())
			Expect(links).To(ContainElements(fmt.Sprintf("knvx-%d", blue.VNI), fmt.Sprintf("knvx-%d", red.VNI)))
		}

		// The control: red reaches red across nodes over the very path blue would use.
		expectReach(ctx, red1, netip.MustParseAddr("10.10.0.52"))
		expectNoReach(ctx, blue1, netip.MustParseAddr("10.10.0.52"))
		expectNoReach(ctx, blue1, netip.MustParseAddr("10.10.0.51"))
		expectNoReach(ctx, red2, netip.MustParseAddr("10.10.0.50"))
	})
})
