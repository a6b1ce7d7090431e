package netlinkdp_test

import (
	"fmt"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// firstEcho bounds the very first echo to a freshly attached pod: well under the kernel's 1 s ARP
// (and neighbour solicitation) retransmit, so a first request that is lost fails.
const firstEcho = 200 * time.Millisecond

var _ = Describe("the first packet between freshly attached pods on two nodes", func() {
	var t *twoNodes
	BeforeEach(func() { t = newTwoNodes() })

	It("is answered at once once each node floods to the other, over IPv4 to a VTEP never contacted", func() {
		// Nothing has crossed the underlay yet: the VTEPs' neighbour entries are unresolved, the
		// bridges and VXLAN devices are built by these very ADDs, and the echo leaves the moment the
		// second ADD returns.
		for i := range 5 {
			vni := uint32(101 + i)
			a := t.pod(0, fmt.Sprintf("a%d", i), t.overlayOn(0, fmt.Sprintf("a%d", i), vni, "10.1.0.5/24"))
			t.pod(1, fmt.Sprintf("b%d", i), t.overlayOn(1, fmt.Sprintf("b%d", i), vni, "10.1.0.6/24"))
			Expect(ping(a, netip.MustParseAddr("10.1.0.6"), firstEcho)).To(Succeed(), "the first IPv4 echo on VNI %d", vni)
		}
	})

	It("is lost when the sender's VXLAN device does not flood to the receiver's node yet — the 1 s hole", func() {
		// Pod a was planned from a peer list read before node 2 registered.
		la := t.overlayOn(0, "a", 101, "10.1.0.5/24")
		la.VXLAN.Peers = nil
		a := t.pod(0, "a", la)
		t.pod(1, "b", t.overlayOn(1, "b", 101, "10.1.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), firstEcho)).NotTo(Succeed(), "the ARP request cannot leave node 1")
		// The next peer sync adds the flood entry; only the kernel's ARP retransmit, a second after
		// the first request, completes the exchange.
		vx := *la.VXLAN
		vx.Peers = []netip.Addr{t.vtep[1]}
		Expect(t.dp[0].SyncPeers(ctx, vx)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), replyWithin)).To(Succeed())
	})
})
