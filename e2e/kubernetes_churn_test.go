package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// churnPods is how many pods the churn spec starts: 200 (about 165 s of `make test-e2e-kube` on a
// 2-core machine); a smaller number makes a quick run: E2E_FLAGS='-knitter.churn-pods=24'.
var churnPods = flag.Int("knitter.churn-pods", 200, "pods the Kubernetes churn spec starts while it kills Knitter's components (24 for a quick run)")

// churnWorkers bounds the waits and deletes the churn spec runs at once (each polls the API server).
const churnWorkers = 16

// containerKiller is implemented by drivers that can kill -9 a container's process on its node.
type containerKiller interface {
	KillContainer(ctx context.Context, ns, pod, container string) (int32, error)
	RestartCount(ctx context.Context, ns, pod, container string) (int32, bool, error)
}

// parallel runs f for every index below n on churnWorkers goroutines and returns the errors by index.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, churnWorkers) {
		wg.Go(func() {
			for i := range next {
				errs[i] = f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

var _ = Describe("on Kubernetes, components killed during a churn of pods", Label("kubernetes", "churn"), Serial, func() {
	It("converges: every pod attaches once the agent, the monitor and the manager are back, no port is duplicated or leaked", func(ctx SpecContext) {
		k := kubeOf(c)
		type retrier interface {
			WaitAttached(ctx context.Context, p *cluster.Pod) (*cluster.Pod, error)
		}
		r := c.(retrier)
		n := *churnPods
		Expect(n).To(BeNumerically(">=", 3), "-knitter.churn-pods")
		killer, canKill := c.(containerKiller)
		ns := "knitter-system"
		Expect(k.EnsureNamespace(ctx, "e2e")).To(Succeed())
		start := time.Now()
		var victims []victim
		restarts := map[string]int32{}
		pods := make([]*cluster.Pod, n)
		for i := range pods {
			node := []string{node1, node2}[i%2]
			obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "e2e", Name: podName("churn"), Annotations: npwg("green@net1")},
				Spec: testPodSpec(node)}
			got, err := k.Clientset().CoreV1().Pods("e2e").Create(ctx, obj, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			pods[i] = &cluster.Pod{Namespace: "e2e", Name: got.Name, UID: string(got.UID), Node: node}
			p := pods[i]
			DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, p)).To(Succeed()) }, NodeTimeout(2*time.Minute))
			if i != n/3 {
				continue
			}
			// A third of the pods in: kill -9 the agent on node 1, the active monitor (the Lease's
			// holder) and its standby, and the active manager (the leader).
			victims = churnVictims(ctx, k.Clientset(), c.ManagerClient(), ns)
			for _, v := range victims {
				if canKill {
					before, err := killer.KillContainer(ctx, ns, v.pod, v.container)
					Expect(err).NotTo(HaveOccurred())
					restarts[v.pod] = before
					GinkgoWriter.Printf("kill -9 of %s/%s (restarts before: %d)\n", v.pod, v.container, before)
					continue
				}
				// Without access to the nodes, deleting the pods at once is the nearest thing.
				zero := int64(0)
				GinkgoWriter.Printf("deleting %s at once (the driver cannot kill -9)\n", v.pod)
				Expect(k.Clientset().CoreV1().Pods(ns).Delete(ctx, v.pod, metav1.DeleteOptions{GracePeriodSeconds: &zero})).To(Succeed())
			}
		}
		GinkgoWriter.Printf("%d pods created in %s\n", n, time.Since(start).Round(time.Millisecond))

		errs := parallel(n, func(i int) error { _, err := r.WaitAttached(ctx, pods[i]); return err })
		Expect(errors.Join(errs...)).NotTo(HaveOccurred())
		GinkgoWriter.Printf("%d pods attached %s after the first was created\n", n, time.Since(start).Round(time.Millisecond))
		if canKill {
			// Each killed container came back in place: a restart of the same pod, not a new pod.
			for _, v := range victims {
				Eventually(ctx, func(ctx context.Context) error {
					now, ready, err := killer.RestartCount(ctx, ns, v.pod, v.container)
					if err != nil {
						return err
					}
					if now <= restarts[v.pod] || !ready {
						return fmt.Errorf("%s: %d restarts (%d before the kill), ready %v", v.pod, now, restarts[v.pod], ready)
					}
					return nil
				}).WithTimeout(3*time.Minute).Should(Succeed(), "a killed component did not restart")
			}
		}

		ports, err := c.ManagerClient().ListPorts(ctx, httpapi.PortQuery{Tenant: "e2e"})
		Expect(err).NotTo(HaveOccurred())
		ours := map[string]bool{}
		for _, p := range pods {
			ours[p.UID] = true
		}
		seenIP, seenMAC := map[string]string{}, map[string]string{}
		perPod := map[string]int{}
		for _, port := range ports {
			if !ours[port.Pod.UID] {
				continue
			}
			perPod[port.Pod.UID]++
			for _, ip := range port.IPs {
				Expect(seenIP).NotTo(HaveKey(ip.String()), "address %s given twice", ip)
				seenIP[ip.String()] = port.ID
			}
			Expect(seenMAC).NotTo(HaveKey(port.MAC.String()), "MAC %s given twice", port.MAC)
			seenMAC[port.MAC.String()] = port.ID
		}
		for _, p := range pods {
			Expect(perPod[p.UID]).To(Equal(2), "pod %s has %d ports, want eth0 and net1", p.Key(), perPod[p.UID])
			Expect(p.Interfaces).To(HaveLen(2), "pod %s interfaces", p.Key())
		}

		deleted := time.Now()
		errs = parallel(n, func(i int) error { return c.DeletePod(ctx, pods[i]) })
		Expect(errors.Join(errs...)).NotTo(HaveOccurred())
		Eventually(ctx, func(ctx context.Context) []string {
			ports, err := c.ManagerClient().ListPorts(ctx, httpapi.PortQuery{Tenant: "e2e"})
			if err != nil {
				return []string{err.Error()}
			}
			var left []string
			for _, port := range ports {
				if ours[port.Pod.UID] {
					left = append(left, fmt.Sprintf("%s of %s", port.ID, port.Pod.UID))
				}
			}
			return left
		}).WithTimeout(2*time.Minute).Should(BeEmpty(), "ports of deleted pods leaked")
		GinkgoWriter.Printf("%d pods deleted and their ports released in %s; the spec took %s\n", n,
			time.Since(deleted).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}, NodeTimeout(30*time.Minute))
})

