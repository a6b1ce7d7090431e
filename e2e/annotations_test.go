package e2e

import (
	"errors"

	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ = Describe("a pod that asks for something wrong", Label("annotations"), func() {
	DescribeTable("fails ADD with an error naming the field, and leaves nothing behind",
		func(ctx SpecContext, annotations map[string]string, mention ...string) {
			in := inspectorOf(c)
			pod, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("bad"), Node: node1, Annotations: annotations})
			Expect(pod).NotTo(BeNil())
			DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, pod)).To(Succeed()) })
			Expect(err).To(HaveOccurred())
			GinkgoWriter.Printf("ADD error: %v\n", err)
			e, known := cniError(err)
			if known {
				Expect(e.Code).NotTo(BeEquivalentTo(types.ErrTryAgainLater), "a wrong request is no transient failure: %v", e)
			}
			for _, m := range mention {
				Expect(e.Error()).To(ContainSubstring(m))
			}

			Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty(), "links left in the pod")
			Expect(checkpointsOf(ctx, in, pod)).To(BeEmpty(), "checkpoint left on the node")
			links, err := in.NodeLinks(ctx, pod.Node)
			Expect(err).NotTo(HaveOccurred())
			for _, ifname := range []string{"eth0", "net1", "net2"} {
				Expect(links).NotTo(ContainElement(plan.HostIfName(pod.ContainerID, ifname)), "veth of %s left on the node", ifname)
			}
			_, err = c.ManagerClient().GetPod(ctx, pod.UID)
			Expect(errors.Is(err, model.ErrNotFound)).To(BeTrue(), "the manager holds an allocation of the pod: %v", err)
			ports, err := c.ManagerClient().ListPorts(ctx, httpapi.PortQuery{Tenant: "e2e"})
			Expect(err).NotTo(HaveOccurred())
			for _, p := range ports {
				Expect(p.Pod.UID).NotTo(Equal(pod.UID), "the manager holds port %s of the pod", p.ID)
			}
		},
		Entry("an unknown NPWG key", npwg(`[{"name": "green", "interfce": "net1"}]`),
			netspec.NPWGAnnotation, "interfce"),
		Entry("an NPWG address that is no address", npwg(`[{"name": "green", "interface": "net1", "ips": ["10.11.0.300/24"]}]`),
			netspec.NPWGAnnotation, "ips[0]"),
		Entry("a Knitter port with a bad ip_addr", map[string]string{netspec.KnitterAnnotation: `{"ports": [{"attach_to_network": "green", "attributes": {"ip_addr": "nope"}}]}`},
			`annotations["networks"].ports[0].attributes.ip_addr`),
		Entry("a network that does not exist", npwg("green@net1, nosuch@net2"),
			"nosuch"),
		Entry("a static address outside the network's subnet", npwg(`[{"name": "green", "interface": "net1", "ips": ["10.99.0.5/24"]}]`),
			"10.99.0.5"),
	)
})
