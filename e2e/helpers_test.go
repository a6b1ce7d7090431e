package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
)

// Bounds of the waits specs make. Reachability is eventual: an agent learns a new peer VTEP on its
// next node-list poll, and the first packets wait for neighbour resolution.
const (
	reachTimeout = 30 * time.Second
	pingAttempt  = 3 * time.Second
	// silence is how long a ping must go unanswered to count as "cannot reach"; every such check
	// is paired with a control pair that does reach over the same path.
	silence = 3 * time.Second
)

// podSeq makes pod names unique within the run.
var podSeq atomic.Int64

// podName returns a fresh pod name starting with base.
func podName(base string) string { return fmt.Sprintf("%s-%d", base, podSeq.Add(1)) }

// npwg is the NPWG network selection annotation with the given value.
func npwg(value string) map[string]string {
	return map[string]string{netspec.NPWGAnnotation: value}
}

// createPod creates a pod that must attach, and deletes it when the spec ends.
func createPod(ctx context.Context, spec cluster.PodSpec) *cluster.Pod {
	GinkgoHelper()
	if spec.Namespace == "" {
		spec.Namespace = "e2e"
	}
	p, err := c.CreatePod(ctx, spec)
	if p != nil {
		DeferCleanup(func(ctx SpecContext) { Expect(c.DeletePod(ctx, p)).To(Succeed()) }, NodeTimeout(time.Minute))
	}
	Expect(err).NotTo(HaveOccurred())
	return p
}

// runtimeOf returns the driver's CNI runtime, or skips the spec on drivers without one.
func runtimeOf(cl cluster.Cluster) cluster.Runtime {
	GinkgoHelper()
	rt, ok := cl.(cluster.Runtime)
	if !ok {
		skipLacking(cl, "runtime", "cannot make CNI calls for a pod directly")
	}
	return rt
}

// missing is implemented by drivers that say why they lack an ability a spec looks for.
type missing interface {
	Missing(ability string) string
}

// skipLacking skips the spec because cl lacks ability, in the driver's own words when it has them.
func skipLacking(cl cluster.Cluster, ability, fallback string) {
	GinkgoHelper()
	if m, ok := cl.(missing); ok {
		if why := m.Missing(ability); why != "" {
			Skip(why)
		}
	}
	Skip(fmt.Sprintf("the %T driver %s", cl, fallback))
}

// missingWhy is the driver's own words for lacking ability, or a plain statement when it has none.
func missingWhy(cl cluster.Cluster, ability string) string {
	if m, ok := cl.(missing); ok {
		if why := m.Missing(ability); why != "" {
			return why
		}
	}
	return fmt.Sprintf("the %T driver lacks %s", cl, ability)
}

// inspectorOf returns the driver's inspector, or skips the spec on drivers without one.
func inspectorOf(cl cluster.Cluster) cluster.Inspector {
	GinkgoHelper()
	in, ok := cl.(cluster.Inspector)
	if !ok {
		skipLacking(cl, "inspector", "cannot look inside nodes")
	}
	return in
}

// allocation is the manager's record of the pod's ports.
func allocation(ctx context.Context, p *cluster.Pod) model.Pod {
	GinkgoHelper()
	a, err := c.ManagerClient().GetPod(ctx, p.UID)
	Expect(err).NotTo(HaveOccurred(), "the manager has no allocation of pod %s", p.Key())
	return a
}

// expectReach pings dst from p until a reply comes.
func expectReach(ctx context.Context, from *cluster.Pod, dst netip.Addr) {
	GinkgoHelper()
	Eventually(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, pingAttempt)
		defer cancel()
		return c.Ping(ctx, from, dst)
	}).WithTimeout(reachTimeout).Should(Succeed(), "%s on %s cannot reach %s", from.Key(), from.Node, dst)
}

// expectNoReach pings dst from p for `silence` and fails on any reply.
func expectNoReach(ctx context.Context, from *cluster.Pod, dst netip.Addr) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(ctx, silence)
	defer cancel()
	Expect(c.Ping(ctx, from, dst)).NotTo(Succeed(), "%s on %s reaches %s, which it must not", from.Key(), from.Node, dst)
}

// addrOn returns the pod's first address of the family of want (4 or 6) on interface name.
func addrOn(p *cluster.Pod, name string, family int) netip.Addr {
	GinkgoHelper()
	itf, ok := p.Interface(name)
	Expect(ok).To(BeTrue(), "pod %s has no interface %s: %+v", p.Key(), name, p.Interfaces)
	for _, a := range itf.Addrs {
		if a.Addr().Is4() == (family == 4) {
			return a.Addr()
		}
	}
	Fail(fmt.Sprintf("pod %s's %s has no IPv%d address: %v", p.Key(), name, family, itf.Addrs))
	return netip.Addr{}
}

// cniError returns the CNI error inside err, failing if there is none. On Kubernetes the kubelet's
// FailedCreatePodSandBox event carries the plugin's message but not its code: known is false there,
// and specs check the message alone.
func cniError(err error) (e *types.Error, known bool) {
	GinkgoHelper()
	var se *kube.SandboxError
	if errors.As(err, &se) {
		GinkgoWriter.Printf("the %T driver sees the runtime's message only, not the CNI error code\n", c)
		return &types.Error{Msg: se.Message}, false
	}
	Expect(errors.As(err, &e)).To(BeTrue(), "error %v (%T) is not a CNI error", err, err)
	return e, true
}

// sandboxRetrier is implemented by drivers whose runtime retries a failed sandbox by itself, as the
// kubelet does.
type sandboxRetrier interface {
	WaitAttached(ctx context.Context, pod *cluster.Pod) (*cluster.Pod, error)
}
