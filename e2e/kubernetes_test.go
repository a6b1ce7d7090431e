package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
)

// kubeDriver is what the Kubernetes-only specs need of a driver.
type kubeDriver interface {
	Clientset() kubernetes.Interface
	Adopt(ctx context.Context, ns, name string) (*cluster.Pod, error)
	Events(ctx context.Context, p *cluster.Pod) ([]corev1.Event, error)
	EnsureNamespace(ctx context.Context, ns string) error
}

// kubeOf returns the driver as a Kubernetes driver, or skips the spec.
func kubeOf(cl cluster.Cluster) kubeDriver {
	GinkgoHelper()
	k, ok := cl.(kubeDriver)
	if !ok {
		Skip(fmt.Sprintf("a Kubernetes-only spec; the %T driver has no API server", cl))
	}
	return k
}

var _ = Describe("on Kubernetes", Label("kubernetes"), func() {
	It("gives a StatefulSet's recreated pod the same addresses and MACs", func(ctx SpecContext) {
		k := kubeOf(c)
		name := podName("sts")
		one := int32(1)
		labels := map[string]string{"app": name}
		set := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: "e2e", Name: name},
			Spec: appsv1.StatefulSetSpec{
				Replicas: &one, ServiceName: name,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: npwg("green@net1, mv@net2")},
					Spec:       testPodSpec(node1),
				},
			},
		}
		Expect(k.EnsureNamespace(ctx, "e2e")).To(Succeed())
		_, err := k.Clientset().AppsV1().StatefulSets("e2e").Create(ctx, set, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			// The set first, so that it does not recreate the pod; then the pod, waiting until it is gone.
			Expect(k.Clientset().AppsV1().StatefulSets("e2e").Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed())
			obj, err := k.Clientset().CoreV1().Pods("e2e").Get(ctx, name+"-0", metav1.GetOptions{})
			if err == nil {
				Expect(c.DeletePod(ctx, &cluster.Pod{Namespace: "e2e", Name: obj.Name, UID: string(obj.UID)})).To(Succeed())
			}
		}, NodeTimeout(2*time.Minute))
		first := adoptWhenRunning(ctx, k, "e2e", name+"-0", "")
		Expect(first.Interfaces).To(HaveLen(3))

		Expect(k.Clientset().CoreV1().Pods("e2e").Delete(ctx, first.Name, metav1.DeleteOptions{})).To(Succeed())
		second := adoptWhenRunning(ctx, k, "e2e", name+"-0", first.UID)
		Expect(second.UID).NotTo(Equal(first.UID))
		Expect(second.Interfaces).To(Equal(first.Interfaces), "the recreated pod's interfaces")
	}, NodeTimeout(5*time.Minute))

	It("does not hand a deleted pod's address to the next pod during the cooldown", func(ctx SpecContext) {
		kubeOf(c)
		// A network of this spec alone: the allocator hands out the lowest free address, so without
		// a cooldown the second pod would get the first one's.
		net := model.Network{Name: fmt.Sprintf("cool-%d", podSeq.Add(1)), Tenant: "e2e", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.12.0.0/24"), Gateway: netip.MustParseAddr("10.12.0.1")}}
		_, err := c.ManagerClient().CreateNetwork(ctx, net)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.ManagerClient().DeleteNetwork(ctx, "e2e", net.Name)).To(Succeed()) })
		a, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("cool-a"), Node: node1, Annotations: npwg(net.Name + "@net1")})
		Expect(err).NotTo(HaveOccurred())
		first := addrOn(a, "net1", 4)
		Expect(c.DeletePod(ctx, a)).To(Succeed())
		Eventually(ctx, func(ctx context.Context) error {
			_, err := c.ManagerClient().GetPod(ctx, a.UID)
			return err
		}).WithTimeout(time.Minute).Should(MatchError(model.ErrNotFound), "the deleted pod's ports were not released")

		b := createPod(ctx, cluster.PodSpec{Name: podName("cool-b"), Node: node1, Annotations: npwg(net.Name + "@net1")})
		Expect(addrOn(b, "net1", 4)).NotTo(Equal(first), "the address of a pod deleted just now went to the next pod")
	})

	It("does not start a pod of tenant e2e that asks for tenant other's private network, with a Warning event", func(ctx SpecContext) {
		k := kubeOf(c)
		pod, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("steal"), Node: node1, Annotations: npwg("other/red@net1")})
		Expect(pod).NotTo(BeNil())
		DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, pod)).To(Succeed()) }, NodeTimeout(2*time.Minute))
		var se *kube.SandboxError
		Expect(errors.As(err, &se)).To(BeTrue(), "the pod started: %v", err)
		Expect(se.Message).To(ContainSubstring("red"))
		evs, err := k.Events(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		var warned bool
		for _, e := range evs {
			warned = warned || (e.Type == corev1.EventTypeWarning && e.Reason == "FailedCreatePodSandBox")
		}
		Expect(warned).To(BeTrue(), "no Warning event FailedCreatePodSandBox: %+v", evs)
		obj, err := k.Clientset().CoreV1().Pods("e2e").Get(ctx, pod.Name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(obj.Status.Phase).To(Equal(corev1.PodPending))
		_, err = c.ManagerClient().GetPod(ctx, pod.UID)
		Expect(errors.Is(err, model.ErrNotFound)).To(BeTrue(), "the manager holds an allocation of the refused pod: %v", err)
	})

	It("reports every interface in the network-status annotation", func(ctx SpecContext) {
		k := kubeOf(c)
		pod := createPod(ctx, cluster.PodSpec{Name: podName("status"), Node: node2, Annotations: npwg("green@net1")})
		var obj *corev1.Pod
		Eventually(ctx, func(ctx context.Context) string {
			var err error
			obj, err = k.Clientset().CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if err != nil {
				return ""
			}
			return obj.Annotations[networkStatusAnnotation]
		}).WithTimeout(30*time.Second).ShouldNot(BeEmpty(), "no %s annotation: nothing in this installation writes it (knitter-monitor)", networkStatusAnnotation)
		status := obj.Annotations[networkStatusAnnotation]
		for _, itf := range pod.Interfaces {
			Expect(status).To(ContainSubstring(`"interface":"`+itf.Name+`"`), "network-status %s", status)
			Expect(strings.ToLower(status)).To(ContainSubstring(strings.ToLower(itf.MAC)))
			for _, a := range itf.Addrs {
				Expect(status).To(ContainSubstring(a.Addr().String()))
			}
		}
	})

	Describe("a node removed from the cluster", Serial, func() {
		It("releases the ports of the node's pods", func(ctx SpecContext) {
			k := kubeOf(c)
			cs := k.Clientset()
			pod, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("gone-node"), Node: node2, Annotations: npwg("green@net1")})
			Expect(err).NotTo(HaveOccurred())
			_, err = c.ManagerClient().GetPod(ctx, pod.UID)
			Expect(err).NotTo(HaveOccurred(), "the manager has no allocation of the pod")
			node, err := cs.CoreV1().Nodes().Get(ctx, node2, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			// The node comes back as an operator would re-add it: the same Node object, which its
			// kubelet (still running) reports on again; the DaemonSet and the Deployment refill it.
			DeferCleanup(func(ctx SpecContext) {
				back := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node.Name, Labels: node.Labels, Annotations: node.Annotations}}
				_, err := cs.CoreV1().Nodes().Create(ctx, back, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				waitKnitterServes(ctx, k, node2)
				Expect(c.DeletePod(ctx, pod)).To(Succeed())
			}, NodeTimeout(5*time.Minute))
			Expect(cs.CoreV1().Nodes().Delete(ctx, node2, metav1.DeleteOptions{})).To(Succeed())
			Eventually(ctx, func(ctx context.Context) error {
				_, err := c.ManagerClient().GetPod(ctx, pod.UID)
				return err
			}).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(MatchError(model.ErrNotFound),
				"the ports of pod %s on the removed node %s were not released", pod.Key(), node2)
		}, NodeTimeout(9*time.Minute))
	})

	Describe("with knitter-manager and the API server down", Serial, func() {
		It("still tears a pod down: CNI DEL works from the agent's checkpoint", func(ctx SpecContext) {
			kubeOf(c)
			rt, in := runtimeOf(c), inspectorOf(c)
			apiserver := apiServerPID()
			pod := createPod(ctx, cluster.PodSpec{Name: podName("all-down-del"), Node: node2, Annotations: npwg("green@net1")})
			Expect(c.StopManager(ctx)).To(Succeed())
			DeferCleanup(func(ctx SpecContext) { _ = c.StartManager(ctx) }, NodeTimeout(3*time.Minute))
			// The API server stops answering (SIGSTOP), as when it is down; SIGCONT brings it back.
			Expect(syscall.Kill(apiserver, syscall.SIGSTOP)).To(Succeed())
			stopped := true
			DeferCleanup(func() {
				if stopped {
					_ = syscall.Kill(apiserver, syscall.SIGCONT)
				}
			})
			Expect(rt.Del(ctx, pod)).To(Succeed())
			// DEL answers once the links are out of reach; the agent removes them, then the
			// checkpoint, right after (deferred teardown, docs/architecture.md).
			Eventually(ctx, func() []string { return checkpointsOf(ctx, in, pod) }).
				WithTimeout(10*time.Second).Should(BeEmpty(), "the deferred teardown's checkpoint")
			Expect(in.PodInterfaces(ctx, pod)).To(BeEmpty())
			Expect(syscall.Kill(apiserver, syscall.SIGCONT)).To(Succeed())
			stopped = false
		}, NodeTimeout(4*time.Minute))
	})
})

