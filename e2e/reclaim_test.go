package e2e

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// reclaimTimeout bounds the wait for an agent's orphan reclaim (the local driver runs it every
// second).
const reclaimTimeout = 30 * time.Second

var _ = Describe("attachments no DEL came for", Label("lifecycle", "reclaim"), func() {
	It("are reclaimed by the agent: pod deleted, sandbox gone, and pod deleted while the agent was down", Serial, func(ctx SpecContext) {
		in := inspectorOf(c)
		f, ok := c.(cluster.Faults)
		if !ok {
			Skip(fmt.Sprintf("the %T driver cannot lose DELs", c))
		}
		forgotten := createPod(ctx, cluster.PodSpec{Name: podName("orphan-pod"), Node: node1, Annotations: npwg("mv@net1")})
		killed := createPod(ctx, cluster.PodSpec{Name: podName("orphan-netns"), Node: node1, Annotations: npwg("mv@net1")})
		restarted := createPod(ctx, cluster.PodSpec{Name: podName("orphan-restart"), Node: node2, Annotations: npwg("mv@net1")})
		alive := createPod(ctx, cluster.PodSpec{Name: podName("orphan-control"), Node: node2, Annotations: npwg("mv@net1")})

		Expect(f.ForgetPod(ctx, forgotten)).To(Succeed())
		Expect(f.KillSandbox(ctx, killed)).To(Succeed())
		Expect(f.RestartAgent(ctx, node2, func() error { return f.ForgetPod(ctx, restarted) })).To(Succeed())

		for _, p := range []*cluster.Pod{forgotten, killed, restarted} {
			Eventually(ctx, func() []string { return checkpointsOf(ctx, in, p) }).WithTimeout(reclaimTimeout).
				Should(BeEmpty(), "pod %s's attachment was not reclaimed", p.Key())
		}
		for _, p := range []*cluster.Pod{forgotten, restarted} {
			Expect(in.PodInterfaces(ctx, p)).To(BeEmpty(), "pod %s keeps interfaces in its sandbox", p.Key())
		}
		Expect(checkpointsOf(ctx, in, alive)).NotTo(BeEmpty(), "a live pod's attachment was reclaimed")
		Expect(in.PodInterfaces(ctx, alive)).To(HaveLen(2))
	}, NodeTimeout(3*time.Minute))
})
