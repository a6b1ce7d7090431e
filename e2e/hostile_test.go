package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

func rawRuntimeOf(cl cluster.Cluster) cluster.RawRuntime {
	GinkgoHelper()
	rt, ok := cl.(cluster.RawRuntime)
	if !ok {
		skipLacking(cl, "raw-runtime", "cannot make arbitrary CNI calls")
	}
	return rt
}

var _ = Describe("a runtime that passes the wrong things", Label("hostile"), func() {
	It("cannot attach a pod in the node's own network namespace", func(ctx SpecContext) {
		rt, in := rawRuntimeOf(c), inspectorOf(c)
		nodeNetns, err := rt.NodeNetns(node1)
		Expect(err).NotTo(HaveOccurred())
		before, err := in.NodeLinks(ctx, node1)
		Expect(err).NotTo(HaveOccurred())
		call := cluster.RawCall{Node: node1, ContainerID: "hostile-host", Netns: nodeNetns, Namespace: "e2e", Name: podName("hostile-host")}
		err = rt.RawAdd(ctx, call)
		Expect(err).To(MatchError(ContainSubstring("own network namespace")))
		Expect(in.NodeLinks(ctx, node1)).To(Equal(before), "the refused ADD changed the node's links")
		Expect(in.Checkpoints(ctx, node1)).NotTo(ContainElement("hostile-host@eth0"))
	})

	It("refuses a namespace of another type, and DEL of that sandbox still finishes", func(ctx SpecContext) {
		rt, in := rawRuntimeOf(c), inspectorOf(c)
		call := cluster.RawCall{Node: node1, ContainerID: "hostile-uts", Netns: "/proc/self/ns/uts", Namespace: "e2e", Name: podName("hostile-uts")}
		Expect(rt.RawAdd(ctx, call)).To(MatchError(ContainSubstring("not a network namespace")))
		Expect(in.Checkpoints(ctx, node1)).NotTo(ContainElement("hostile-uts@eth0"))
		Expect(rt.RawDel(ctx, call)).To(Succeed())
		Expect(rt.RawDel(ctx, call)).To(Succeed(), "a second DEL")
	})

	It("refuses a namespace the agent cannot open, and DEL of that sandbox still finishes", func(ctx SpecContext) {
		// PID 1's namespace where this machine denies it (EACCES); where it does not, it is the
		// machine's own namespace, which no spec may hand to the plugin. Only the local driver's
		// agents share this process's view of PID 1 (a kube node's agent has a PID namespace of its
		// own, where PID 1 is in the node's network namespace).
		if _, ok := c.(*local.Cluster); !ok {
			Skip(fmt.Sprintf("the %T driver's agents do not see this machine's PID 1", c))
		}
		if _, err := os.Stat("/proc/1/ns/net"); !errors.Is(err, fs.ErrPermission) {
			Skip(fmt.Sprintf("/proc/1/ns/net is not denied here (%v)", err))
		}
		rt, in := rawRuntimeOf(c), inspectorOf(c)
		before, err := in.NodeLinks(ctx, node1)
		Expect(err).NotTo(HaveOccurred())
		call := cluster.RawCall{Node: node1, ContainerID: "hostile-eacces", Netns: "/proc/1/ns/net", Namespace: "e2e", Name: podName("hostile-eacces")}
		Expect(rt.RawAdd(ctx, call)).To(MatchError(ContainSubstring("cannot be opened by knitter-agent")))
		Expect(in.Checkpoints(ctx, node1)).NotTo(ContainElement("hostile-eacces@eth0"))
		Expect(in.NodeLinks(ctx, node1)).To(Equal(before), "the refused ADD changed the node's links")
		Expect(rt.RawDel(ctx, call)).To(Succeed())
		Expect(rt.RawDel(ctx, call)).To(Succeed(), "a second DEL")
	})

	It("cannot garbage-collect another configuration's attachments, even with an empty list", func(ctx SpecContext) {
		rt, in := rawRuntimeOf(c), inspectorOf(c)
		pod := createPod(ctx, cluster.PodSpec{Name: podName("gc-scope"), Node: node1, Annotations: npwg("green@net1")})
		Expect(rt.RawGC(ctx, cluster.RawCall{Node: node1, ConfName: "np-other"})).To(Succeed())
		cps, err := in.Checkpoints(ctx, node1)
		Expect(err).NotTo(HaveOccurred())
		Expect(slices.ContainsFunc(cps, func(s string) bool { return s == pod.ContainerID+"@eth0" })).To(BeTrue(),
			"np-other's GC removed the pod's attachment: %v", cps)
		Expect(in.PodInterfaces(ctx, pod)).To(Equal(pod.Interfaces))
		Expect(runtimeOf(c).Check(ctx, pod)).To(Succeed())
	})
})