// networkStatusAnnotation is the NPWG annotation that lists a pod's attachments.
const networkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"

// testPodSpec is the test image's pod spec on node.
func testPodSpec(node string) corev1.PodSpec {
	grace := int64(1)
	return corev1.PodSpec{
		NodeName: node, TerminationGracePeriodSeconds: &grace, AutomountServiceAccountToken: new(bool),
		Containers: []corev1.Container{{Name: "pod", Image: "localhost/knitter-testpod:dev", ImagePullPolicy: corev1.PullIfNotPresent,
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}}}},
	}
}

// adoptWhenRunning waits for pod ns/name (other than the one with uid notUID) and adopts it.
func adoptWhenRunning(ctx context.Context, k kubeDriver, ns, name, notUID string) *cluster.Pod {
	GinkgoHelper()
	var p *cluster.Pod
	Eventually(ctx, func(ctx context.Context) error {
		obj, err := k.Clientset().CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if string(obj.UID) == notUID || obj.DeletionTimestamp != nil {
			return fmt.Errorf("pod %s/%s is still the old one", ns, name)
		}
		p, err = k.Adopt(ctx, ns, name)
		return err
	}).WithTimeout(3 * time.Minute).Should(Succeed())
	return p
}

// apiServerPID is the local cluster's kube-apiserver (hack/kube-up.sh), or the spec skips.
func apiServerPID() int {
	GinkgoHelper()
	dir := os.Getenv("KNITTER_KUBE_DIR")
	b, err := os.ReadFile(filepath.Join(dir, "kube-apiserver.pid"))
	if dir == "" || err != nil {
		Skip("stopping the API server needs hack/kube-up.sh's cluster (KNITTER_KUBE_DIR)")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	Expect(err).NotTo(HaveOccurred())
	return pid
}

// waitKnitterServes waits until node is Ready and Knitter's agent runs there, and the monitor
// Deployment and the agent DaemonSet are complete again.
func waitKnitterServes(ctx context.Context, k kubeDriver, node string) {
	GinkgoHelper()
	cs := k.Clientset()
	ns := "knitter-system"
	Eventually(ctx, func(ctx context.Context) error {
		n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
		}
		if !ready {
			return fmt.Errorf("node %s is not Ready", node)
		}
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, "knitter-agent", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ds.Status.NumberReady != ds.Status.DesiredNumberScheduled || ds.Status.DesiredNumberScheduled == 0 {
			return fmt.Errorf("knitter-agent: %d of %d ready", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled)
		}
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "knitter-monitor", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Spec.Replicas != nil && d.Status.ReadyReplicas != *d.Spec.Replicas {
			return fmt.Errorf("knitter-monitor: %d of %d ready", d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
		return nil
	}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
}