// victim is a container the churn spec kills.
type victim struct{ pod, container string }

// churnVictims are the containers the churn spec kills: node 1's agent, the active monitor (the
// holder of the Lease knitter-monitor) and its standby, and the active manager (the one whose
// /readyz says leader; the embedded-etcd install runs one).
func churnVictims(ctx context.Context, cs kubernetes.Interface, mgr *httpapi.Client, ns string) []victim {
	GinkgoHelper()
	var out []victim
	list := func(app string) []corev1.Pod {
		GinkgoHelper()
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + app})
		Expect(err).NotTo(HaveOccurred())
		return l.Items
	}
	for _, p := range list("knitter-agent") {
		if p.Spec.NodeName == node1 {
			out = append(out, victim{p.Name, "agent"})
		}
	}
	lease, err := cs.CoordinationV1().Leases(ns).Get(ctx, "knitter-monitor", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred(), "the monitors' Lease")
	Expect(lease.Spec.HolderIdentity).NotTo(BeNil(), "nobody holds the monitors' Lease")
	holder := false
	for _, p := range list("knitter-monitor") {
		holder = holder || p.Name == *lease.Spec.HolderIdentity
		out = append(out, victim{p.Name, "monitor"})
	}
	Expect(holder).To(BeTrue(), "the Lease's holder %s is not a monitor pod", *lease.Spec.HolderIdentity)
	st, err := mgr.Ready(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(st.Leader).To(BeTrue(), "the manager the suite reaches is not the leader")
	managers := list("knitter-manager")
	Expect(managers).To(HaveLen(1), "more than one manager: which is active is not known here")
	out = append(out, victim{managers[0].Name, "manager"})
	return out
}
