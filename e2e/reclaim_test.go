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

// orphans is the series of the agent's reclaim counter for reason.
func orphans(reason string) string {
	return fmt.Sprintf("knitter_agent_orphans_reclaimed_total{reason=%q}", reason)
}

var _ = Describe("attachments no DEL came for", Label("lifecycle", "reclaim"), func() {
	It("are reclaimed by the agent: pod deleted, sandbox gone, and pod deleted while the agent was down", Serial, func(ctx SpecContext) {
		in := inspectorOf(c)
		f, ok := c.(cluster.Faults)
		if !ok {
			skipLacking(c, "faults", "cannot lose DELs")
		}
		m, hasMetrics := c.(cluster.AgentMetrics)
		metric := func(node, series string) float64 {
			GinkgoHelper()
			v, err := m.AgentMetric(ctx, node, series)
			Expect(err).NotTo(HaveOccurred())
			return v
		}
		forgotten := createPod(ctx, cluster.PodSpec{Name: podName("orphan-pod"), Node: node1, Annotations: npwg("mv@net1")})
		killed := createPod(ctx, cluster.PodSpec{Name: podName("orphan-netns"), Node: node1, Annotations: npwg("mv@net1")})
		restarted := createPod(ctx, cluster.PodSpec{Name: podName("orphan-restart"), Node: node2, Annotations: npwg("mv@net1")})
		alive := createPod(ctx, cluster.PodSpec{Name: podName("orphan-control"), Node: node2, Annotations: npwg("mv@net1")})
		var podGone, netnsGone float64 // node1's counters before its DELs are lost
		if hasMetrics {
			podGone, netnsGone = metric(node1, orphans("pod_gone")), metric(node1, orphans("netns_gone"))
		}

		Expect(f.ForgetPod(ctx, forgotten)).To(Succeed())
		Expect(f.KillSandbox(ctx, killed)).To(Succeed())
		Expect(f.RestartAgent(ctx, node2, func() error { return f.ForgetPod(ctx, restarted) })).To(Succeed())

		// The restarted agent's first pass runs before it serves, and RestartAgent returns once it
		// serves: the pod deleted while it was down is reclaimed already, not by a later period.
		Expect(checkpointsOf(ctx, in, restarted)).To(BeEmpty(), "pod %s's attachment was not reclaimed at the agent's start", restarted.Key())
		Expect(in.PodInterfaces(ctx, restarted)).To(BeEmpty(), "pod %s keeps interfaces in its sandbox", restarted.Key())
		if hasMetrics {
			Expect(metric(node2, orphans("pod_gone"))).To(BeNumerically(">=", 1), "the restarted agent did not count its reclaim")
		}
		// node1's agent was not restarted: its periodic pass finds the other two.
		for _, p := range []*cluster.Pod{forgotten, killed} {
			Eventually(ctx, func() []string { return checkpointsOf(ctx, in, p) }).WithTimeout(reclaimTimeout).
				Should(BeEmpty(), "pod %s's attachment was not reclaimed", p.Key())
		}
		Expect(in.PodInterfaces(ctx, forgotten)).To(BeEmpty(), "pod %s keeps interfaces in its sandbox", forgotten.Key())
		if hasMetrics { // counted just after the checkpoint goes
			Eventually(ctx, func() float64 { return metric(node1, orphans("pod_gone")) - podGone }).WithTimeout(5*time.Second).
				Should(BeNumerically("==", 1), "node1's pod_gone reclaims")
			Eventually(ctx, func() float64 { return metric(node1, orphans("netns_gone")) - netnsGone }).WithTimeout(5*time.Second).
				Should(BeNumerically("==", 1), "node1's netns_gone reclaims")
		}
		Expect(checkpointsOf(ctx, in, alive)).NotTo(BeEmpty(), "a live pod's attachment was reclaimed")
		Expect(in.PodInterfaces(ctx, alive)).To(HaveLen(2))
	}, NodeTimeout(3*time.Minute))
})
