package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ = Describe("the CNI lifecycle", Label("lifecycle"), func() {
	It("answers a repeated ADD with the same result and leaves the interfaces as they were", func(ctx SpecContext) {
		rt := runtimeOf(c)
		pod := createPod(ctx, cluster.PodSpec{Name: podName("again"), Node: node2, Annotations: npwg("green@net1, mv@net2")})
		// pod.Result is the runtime's copy of the first ADD's result. The CNI specification has the
		// runtime keep the result as the configuration's cniVersion defines it, no more: containerd
		// 1.6 keeps a 1.0.0 result and drops the interfaces' mtu, a field of 1.1.0. So the repeated
		// ADDs must equal the first on the fields of its cniVersion, and each other in full.
		first := specFields(pod.Result)
		var prev []byte
		for range 2 {
			res, err := rt.Add(ctx, pod)
			Expect(err).NotTo(HaveOccurred())
			Expect(specFields(res)).To(Equal(first), "the repeated ADD's result, on the fields of cniVersion %s", pod.Result.CNIVersion)
			again, err := json.Marshal(res)
			Expect(err).NotTo(HaveOccurred())
			if prev != nil {
				Expect(string(again)).To(MatchJSON(prev), "two repeated ADDs")
			}
			prev = again
			for _, itf := range pod.Interfaces {
				Expect(res.Interfaces).To(ContainElement(And(HaveField("Name", itf.Name), HaveField("Mtu", itf.MTU))),
					"the result's interface %s and its MTU", itf.Name)
			}
		}
		now, err := inspectorOf(c).PodInterfaces(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		Expect(now).To(Equal(pod.Interfaces))
	})

	It("takes DEL twice, and removes the interfaces and the checkpoint", func(ctx SpecContext) {
		rt, in := runtimeOf(c), inspectorOf(c)
		pod := createPod(ctx, cluster.PodSpec{Name: podName("del"), Node: node1, Annotations: npwg("mv@net1")})
		Expect(checkpointsOf(ctx, in, pod)).NotTo(BeEmpty())
		Expect(rt.Del(ctx, pod)).To(Succeed())
		Expect(rt.Del(ctx, pod)).To(Succeed(), "a second DEL")
		Expect(rt.Check(ctx, pod)).NotTo(Succeed(), "CHECK after DEL")
		// DEL answers once the links are out of reach; the agent removes them, then the checkpoint,
		// right after (deferred teardown, docs/architecture.md).
		Eventually(ctx, func() []string { return checkpointsOf(ctx, in, pod) }).
			WithTimeout(10 * time.Second).Should(BeEmpty())
		Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty())
	})

	Describe("with knitter-manager stopped", Serial, func() {
		// Whatever a spec does, the manager runs again before its pods are deleted (AfterEach runs
		// before the specs' DeferCleanup) and for the next spec.
		AfterEach(func(ctx SpecContext) {
			_ = c.StartManager(ctx) // fails only when it is running already
		}, NodeTimeout(2*time.Minute))

		It("still tears a pod down: DEL works from the agent's checkpoint alone", func(ctx SpecContext) {
			rt, in := runtimeOf(c), inspectorOf(c)
			pod := createPod(ctx, cluster.PodSpec{Name: podName("mgr-down-del"), Node: node2, Annotations: npwg("green@net1")})
			Expect(c.StopManager(ctx)).To(Succeed())
			Expect(rt.Del(ctx, pod)).To(Succeed())
			Eventually(ctx, func() []string { return checkpointsOf(ctx, in, pod) }).
				WithTimeout(10*time.Second).Should(BeEmpty(), "the deferred teardown's checkpoint")
			Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty())
			Expect(c.StartManager(ctx)).To(Succeed())
		}, NodeTimeout(3*time.Minute))

		It("fails ADD with try-again-later, and ADD succeeds once the manager is back", func(ctx SpecContext) {
			rt, in := runtimeOf(c), inspectorOf(c)
			Expect(c.StopManager(ctx)).To(Succeed())
			pod, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("mgr-down-add"), Node: node1})
			Expect(pod).NotTo(BeNil())
			DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, pod)).To(Succeed()) }, NodeTimeout(time.Minute))
			GinkgoWriter.Printf("ADD with the manager stopped: %v\n", err)
			e, known := cniError(err)
			if known {
				Expect(e.Code).To(BeEquivalentTo(types.ErrTryAgainLater), "CNI error %v", e)
			}
			Expect(strings.ToLower(e.Error())).To(ContainSubstring("unavailable"))
			Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty(), "a failed ADD left interfaces")
			Expect(checkpointsOf(ctx, in, pod)).To(BeEmpty(), "a failed ADD left a checkpoint")

			Expect(c.StartManager(ctx)).To(Succeed())
			if r, ok := c.(sandboxRetrier); ok {
				// The kubelet retries the sandbox by itself; it must now attach.
				pod, err = r.WaitAttached(ctx, pod)
				Expect(err).NotTo(HaveOccurred())
				Expect(pod.Interfaces).To(HaveLen(1))
				Expect(pod.Interfaces[0].Name).To(Equal("eth0"))
				return
			}
			res, err := rt.Add(ctx, pod)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Interfaces).To(HaveLen(1))
			Expect(res.Interfaces[0].Name).To(Equal("eth0"))
			Expect(in.PodInterfaces(ctx, pod)).To(HaveLen(1))
		}, NodeTimeout(3*time.Minute))
	})
})

// checkpointsOf returns the checkpoints of the pod's sandbox on its node.
func checkpointsOf(ctx SpecContext, in cluster.Inspector, pod *cluster.Pod) []string {
	GinkgoHelper()
	all, err := in.Checkpoints(ctx, pod.Node)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, cp := range all {
		if strings.HasPrefix(cp, pod.ContainerID+"@") {
			out = append(out, cp)
		}
	}
	return out
}

// specFields is a CNI result as JSON with only the fields its cniVersion defines: before 1.1.0 the
// interfaces have no mtu, socketPath or pciID and the routes only dst and gw.
func specFields(r *types100.Result) map[string]any {
	GinkgoHelper()
	raw, err := json.Marshal(r)
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(raw, &m)).To(Succeed())
	if r.CNIVersion == "1.1.0" {
		return m
	}
	keep := func(list string, keys ...string) {
		items, _ := m[list].([]any)
		for _, it := range items {
			obj, _ := it.(map[string]any)
			for k := range obj {
				if !slices.Contains(keys, k) {
					delete(obj, k)
				}
			}
		}
	}
	keep("interfaces", "name", "mac", "sandbox")
	keep("routes", "dst", "gw")
	return m
}
