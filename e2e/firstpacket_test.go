package e2e

import (
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// firstEchoTimeout is how long the very first echo to a freshly attached pod may take: well under the
// kernel's 1 s ARP retransmit, so a lost first ARP (or neighbour solicitation) fails the spec.
const firstEchoTimeout = 200 * time.Millisecond

// expectFirstEcho sends one echo from p to dst and requires its answer within firstEchoTimeout. It
// keeps listening for up to 3 s so that a failure says how late the answer came: about 1 s is the
// kernel's ARP / neighbour-solicitation retransmit (the first request was lost), never is a path
// that does not exist.
func expectFirstEcho(ctx SpecContext, e cluster.Echoer, from *cluster.Pod, dst netip.Addr) {
	GinkgoHelper()
	start := time.Now()
	err := e.Echo(ctx, from, dst, 3*time.Second)
	took := time.Since(start)
	Expect(err).NotTo(HaveOccurred(), "the first echo from %s on %s to %s was never answered (waited %s)", from.Key(), from.Node, dst, took)
	Expect(took).To(BeNumerically("<", firstEchoTimeout),
		"the first echo from %s on %s to %s was answered only after %s", from.Key(), from.Node, dst, took)
}

func echoerOf(cl cluster.Cluster) cluster.Echoer {
	GinkgoHelper()
	e, ok := cl.(cluster.Echoer)
	if !ok {
		skipLacking(cl, "echo", "cannot send a single echo")
	}
	return e
}

var _ = Describe("a freshly attached pod", Label("overlay", "macvlan", "first-packet"), func() {
	It("answers the very first echo from another node, IPv4 and IPv6 over the overlay and over macvlan", func(ctx SpecContext) {
		e := echoerOf(c)
		a := createPod(ctx, cluster.PodSpec{Name: podName("first-a"), Node: node1, Annotations: npwg("mv@net1")})
		b := createPod(ctx, cluster.PodSpec{Name: podName("first-b"), Node: node2, Annotations: npwg("mv@net1")})
		expectFirstEcho(ctx, e, a, addrOn(b, "eth0", 4))
		expectFirstEcho(ctx, e, b, addrOn(a, "eth0", 6))
		expectFirstEcho(ctx, e, a, addrOn(b, "net1", 4))
	})

	It("on a node that joined a moment before, answers the very first echo from the other nodes", Serial, func(ctx SpecContext) {
		e := echoerOf(c)
		adder, ok := c.(cluster.NodeAdder)
		if !ok {
			skipLacking(c, "add-node", "cannot add nodes")
		}
		a := createPod(ctx, cluster.PodSpec{Name: podName("first-old1"), Node: node1, Annotations: npwg("mv@net1")})
		b := createPod(ctx, cluster.PodSpec{Name: podName("first-old2"), Node: node2, Annotations: npwg("mv@net1")})
		n3, err := adder.AddNode(ctx)
		Expect(err).NotTo(HaveOccurred())
		n := createPod(ctx, cluster.PodSpec{Name: podName("first-new"), Node: n3.Name, Annotations: npwg("mv@net1")})
		expectFirstEcho(ctx, e, a, addrOn(n, "eth0", 6))
		expectFirstEcho(ctx, e, b, addrOn(n, "eth0", 4))
		expectFirstEcho(ctx, e, n, addrOn(a, "eth0", 4))
		expectFirstEcho(ctx, e, a, addrOn(n, "net1", 4))
	}, NodeTimeout(3*time.Minute))
})
