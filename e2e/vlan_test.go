package e2e

import (
	"fmt"
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

var _ = Describe("vlan networks", Label("vlan"), func() {
	var filtering bool
	BeforeEach(func() {
		if _, ok := c.(*local.Cluster); !ok {
			Skip(fmt.Sprintf("the VLAN specs probe this machine's kernel, which is the %T driver's business", c))
		}
		var err error
		filtering, err = local.BridgeVLANFiltering()
		Expect(err).NotTo(HaveOccurred())
	})
	static := func(network, ip string) map[string]string {
		return npwg(fmt.Sprintf(`[{"name": %q, "interface": "net1", "ips": [%q]}]`, network, ip))
	}

	It("connect pods on one VLAN across nodes and keep VLANs apart", func(ctx SpecContext) {
		if !filtering {
			Skip("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING), which vlan networks need")
		}
		a := createPod(ctx, cluster.PodSpec{Name: podName("vl100"), Node: node1, Annotations: static("vl100", "10.40.0.10/24")})
		createPod(ctx, cluster.PodSpec{Name: podName("vl100"), Node: node2, Annotations: static("vl100", "10.40.0.11/24")})
		createPod(ctx, cluster.PodSpec{Namespace: "other", Name: podName("vl200"), Node: node2, Annotations: static("vl200", "10.40.0.12/24")})
		expectReach(ctx, a, netip.MustParseAddr("10.40.0.11"))
		expectNoReach(ctx, a, netip.MustParseAddr("10.40.0.12"))
	})

	It("fail ADD with an error that names the missing kernel feature, and leave no links, where the kernel cannot filter VLANs", func(ctx SpecContext) {
		if filtering {
			Skip("this kernel has bridge VLAN filtering")
		}
		in := inspectorOf(c)
		pod, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("vl100"), Node: node1, Annotations: npwg("vl100@net1")})
		Expect(pod).NotTo(BeNil())
		DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, pod)).To(Succeed()) })
		Expect(err).To(MatchError(ContainSubstring("VLAN filtering")))
		Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty())
		Expect(checkpointsOf(ctx, in, pod)).To(BeEmpty())
	})
})
