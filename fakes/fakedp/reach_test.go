package fakedp_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// reachWorld is two hosts, a and b, each a fake with the contract's NICs.
type reachWorld struct {
	hosts []fakedp.Host
}

func newReachWorld() *reachWorld {
	return &reachWorld{hosts: []fakedp.Host{
		{Name: "a", VTEP: netip.MustParseAddr("192.0.2.1"), DP: node()},
		{Name: "b", VTEP: netip.MustParseAddr("192.0.2.2"), DP: node()},
	}}
}

// attach builds a pod with links on host i and returns its namespace. Overlay links are planned
// with the other host's VTEP as their peer, as the agent plans them.
func (w *reachWorld) attach(t *testing.T, i int, cid string, links ...plan.Link) string {
	t.Helper()
	h := w.hosts[i]
	for k := range links {
		if vx := links[k].VXLAN; vx != nil {
			c := *vx
			c.Local, c.Peers = h.VTEP, []netip.Addr{w.hosts[1-i].VTEP}
			links[k].VXLAN = &c
		}
	}
	ns := h.DP.NewNetns()
	if err := h.DP.Attach(ctx, dataplanetest.Pod(cid, ns, links...)); err != nil {
		t.Fatalf("attach %s on %s: %v", cid, h.Name, err)
	}
	return ns
}

func (w *reachWorld) reach(from, netns, dst string) error {
	return fakedp.Reach(w.hosts, from, netns, netip.MustParseAddr(dst))
}

func expectReach(t *testing.T, w *reachWorld, from, netns, dst string) {
	t.Helper()
	if err := w.reach(from, netns, dst); err != nil {
		t.Fatalf("%s on %s should reach %s: %v", netns, from, dst, err)
	}
}

func expectNoReach(t *testing.T, w *reachWorld, from, netns, dst, why string) {
	t.Helper()
	err := w.reach(from, netns, dst)
	if err == nil {
		t.Fatalf("%s on %s reaches %s, which it must not", netns, from, dst)
	}
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("%s on %s to %s: %v; want it to say %q", netns, from, dst, err, why)
	}
}

func TestReachOverlayAcrossHosts(t *testing.T) {
	w := newReachWorld()
	a := w.attach(t, 0, "ca", dataplanetest.Overlay("ca", "eth0", 4096, "10.1.0.5/24", "fd00:1::5/64"))
	b := w.attach(t, 1, "cb", dataplanetest.Overlay("cb", "eth0", 4096, "10.1.0.6/24", "fd00:1::6/64"))
	expectReach(t, w, "a", a, "10.1.0.6")
	expectReach(t, w, "a", a, "fd00:1::6")
	expectReach(t, w, "b", b, "10.1.0.5")
	if ep, err := fakedp.ReachWho(w.hosts, "a", a, netip.MustParseAddr("10.1.0.6")); err != nil || ep != (fakedp.Endpoint{Host: "b", Netns: b, Interface: "eth0"}) {
		t.Fatalf("who answers a's echo to 10.1.0.6: %+v %v; want b's eth0", ep, err)
	}
	expectNoReach(t, w, "a", a, "10.1.0.7", "no interface that is up holds 10.1.0.7")
	expectNoReach(t, w, "a", a, "10.9.0.1", "on-link")
}

// A VNI mix-up: b's pod is plumbed into VNI 4097 while a's is in 4096, with one subnet. The
// control pair over the same hosts reaches, so the failure is the VNI's.
func TestReachWrongVNIIsNoReach(t *testing.T) {
	w := newReachWorld()
	a := w.attach(t, 0, "ca", dataplanetest.Overlay("ca", "eth0", 4096, "10.1.0.5/24"))
	w.attach(t, 1, "cb", dataplanetest.Overlay("cb", "eth0", 4097, "10.1.0.6/24")) // planted: wrong VNI
	w.attach(t, 1, "cc", dataplanetest.Overlay("cc", "eth0", 4096, "10.1.0.7/24")) // the control
	expectReach(t, w, "a", a, "10.1.0.7")
	expectNoReach(t, w, "a", a, "10.1.0.6", "overlay VNI 4097, another segment than overlay VNI 4096")
}

