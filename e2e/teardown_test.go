package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ = Describe("tearing a cluster down", Label("teardown"), func() {
	It("leaves nothing behind: no processes, namespaces, links or files, and a second Down is fine", func(ctx SpecContext) {
		own, err := upCluster(ctx, 2)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = own.Down(ctx) })
		if _, ok := own.(leftoverLister); !ok {
			skipLacking(own, "leftovers", "cannot list what a cluster leaves behind")
		}
		nodes := own.Nodes()
		for i, n := range nodes {
			_, err := own.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("teardown"), Node: n.Name, Annotations: npwg("green@net1, mv@net2")})
			Expect(err).NotTo(HaveOccurred(), "pod %d", i)
		}
		left, err := own.(leftoverLister).Leftovers()
		Expect(err).NotTo(HaveOccurred())
		Expect(left).NotTo(BeEmpty(), "a running cluster must show up in Leftovers, or the check below proves nothing")

		// Down with the pods still there, as after a test run that failed half-way.
		Expect(own.Down(ctx)).To(Succeed())
		expectNothingLeft(own)
		Expect(own.Down(ctx)).To(Succeed(), "a second Down")
	}, NodeTimeout(10*time.Minute))
})
