package netlinkdp_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/adapters/vlanbpf/vlanbpftest"
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
		t.dp[i], err = netlinkdp.New(netlinkdp.Options{HostNetns: t.path[i], VLANPinDir: pinDir})
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

	It("carries VLANs 100 and 200 on one trunk: same VLAN reaches, other VLAN does not, tagged on the wire", func() {
		// Every pod is in 10.3.0.0/24 and fd03::/64: only the VLAN keeps them apart.
		a := t.pod(0, "a", vlanL("a", "net1", 100, "10.3.0.5/24", "fd03::5/64"))
		t.pod(0, "a2", vlanL("a2", "net1", 100, "10.3.0.8/24"))
		x := t.pod(0, "x", vlanL("x", "net1", 200, "10.3.0.9/24", "fd03::9/64"))
		t.pod(1, "b", vlanL("b", "net1", 100, "10.3.0.6/24", "fd03::6/64"))
		t.pod(1, "b2", vlanL("b2", "net1", 100, "10.3.0.10/24"))
		t.pod(1, "c", vlanL("c", "net1", 200, "10.3.0.7/24", "fd03::7/64"))
		capture, err := vlanbpftest.Start(t.path[1], dataplanetest.Trunk)
		Expect(err).NotTo(HaveOccurred())
		defer capture.Close()

		for _, dst := range []string{"10.3.0.6", "10.3.0.10", "fd03::6", "10.3.0.8"} {
			Expect(ping(a, netip.MustParseAddr(dst), replyWithin)).To(Succeed(), "VLAN 100 to %s", dst)
		}
		// The control: VLAN 200 works too, so what fails below fails for the VLAN alone.
		Expect(ping(x, netip.MustParseAddr("10.3.0.7"), replyWithin)).To(Succeed())
		Expect(ping(x, netip.MustParseAddr("fd03::7"), replyWithin)).To(Succeed())
		for _, dst := range []string{"10.3.0.7", "10.3.0.9", "fd03::7"} {
			Expect(ping(a, netip.MustParseAddr(dst), silentFor)).NotTo(Succeed(), "VLAN 100 reached VLAN 200's %s", dst)
		}
		// Even knowing the other VLAN's MAC (a static neighbour entry) does not cross over.
		Expect(staticNeighbour(a, "net1", netip.MustParseAddr("10.3.0.7"), mac(vlanL("c", "net1", 200).MAC))).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.3.0.7"), silentFor)).NotTo(Succeed())

		frames, err := capture.Frames()
		Expect(err).NotTo(HaveOccurred())
		a2MAC := mac(vlanL("a2", "net1", 100).MAC).String()
		vids := map[string]map[uint16]bool{}
		for _, f := range frames {
			if f.Outgoing || f.Src[0] != 0x02 || f.Src[1] != 0x4b {
				continue // not from a pod: the trunk's own IPv6 chatter is untagged, as it should be
			}
			// a and a2 on one node talk without the trunk: no unicast of theirs is on it (their
			// broadcasts and multicasts are, for the VLAN's pods on other nodes).
			Expect(f.Dst.String()).NotTo(Equal(a2MAC), "unicast to a2 on the trunk")
			if f.Src.String() == a2MAC {
				Expect(f.Dst[0]&1).To(Equal(byte(1)), "unicast from a2 on the trunk to %s", f.Dst)
			}
			if vids[f.Src.String()] == nil {
				vids[f.Src.String()] = map[uint16]bool{}
			}
			Expect(f.Tagged).To(BeTrue(), "untagged frame on the trunk from %s", f.Src)
			vids[f.Src.String()][f.VLAN] = true
		}
		Expect(vids).To(HaveKeyWithValue(mac(vlanL("a", "net1", 100).MAC).String(), map[uint16]bool{100: true}))
		Expect(vids).To(HaveKeyWithValue(mac(vlanL("x", "net1", 200).MAC).String(), map[uint16]bool{200: true}))
	})

	It("drops frames a pod tags itself: a VLAN 100 pod's own 802.1Q and 802.1ad tags never reach the trunk", func() {
		la := vlanL("a", "net1", 100, "10.3.0.5/24")
		a := t.pod(0, "a", la)
		lc := vlanL("c", "net1", 200, "10.3.0.7/24")
		t.pod(1, "c", lc)
		capture, err := vlanbpftest.Start(t.path[1], dataplanetest.Trunk)
		Expect(err).NotTo(HaveOccurred())
		defer capture.Close()

		// a tries to hop onto VLAN 200 (and to stack a tag on its own) with raw frames to c's MAC;
		// then sends an untagged frame of the same kind to another MAC: the control, which the port
		// program tags with VLAN 100 and sends out of the trunk, so the capture is known to see a's
		// frames when it sees none of the tagged ones.
		const etherType = 0x88b5 // IEEE local experimental
		aMAC, cMAC := mac(la.MAC), mac(lc.MAC)
		control := net.HardwareAddr{0x02, 0x4b, 0xee, 0xee, 0xee, 0xee}
		for _, f := range [][]byte{
			rawFrame(cMAC, aMAC, etherType, 0x8100, 200),
			rawFrame(cMAC, aMAC, etherType, 0x8100, 100),
			rawFrame(cMAC, aMAC, etherType, 0x88a8, 200),
			rawFrame(cMAC, aMAC, etherType, 0x88a8, 200, 0x8100, 200),
		} {
			Expect(vlanbpftest.Send(a, "net1", f)).To(Succeed())
		}
		Expect(vlanbpftest.Send(a, "net1", rawFrame(control, aMAC, etherType))).To(Succeed())

		var seen []vlanbpftest.Frame
		Eventually(func() []vlanbpftest.Frame {
			frames, err := capture.Frames()
			Expect(err).NotTo(HaveOccurred())
			for _, f := range frames {
				if !f.Outgoing && f.Src.String() == aMAC.String() && f.Dst[0]&1 == 0 {
					seen = append(seen, f)
				}
			}
			return seen
		}).WithTimeout(replyWithin).Should(ContainElement(vlanbpftest.Frame{Src: aMAC, Dst: control, Tagged: true, VLAN: 100, EtherType: etherType}),
			"the control frame, tagged VLAN 100, on node 1's trunk")
		for _, f := range seen {
			Expect(f.Dst.String()).To(Equal(control.String()), "a frame a tagged itself is on the trunk: %+v", f)
		}
	})

	It("keeps same-node pods of one VLAN connected with the trunk down, and traffic up across an agent restart", func() {
		a := t.pod(0, "a", vlanL("a", "net1", 100, "10.3.0.5/24"))
		la2 := vlanL("a2", "net1", 100, "10.3.0.8/24")
		a2 := t.pod(0, "a2", la2)
		t.pod(1, "b", vlanL("b", "net1", 100, "10.3.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), replyWithin)).To(Succeed())

		// The agent stops: its handles close, the pinned programs keep forwarding.
		Expect(t.dp[0].Close()).To(Succeed())
		t.dp[0] = nil
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), replyWithin)).To(Succeed())
		restarted, err := netlinkdp.New(netlinkdp.Options{HostNetns: t.path[0], VLANPinDir: pinDir})
		Expect(err).NotTo(HaveOccurred())
		t.dp[0] = restarted
		Expect(restarted.Check(ctx, podPlan("a2", a2, la2))).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), replyWithin)).To(Succeed())

		Expect(setLinkDown(t.path[0], dataplanetest.Trunk)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.3.0.8"), replyWithin)).To(Succeed())
		Expect(ping(a, netip.MustParseAddr("10.3.0.6"), silentFor)).NotTo(Succeed())

		// Detach every pod: nothing is left on the node, in bpffs or on the trunk.
		Expect(restarted.Detach(ctx, podPlan("a2", a2, la2))).To(Succeed())
		Expect(restarted.Detach(ctx, podPlan("a", a, vlanL("a", "net1", 100)))).To(Succeed())
		Expect(vlanPorts(t.path[0], dataplanetest.Trunk)).To(BeEmpty())
		Expect(links(t.path[0])).To(ConsistOf(dataplanetest.Underlay, dataplanetest.Trunk, dataplanetest.Parent, dataplanetest.Parent+"-p"))
		Expect(nodePins(t.path[0])).To(BeEmpty(), "node 0 has no vlan pods left")
		Expect(nodePins(t.path[1])).NotTo(BeEmpty(), "node 1 still has one")
	})

	It("lets macvlan pods on the same parent reach each other", func() {
		a := t.pod(0, "a", macvlan("a", "net1", "10.2.0.5/24"))
		b := t.pod(0, "b", macvlan("b", "net1", "10.2.0.6/24"))
		Expect(ping(a, netip.MustParseAddr("10.2.0.6"), replyWithin)).To(Succeed())
		Expect(ping(b, netip.MustParseAddr("10.2.0.5"), replyWithin)).To(Succeed())
	})
})

// rawFrame builds an Ethernet frame dst <- src of etherType with a few bytes of payload, carrying
// the 802.1Q/802.1ad tags given as (TPID, TCI) pairs, outermost first, in the frame itself.
func rawFrame(dst, src net.HardwareAddr, etherType uint16, tags ...uint16) []byte {
	b := append(append([]byte{}, dst...), src...)
	for _, v := range tags {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, make([]byte, 46)...)
}