// Without the flood entry to the other host (peers not programmed yet), the overlay does not reach
// across hosts, in either direction.
func TestReachOverlayNeedsFloodEntries(t *testing.T) {
	w := newReachWorld()
	a := w.attach(t, 0, "ca", dataplanetest.Overlay("ca", "eth0", 4096, "10.1.0.5/24"))
	b := w.attach(t, 1, "cb", dataplanetest.Overlay("cb", "eth0", 4096, "10.1.0.6/24"))
	vx := plan.VXLAN{Name: "knvx-4096", VNI: 4096}
	if err := w.hosts[1].DP.SyncPeers(ctx, vx); err != nil { // b floods to nobody
		t.Fatal(err)
	}
	expectNoReach(t, w, "b", b, "10.1.0.5", "does not flood to a's VTEP")
	expectNoReach(t, w, "a", a, "10.1.0.6", "the answer cannot come back")
}

// A VLAN mix-up: two pods on one trunk and subnet, VLAN 100 and 200, do not reach each other, on
// one host or across hosts; pods of one VLAN do.
func TestReachWrongVLANIsNoReach(t *testing.T) {
	w := newReachWorld()
	a := w.attach(t, 0, "ca", dataplanetest.VLAN("ca", "net1", 100, "10.40.0.10/24"))
	w.attach(t, 0, "cx", dataplanetest.VLAN("cx", "net1", 200, "10.40.0.20/24"))
	w.attach(t, 1, "cb", dataplanetest.VLAN("cb", "net1", 100, "10.40.0.11/24"))
	w.attach(t, 1, "cy", dataplanetest.VLAN("cy", "net1", 200, "10.40.0.21/24")) // planted: another VLAN
	expectReach(t, w, "a", a, "10.40.0.11")
	expectNoReach(t, w, "a", a, "10.40.0.21", "VLAN 200 on trunk kn-trunk0, another segment than VLAN 100")
	expectNoReach(t, w, "a", a, "10.40.0.20", "VLAN 200")
	// Retagged to VLAN 100, cy is on a's segment.
	if !w.hosts[1].DP.SetVLAN(plan.HostIfName("cy", "net1"), 100) {
		t.Fatal("no vlan port of cy")
	}
	expectReach(t, w, "a", a, "10.40.0.21")
}

func TestReachMacvlanAndDownLinks(t *testing.T) {
	w := newReachWorld()
	a := w.attach(t, 0, "ca", dataplanetest.MACVLAN("ca", "net1", "10.30.0.5/24"))
	w.attach(t, 1, "cb", dataplanetest.MACVLAN("cb", "net1", "10.30.0.6/24"))
	expectReach(t, w, "a", a, "10.30.0.6")
	// Another parent is another wire.
	w.hosts[1].DP.AddNIC("eth9", 1500)
	l := dataplanetest.MACVLAN("cc", "net1", "10.30.0.7/24")
	l.Uplink = "eth9"
	w.attach(t, 1, "cc", l)
	expectNoReach(t, w, "a", a, "10.30.0.7", "macvlan on eth9, another segment")
	// A host whose parent NIC is down is cut off.
	if !w.hosts[1].DP.SetUp("", dataplanetest.Parent, false) {
		t.Fatal("no parent NIC to take down")
	}
	expectNoReach(t, w, "a", a, "10.30.0.6", "NIC kn-mvl0 is down")
}

func TestReachOffLinkNeedsARouter(t *testing.T) {
	w := newReachWorld()
	l := dataplanetest.Overlay("ca", "eth0", 4096, "10.1.0.5/24")
	l.Routes = []plan.Route{dataplanetest.Route("0.0.0.0/0", "10.1.0.1")}
	a := w.attach(t, 0, "ca", l)
	w.attach(t, 1, "cb", dataplanetest.Overlay("cb", "eth0", 4097, "10.2.0.6/24"))
	expectNoReach(t, w, "a", a, "10.2.0.6", "via gateway 10.1.0.1")
}
