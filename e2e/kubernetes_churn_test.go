package e2e

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// churnPods is how many pods the churn spec starts at once on this 2-core machine; each needs a
// sandbox, an exec and a manager allocation.
const churnPods = 24

var _ = Describe("on Kubernetes, components killed during a churn of pods", Label("kubernetes", "churn"), Serial, func() {
	It("converges: every pod attaches once the agent, the monitor and the manager are back, no port is duplicated or leaked", func(ctx SpecContext) {
		k := kubeOf(c)
		type retrier interface {
			WaitAttached(ctx context.Context, p *cluster.Pod) (*cluster.Pod, error)
		}
		r := c.(retrier)
		ns := "knitter-system"
		Expect(k.EnsureNamespace(ctx, "e2e")).To(Succeed())
		pods := make([]*cluster.Pod, churnPods)
		for i := range pods {
			node := []string{node1, node2}[i%2]
			obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "e2e", Name: podName("churn"), Annotations: npwg("green@net1")},
				Spec: testPodSpec(node)}
			got, err := k.Clientset().CoreV1().Pods("e2e").Create(ctx, obj, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			pods[i] = &cluster.Pod{Namespace: "e2e", Name: got.Name, UID: string(got.UID), Node: node}
			p := pods[i]
			DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, p)).To(Succeed()) }, NodeTimeout(2*time.Minute))
			if i == churnPods/3 {
				// kill -9 of the agent on node 1, of the monitors (the leader and its standby) and of
				// the manager: their pods deleted at once.
				zero := int64(0)
				for _, sel := range []string{"app.kubernetes.io/name=knitter-agent", "app.kubernetes.io/name=knitter-monitor", "app.kubernetes.io/name=knitter-manager"} {
					list, err := k.Clientset().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
					Expect(err).NotTo(HaveOccurred())
					for _, victim := range list.Items {
						if sel == "app.kubernetes.io/name=knitter-agent" && victim.Spec.NodeName != node1 {
							continue
						}
						GinkgoWriter.Printf("killing %s on %s\n", victim.Name, victim.Spec.NodeName)
						Expect(k.Clientset().CoreV1().Pods(ns).Delete(ctx, victim.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})).To(Succeed())
					}
				}
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, len(pods))
		for i, p := range pods {
			wg.Go(func() { _, errs[i] = r.WaitAttached(ctx, p) })
		}
		wg.Wait()
		for i, err := range errs {
			Expect(err).NotTo(HaveOccurred(), "pod %s", pods[i].Key())
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
			itfs := p.Interfaces
			Expect(itfs).To(HaveLen(2), "pod %s interfaces", p.Key())
		}

		for _, p := range pods {
			Expect(c.DeletePod(ctx, p)).To(Succeed())
		}
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
	}, NodeTimeout(10*time.Minute))
})
