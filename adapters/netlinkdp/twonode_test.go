package netlinkdp_test

import (
	"net/netip"
	"time"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/core/plan"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// A reply inside these namespaces takes microseconds; the bound only stops a spec that would hang.
// A ping that must fail waits the shorter bound, since nothing can arrive.
const (
	replyWithin = 3 * time.Second
	silentFor   = time.Second
)

// twoNodes is two node namespaces joined by veth "cables": the underlay (192.0.2.1/24 and
// 192.0.2.2/24) and the VLAN trunk; node 1 also has a macvlan parent.
type twoNodes struct {
	w    *world
	path [2]string
	dp   [2]*netlinkdp.Dataplane
	vtep [2]netip.Addr
}

func newTwoNodes() *twoNodes {
	t := &twoNodes{w: newWorld(), vtep: [2]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}}
	for i := range 2 {
		t.path[i] = podNetns(t.w)
	}
	DeferCleanup(func() {
		for _, dp := range t.dp {
			if dp != nil {
				dp.Close()
			}
		}
		Expect(t.w.close(t.path[:]...)).To(Succeed())
	})
	Expect(vethPair(t.path[0], dataplanetest.Underlay, t.path[1], dataplanetest.Underlay, netip.PrefixFrom(t.vtep[0], 24))).To(Succeed())
	h, err := handle(t.path[1])
	Expect(err).NotTo(HaveOccurred())
	defer h.Close()
	under, err := h.LinkByName(dataplanetest.Underlay)
	Expect(err).NotTo(HaveOccurred())
	Expect(h.AddrAdd(under, addrOf(netip.PrefixFrom(t.vtep[1], 24)))).To(Succeed())
	Expect(vethPair(t.path[0], dataplanetest.Trunk, t.path[1], dataplanetest.Trunk, netip.Prefix{})).To(Succeed())
	Expect(vethPair(t.path[0], dataplanetest.Parent, t.path[0], dataplanetest.Parent+"-p", netip.Prefix{})).To(Succeed())
	for i := range 2 {
		t.dp[i], err = netlinkdp.New(netlinkdp.Options{HostNetns: t.path[i]})
		Expect(err).NotTo(HaveOccurred())
	}
	return t
}

// overlayOn is an overlay link for a pod on node i: its VTEP is node i's, its peer the other node.
func (t *twoNodes) overlayOn(i int, cid string, vni uint32, addrs ...string) plan.Link {
	l := overlay(cid, "eth0", vni, addrs...)
	l.VXLAN.Local = t.vtep[i]
	l.VXLAN.Peers = []netip.Addr{t.vtep[1-i]}
	return l
}

// pod attaches a pod with links on node i and returns its namespace.
func (t *twoNodes) pod(i int, cid string, links ...plan.Link) string {
	p := podNetns(t.w)
	Expect(t.dp[i].Attach(ctx, podPlan(cid, p, links...))).To(Succeed())
	return p
}

var _ = Describe("two nodes joined by a veth underlay", func() {
	var t *twoNodes
	BeforeEach(func() { t = newTwoNodes() })

	It("carries IPv4 and IPv6 between pods on different nodes over the overlay", func() {
		a := t.pod(0, "a", t.overlayOn(0, "a", 101, "10.1.0.5/24", "fd01::5/64"))
		b := t.pod(1, "b", t.overlayOn(1, "b", 101, "10.1.0.6/24", "fd01::6/64"))
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), replyWithin)).To(Succeed())
		Expect(ping(b, netip.MustParseAddr("10.1.0.5"), replyWithin)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("fd01::6"), replyWithin)).To(Succeed())
	})

	It("keeps overlays with different VNIs apart", func() {
		a := t.pod(0, "a", t.overlayOn(0, "a", 101, "10.1.0.5/24"))
		t.pod(1, "b", t.overlayOn(1, "b", 101, "10.1.0.6/24"))
		t.pod(1, "c", t.overlayOn(1, "c", 102, "10.1.0.7/24"))
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), replyWithin)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.1.0.7"), silentFor)).NotTo(Succeed())
	})

	It("stops and resumes carrying traffic as SyncPeers removes and restores the peer VTEP", func() {
		la := t.overlayOn(0, "a", 101, "10.1.0.5/24")
		a := t.pod(0, "a", la)
		t.pod(1, "b", t.overlayOn(1, "b", 101, "10.1.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), replyWithin)).To(Succeed())
		vx := *la.VXLAN
		vx.Peers = nil
		Expect(t.dp[0].SyncPeers(ctx, vx)).To(Succeed())
		Expect(fdb(t.path[0], vx.Name)).To(BeEmpty())
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), silentFor)).NotTo(Succeed())
		vx.Peers = []netip.Addr{t.vtep[1]}
		Expect(t.dp[0].SyncPeers(ctx, vx)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.1.0.6"), replyWithin)).To(Succeed())
	})

	It("lets pods on VLAN 100 talk across the trunk and keeps VLAN 200 apart", func() {
		if !filtering {
			Skip("this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING); vlan networks cannot be built here")
		}
		a := t.pod(0, "a", vlanL("a", "net1", 100, "10.3.0.5/24"))
		t.pod(1, "b", vlanL("b", "net1", 100, "10.3.0.6/24"))
		t.pod(1, "c", vlanL("c", "net1", 200, "10.3.0.7/24"))
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), replyWithin)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.3.0.7"), silentFor)).NotTo(Succeed())
	})

	It("lets untagged (VLAN 0) pods on the two nodes talk across the trunk", func() {
		a := t.pod(0, "a", vlanL("a", "net1", 0, "10.3.0.5/24"))
		t.pod(1, "b", vlanL("b", "net1", 0, "10.3.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), replyWithin)).To(Succeed())
	})

	It("lets macvlan pods on the same parent reach each other", func() {
		a := t.pod(0, "a", macvlan("a", "net1", "10.2.0.5/24"))
		b := t.pod(0, "b", macvlan("b", "net1", "10.2.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.2.0.6"), replyWithin)).To(Succeed())
		Expect(ping(b, netip.MustParseAddr("10.2.0.5"), replyWithin)).To(Succeed())
	})
})
