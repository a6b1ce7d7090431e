package dataplanetest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// Run runs the contract: each case gets a fresh node from newNode.
func Run(t *testing.T, newNode func(t *testing.T) Node, f Features) {
	cases := []struct {
		name string
		run  func(t *testing.T, n Node)
	}{
		{"overlay builds node plumbing and the pod's veth", overlayBuilds},
		{"attach twice is a no-op", attachTwice},
		{"detach removes the pod's links and keeps node plumbing", detachRemoves},
		{"detach after the netns is gone", detachNetnsGone},
		{"detach of a pod never attached", detachNeverAttached},
		{"two pods share plumbing and detach apart", twoPodsShare},
		{"macvlan", macvlanBuilds},
		{"missing uplink fails cleanly", missingUplink},
		{"vlan pods of two VLANs share the trunk", vlanBuilds},
		{"vlan link without a VLAN id fails cleanly", vlanWithoutID},
		{"multi-link pod with one default route", multiLink},
		{"failure mid-attach rolls back this pod's links", failureRollsBack},
		{"failed re-attach keeps the links of the first", failedReattachKeeps},
		{"refused MTU rolls back", refusedMTU},
		{"interface name taken in the pod", nameTaken},
		{"check reports each difference", checkDiffers},
		{"node plumbing conflicts fail cleanly", plumbingConflicts},
		{"sync peers replaces the flood list exactly", syncPeers},
		{"attach to a missing netns", missingNetns},
		{"check netns refuses the node's and other types", checkNetns},
		{"attach refuses the node's namespace by itself", attachNodeNetns},
		{"detach from a namespace that cannot be entered cleans the node side", detachUnenterable},
		{"canceled context", canceled},
	}
	if f.SRIOV {
		cases = append(cases, struct {
			name string
			run  func(t *testing.T, n Node)
		}{"sriov takes, exhausts and gives back VFs", sriovVFs})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newNode(t)) })
	}
}

var ctx = context.Background()

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// failsWith asserts err is an error of code (any when "") whose text contains every part.
func failsWith(t testing.TB, err error, code model.Code, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want an error containing %q", parts)
	}
	if code != "" && model.CodeOf(err) != code {
		t.Fatalf("error %q has code %q, want %q", err, model.CodeOf(err), code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func has(names []string, name string) bool { return slices.Contains(names, name) }

func overlayBuilds(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := Overlay("c1", "eth0", 101, "10.1.0.5/24", "fd01::5/64")
	l.Routes = []plan.Route{Route("0.0.0.0/0", "10.1.0.1"), Route("::/0", "fd01::1")}
	pod := Pod("c1", ns, l)
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	must(t, dp.Check(ctx, pod), "Check")
	equal(t, "pod links", n.Links(t, ns), []string{"eth0"})
	node := n.Links(t, "")
	for _, name := range []string{"knbr-101", "knvx-101", l.HostIf} {
		if !has(node, name) {
			t.Fatalf("node links %v lack %s", node, name)
		}
	}
	if m := n.Master(t, l.HostIf); m != "knbr-101" {
		t.Fatalf("%s is on %q, want knbr-101", l.HostIf, m)
	}
	if m := n.Master(t, "knvx-101"); m != "knbr-101" {
		t.Fatalf("knvx-101 is on %q, want knbr-101", m)
	}
	equal(t, "FDB", n.FDB(t, "knvx-101"), Peers)
}

func attachTwice(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	pod := Pod("c1", ns, Overlay("c1", "eth0", 101, "10.1.0.5/24"), MACVLAN("c1", "net1", "10.2.0.5/24"))
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	nodeBefore, podBefore := n.Links(t, ""), n.Links(t, ns)
	must(t, dp.Attach(ctx, pod), "second Attach")
	must(t, dp.Check(ctx, pod), "Check")
	equal(t, "node links after the second Attach", n.Links(t, ""), nodeBefore)
	equal(t, "pod links after the second Attach", n.Links(t, ns), podBefore)
}

func detachRemoves(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := Overlay("c1", "eth0", 101, "10.1.0.5/24")
	pod := Pod("c1", ns, l, MACVLAN("c1", "net1", "10.2.0.5/24"))
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	must(t, dp.Detach(ctx, pod), "Detach")
	equal(t, "pod links", n.Links(t, ns), nil)
	node := n.Links(t, "")
	if has(node, l.HostIf) {
		t.Fatalf("node end %s left behind", l.HostIf)
	}
	if !has(node, "knbr-101") || !has(node, "knvx-101") {
		t.Fatalf("Detach removed shared plumbing: %v", node)
	}
	must(t, dp.Detach(ctx, pod), "second Detach")
	failsWith(t, dp.Check(ctx, pod), model.CodeNotFound, "eth0")
}

func detachNetnsGone(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := Overlay("c1", "eth0", 101, "10.1.0.5/24")
	pod := Pod("c1", ns, l, MACVLAN("c1", "net1", "10.2.0.5/24"))
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	n.DeleteNetns(t, ns)
	must(t, dp.Detach(ctx, pod), "Detach after the netns is gone")
	if has(n.Links(t, ""), l.HostIf) {
		t.Fatalf("node end %s left behind", l.HostIf)
	}
	failsWith(t, dp.Check(ctx, pod), model.CodeNotFound, "netns")
	must(t, dp.Detach(ctx, pod), "second Detach")
}

func detachNeverAttached(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	pod := Pod("c1", ns, Overlay("c1", "eth0", 101, "10.1.0.5/24"), MACVLAN("c1", "net1"), VLAN("c1", "net2", 100))
	must(t, n.Dataplane().Detach(ctx, pod), "Detach")
	must(t, n.Dataplane().Detach(ctx, Pod("c1", "/var/run/netns/knitter-contract-missing", pod.Links...)), "Detach in a missing netns")
}

func twoPodsShare(t *testing.T, n Node) {
	nsA, nsB := n.NewNetns(t), n.NewNetns(t)
	a := Pod("a", nsA, Overlay("a", "eth0", 101, "10.1.0.5/24"))
	b := Pod("b", nsB, Overlay("b", "eth0", 101, "10.1.0.6/24"))
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, a), "Attach a")
	must(t, dp.Attach(ctx, b), "Attach b")
	must(t, dp.Detach(ctx, a), "Detach a")
	must(t, dp.Check(ctx, b), "Check b after a left")
	if m := n.Master(t, b.Links[0].HostIf); m != "knbr-101" {
		t.Fatalf("b's node end is on %q", m)
	}
}

func macvlanBuilds(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := MACVLAN("c1", "net1", "10.2.0.5/24", "fd02::5/64")
	l.Routes = []plan.Route{Route("10.20.0.0/16", "10.2.0.1"), Route("10.30.0.0/16", "")}
	pod := Pod("c1", ns, l)
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	must(t, dp.Check(ctx, pod), "Check")
	equal(t, "pod links", n.Links(t, ns), []string{"net1"})
	if has(n.Links(t, ""), "net1") {
		t.Fatal("the macvlan is on the node")
	}
	must(t, dp.Detach(ctx, pod), "Detach")
	equal(t, "pod links after Detach", n.Links(t, ns), nil)
}

func missingUplink(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := MACVLAN("c1", "net1", "10.2.0.5/24")
	l.Uplink = "kn-nope"
	v := VLAN("c1", "net2", 100)
	v.Uplink = "kn-nope"
	dp := n.Dataplane()
	failsWith(t, dp.Attach(ctx, Pod("c1", ns, Overlay("c1", "eth0", 101), l)), model.CodeNotFound, "macvlan link net1", "kn-nope")
	failsWith(t, dp.Attach(ctx, Pod("c1", ns, Overlay("c1", "eth0", 101), v)), model.CodeNotFound, "vlan link net2", "kn-nope")
	equal(t, "pod links", n.Links(t, ns), nil)
	if has(n.Links(t, ""), plan.HostIfName("c1", "eth0")) {
		t.Fatal("the first link's node end is left behind")
	}
}

func vlanBuilds(t *testing.T, n Node) {
	nodeBefore := n.Links(t, "")
	nsA, nsB, nsC := n.NewNetns(t), n.NewNetns(t), n.NewNetns(t)
	a := Pod("a", nsA, VLAN("a", "net1", 100, "10.3.0.5/24", "fd03::5/64"))
	b := Pod("b", nsB, VLAN("b", "net1", 100, "10.3.0.6/24"))
	c := Pod("c", nsC, Overlay("c", "eth0", 101, "10.1.0.7/24"), VLAN("c", "net1", 200, "10.3.0.7/24"))
	dp := n.Dataplane()
	for _, p := range []plan.Pod{a, b, c} {
		must(t, dp.Attach(ctx, p), "Attach "+p.ContainerID)
	}
	must(t, dp.Attach(ctx, a), "second Attach of a")
	for _, p := range []plan.Pod{a, b, c} {
		must(t, dp.Check(ctx, p), "Check "+p.ContainerID)
	}
	hostA, hostB, hostC := a.Links[0].HostIf, b.Links[0].HostIf, c.Links[1].HostIf
	equal(t, "VLAN ports", n.VLANPorts(t, Trunk), sortedStrings(hostA+"/100", hostB+"/100", hostC+"/200"))
	// No bridge: the trunk and the veths stay on their own.
	for _, name := range []string{Trunk, hostA, hostC} {
		if m := n.Master(t, name); m != "" {
			t.Fatalf("%s is a port of %q, want no bridge", name, m)
		}
	}
	// Check tells the plan's VLAN from another.
	other := clonePod(a)
	other.Links[0].VLAN = 300
	failsWith(t, dp.Check(ctx, other), model.CodeConflict, "links[0]")
	must(t, dp.Detach(ctx, a), "Detach a")
	must(t, dp.Check(ctx, b), "Check b after a left its VLAN")
	failsWith(t, dp.Check(ctx, a), model.CodeNotFound, "net1")
	equal(t, "VLAN ports after a left", n.VLANPorts(t, Trunk), sortedStrings(hostB+"/100", hostC+"/200"))
	// A pod whose namespace died first: its veth went with it, and Detach still clears its port.
	n.DeleteNetns(t, nsC)
	must(t, dp.Detach(ctx, c), "Detach c after its netns is gone")
	equal(t, "VLAN ports after c left", n.VLANPorts(t, Trunk), []string{hostB + "/100"})
	must(t, dp.Detach(ctx, b), "Detach b")
	must(t, dp.Detach(ctx, b), "second Detach of b")
	equal(t, "VLAN ports after the last pod left", n.VLANPorts(t, Trunk), nil)
	for _, name := range []string{hostA, hostB, hostC} {
		if has(n.Links(t, ""), name) {
			t.Fatalf("node end %s left behind", name)
		}
	}
	for _, name := range nodeBefore {
		if !has(n.Links(t, ""), name) {
			t.Fatalf("%s is gone from the node", name)
		}
	}
}

func vlanWithoutID(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := VLAN("c1", "net1", 0, "10.3.0.5/24")
	dp := n.Dataplane()
	failsWith(t, dp.Attach(ctx, Pod("c1", ns, Overlay("c1", "eth0", 101), l)), model.CodeInvalid, "vlan link net1", "vlan")
	equal(t, "pod links", n.Links(t, ns), nil)
	for _, name := range []string{l.HostIf, plan.HostIfName("c1", "eth0")} {
		if has(n.Links(t, ""), name) {
			t.Fatalf("node end %s left behind", name)
		}
	}
	equal(t, "VLAN ports", n.VLANPorts(t, Trunk), nil)
}

func sortedStrings(s ...string) []string {
	slices.Sort(s)
	return s
}

func multiLink(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	eth0 := Overlay("c1", "eth0", 101, "10.1.0.5/24", "fd01::5/64")
	eth0.Routes = []plan.Route{Route("0.0.0.0/0", "10.1.0.1"), Route("::/0", "fd01::1")}
	net1 := MACVLAN("c1", "net1", "10.2.0.5/24")
	net1.Routes = []plan.Route{Route("10.20.0.0/16", "10.2.0.1")}
	net2 := Overlay("c1", "net2", 102, "10.4.0.5/24")
	pod := Pod("c1", ns, eth0, net1, net2)
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	must(t, dp.Check(ctx, pod), "Check")
	equal(t, "pod links", n.Links(t, ns), []string{"eth0", "net1", "net2"})
	// The default route is eth0's alone: net1 with one fails Check.
	wrong := clonePod(pod)
	wrong.Links[1].Routes = append(wrong.Links[1].Routes, Route("0.0.0.0/0", "10.2.0.1"))
	failsWith(t, dp.Check(ctx, wrong), model.CodeConflict, "net1", "0.0.0.0/0")
}

// unreachable is a route the kernel refuses: its gateway is on none of the link's subnets.
var unreachable = Route("10.50.0.0/16", "10.99.0.1")

func failureRollsBack(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	eth0 := Overlay("c1", "eth0", 101, "10.1.0.5/24")
	net1 := MACVLAN("c1", "net1", "10.2.0.5/24")
	net2 := Overlay("c1", "net2", 102, "10.4.0.5/24")
	net2.Routes = []plan.Route{unreachable}
	dp := n.Dataplane()
	failsWith(t, dp.Attach(ctx, Pod("c1", ns, eth0, net1, net2)), "", "overlay link net2", "10.50.0.0/16")
	equal(t, "pod links", n.Links(t, ns), nil)
	node := n.Links(t, "")
	for _, name := range []string{eth0.HostIf, net2.HostIf} {
		if has(node, name) {
			t.Fatalf("node end %s left behind", name)
		}
	}
}

func failedReattachKeeps(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	pod := Pod("c1", ns, Overlay("c1", "eth0", 101, "10.1.0.5/24"))
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	bad := MACVLAN("c1", "net1", "10.2.0.5/24")
	bad.Routes = []plan.Route{unreachable}
	more := clonePod(pod)
	more.Links = append(more.Links, bad)
	failsWith(t, dp.Attach(ctx, more), "", "macvlan link net1")
	must(t, dp.Check(ctx, pod), "Check of the first Attach")
	equal(t, "pod links", n.Links(t, ns), []string{"eth0"})
}

func refusedMTU(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	big := MACVLAN("c1", "net1", "10.2.0.5/24")
	big.MTU = 9000 // above its parent's 1500
	dp := n.Dataplane()
	failsWith(t, dp.Attach(ctx, Pod("c1", ns, Overlay("c1", "eth0", 101, "10.1.0.5/24"), big)), "", "macvlan link net1")
	equal(t, "pod links", n.Links(t, ns), nil)
	if has(n.Links(t, ""), plan.HostIfName("c1", "eth0")) {
		t.Fatal("eth0's node end left behind")
	}
}

func nameTaken(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	dp := n.Dataplane()
	first := Pod("a", ns, MACVLAN("a", "net1", "10.2.0.5/24"))
	must(t, dp.Attach(ctx, first), "Attach")
	// Another attachment (another container id) wants net1 in the same namespace.
	other := Pod("b", ns, Overlay("b", "net1", 101, "10.1.0.5/24"))
	failsWith(t, dp.Attach(ctx, other), model.CodeConflict, "net1")
	other = Pod("b", ns, MACVLAN("b", "net1", "10.2.0.6/24"))
	other.Links[0].Uplink = Underlay // a macvlan, but of another parent
	failsWith(t, dp.Attach(ctx, other), model.CodeConflict, "net1")
	must(t, dp.Check(ctx, first), "Check of the pod that owns net1")
}

func checkDiffers(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := Overlay("c1", "eth0", 101, "10.1.0.5/24")
	l.Routes = []plan.Route{Route("0.0.0.0/0", "10.1.0.1")}
	pod := Pod("c1", ns, l)
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, pod), "Attach")
	edits := []struct {
		name  string
		edit  func(l *plan.Link)
		code  model.Code
		parts []string
	}{
		{"mac", func(l *plan.Link) { l.MAC[5]++ }, model.CodeConflict, []string{"links[0].mac"}},
		{"mtu", func(l *plan.Link) { l.MTU = 1400 }, model.CodeConflict, []string{"links[0].mtu", "1400"}},
		{"address", func(l *plan.Link) { l.Addrs = append(l.Addrs, netip.MustParsePrefix("10.1.0.6/24")) }, model.CodeConflict, []string{"10.1.0.6/24"}},
		{"route", func(l *plan.Link) { l.Routes = append(l.Routes, Route("10.9.0.0/16", "10.1.0.1")) }, model.CodeConflict, []string{"10.9.0.0/16"}},
		{"interface", func(l *plan.Link) { l.PodIf = "eth9" }, model.CodeNotFound, []string{"eth9"}},
		{"bridge", func(l *plan.Link) { l.Bridge = "knbr-999" }, "", []string{"knbr-999"}},
	}
	for _, e := range edits {
		changed := clonePod(pod)
		e.edit(&changed.Links[0])
		err := dp.Check(ctx, changed)
		if err == nil {
			t.Fatalf("Check with another %s succeeded", e.name)
		}
		failsWith(t, err, e.code, e.parts...)
	}
	extra := clonePod(pod)
	extra.Links = append(extra.Links, MACVLAN("c1", "net1"))
	failsWith(t, dp.Check(ctx, extra), model.CodeNotFound, "links[1]", "net1")
}

func plumbingConflicts(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, Pod("a", ns, Overlay("a", "eth0", 101, "10.1.0.5/24"))), "Attach")
	nsB := n.NewNetns(t)
	cases := []struct {
		name  string
		link  plan.Link
		code  model.Code
		parts []string
	}{
		{"bridge name taken by a vxlan", func() plan.Link {
			l := Overlay("b", "eth0", 102, "10.4.0.5/24")
			l.Bridge = "knvx-101"
			return l
		}(), model.CodeConflict, []string{"knvx-101", "not a bridge"}},
		{"vxlan name of another VNI", func() plan.Link {
			l := Overlay("b", "eth0", 102, "10.4.0.5/24")
			l.VXLAN.Name = "knvx-101"
			return l
		}(), model.CodeConflict, []string{"knvx-101", "VNI 102"}},
		{"missing VTEP device", func() plan.Link {
			l := Overlay("b", "eth0", 103, "10.4.0.5/24")
			l.VXLAN.Device = "kn-nope"
			return l
		}(), model.CodeNotFound, []string{"kn-nope"}},
		{"empty uplink", func() plan.Link { l := MACVLAN("b", "net1"); l.Uplink = ""; return l }(), model.CodeInvalid, []string{"uplink"}},
		{"incomplete overlay plan", func() plan.Link { l := Overlay("b", "eth0", 104); l.VXLAN = nil; return l }(), model.CodeInvalid, []string{"vxlan"}},
		{"unknown type", func() plan.Link { l := MACVLAN("b", "net1"); l.Type = "token-ring"; return l }(), model.CodeInvalid, []string{"token-ring"}},
	}
	for _, c := range cases {
		failsWith(t, dp.Attach(ctx, Pod("b", nsB, c.link)), c.code, c.parts...)
		equal(t, c.name+": pod links", n.Links(t, nsB), nil)
		if has(n.Links(t, ""), c.link.HostIf) && c.link.HostIf != "" {
			t.Fatalf("%s: node end left behind", c.name)
		}
	}
	must(t, dp.Check(ctx, Pod("a", ns, Overlay("a", "eth0", 101, "10.1.0.5/24"))), "Check of the first pod")
}

func syncPeers(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	l := Overlay("c1", "eth0", 101, "10.1.0.5/24")
	dp := n.Dataplane()
	must(t, dp.Attach(ctx, Pod("c1", ns, l)), "Attach")
	vx := *l.VXLAN
	vx.Peers = []netip.Addr{netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.4")}
	must(t, dp.SyncPeers(ctx, vx), "SyncPeers")
	equal(t, "FDB", n.FDB(t, "knvx-101"), vx.Peers)
	must(t, dp.SyncPeers(ctx, vx), "SyncPeers again")
	equal(t, "FDB", n.FDB(t, "knvx-101"), vx.Peers)
	vx.Peers = nil
	must(t, dp.SyncPeers(ctx, vx), "SyncPeers to none")
	equal(t, "FDB", n.FDB(t, "knvx-101"), nil)
	// Attach adds the plan's peers and removes none.
	must(t, dp.SyncPeers(ctx, plan.VXLAN{Name: "knvx-101", VNI: 101, Peers: []netip.Addr{netip.MustParseAddr("192.0.2.9")}}), "SyncPeers")
	must(t, dp.Attach(ctx, Pod("c1", ns, l)), "Attach again")
	equal(t, "FDB after Attach", n.FDB(t, "knvx-101"), append(slices.Clone(Peers), netip.MustParseAddr("192.0.2.9")))
	must(t, dp.SyncPeers(ctx, plan.VXLAN{Name: "knvx-777", VNI: 777, Peers: Peers}), "SyncPeers of a VNI without pods here")
	if has(n.Links(t, ""), "knvx-777") {
		t.Fatal("SyncPeers created a VXLAN device")
	}
}

func missingNetns(t *testing.T, n Node) {
	pod := Pod("c1", "/var/run/netns/knitter-contract-missing", Overlay("c1", "eth0", 101, "10.1.0.5/24"))
	failsWith(t, n.Dataplane().Attach(ctx, pod), model.CodeNotFound, "knitter-contract-missing")
	failsWith(t, n.Dataplane().Check(ctx, pod), model.CodeNotFound, "knitter-contract-missing")
	if has(n.Links(t, ""), pod.Links[0].HostIf) {
		t.Fatal("node end created for a missing netns")
	}
}

func canceled(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	err := n.Dataplane().Attach(c, Pod("c1", ns, Overlay("c1", "eth0", 101, "10.1.0.5/24")))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Attach with a canceled context = %v", err)
	}
	equal(t, "pod links", n.Links(t, ns), nil)
}

func sriovVFs(t *testing.T, n Node) {
	dp := n.Dataplane()
	nodeBefore := n.Links(t, "")
	nsA, nsB, nsC := n.NewNetns(t), n.NewNetns(t), n.NewNetns(t)
	a := Pod("a", nsA, SRIOV("a", "net1", 0, "10.6.0.5/24"))
	b := Pod("b", nsB, SRIOV("b", "net1", 30, "10.6.0.6/24"))
	c := Pod("c", nsC, Overlay("c", "eth0", 101, "10.1.0.7/24"), SRIOV("c", "net1", 0, "10.6.0.7/24"))
	must(t, dp.Attach(ctx, a), "Attach a")
	must(t, dp.Attach(ctx, a), "Attach a again")
	must(t, dp.Attach(ctx, b), "Attach b")
	must(t, dp.Check(ctx, a), "Check a")
	must(t, dp.Check(ctx, b), "Check b")
	equal(t, "a's links", n.Links(t, nsA), []string{"net1"})
	if got := len(n.Links(t, "")); got != len(nodeBefore)-VFs {
		t.Fatalf("node has %d links with both VFs in pods, want %d", got, len(nodeBefore)-VFs)
	}
	failsWith(t, dp.Attach(ctx, c), model.CodeExhausted, "sriov link net1", PF)
	equal(t, "c's links after a failed Attach", n.Links(t, nsC), nil)
	must(t, dp.Detach(ctx, a), "Detach a")
	must(t, dp.Detach(ctx, a), "Detach a again")
	equal(t, "a's links after Detach", n.Links(t, nsA), nil)
	must(t, dp.Attach(ctx, c), "Attach c with a's VF")
	must(t, dp.Check(ctx, c), "Check c")
	must(t, dp.Detach(ctx, c), "Detach c")
	must(t, dp.Detach(ctx, b), "Detach b")
	node := n.Links(t, "")
	for _, name := range nodeBefore {
		if !has(node, name) {
			t.Fatalf("%s is not back on the node after every Detach: %v", name, node)
		}
	}
}

func clonePod(p plan.Pod) plan.Pod {
	c := p
	c.Links = make([]plan.Link, len(p.Links))
	for i, l := range p.Links {
		l.Addrs = slices.Clone(l.Addrs)
		l.Routes = slices.Clone(l.Routes)
		c.Links[i] = l
	}
	return c
}

func checkNetns(t *testing.T, n Node) {
	dp := n.Dataplane()
	must(t, dp.CheckNetns(ctx, n.NewNetns(t)), "CheckNetns of a pod namespace")
	failsWith(t, dp.CheckNetns(ctx, n.NodeNetns(t)), model.CodeInvalid, "node's own network namespace")
	failsWith(t, dp.CheckNetns(ctx, n.ForeignNamespace(t)), model.CodeInvalid, "not a network namespace")
	failsWith(t, dp.CheckNetns(ctx, "/var/run/netns/knitter-contract-missing"), model.CodeNotFound, "does not exist")
}

// attachNodeNetns: Attach refuses the node's namespace on its own, without CheckNetns before it (a
// path checked at ADD may name another namespace by the time the links are built).
func attachNodeNetns(t *testing.T, n Node) {
	before := n.Links(t, "")
	pod := Pod("c1", n.NodeNetns(t), Overlay("c1", "eth0", 100, "10.1.0.5/24"))
	failsWith(t, n.Dataplane().Attach(ctx, pod), model.CodeInvalid, "node's own network namespace")
	if after := n.Links(t, ""); !slices.Equal(after, before) {
		t.Fatalf("node links %v after the refused Attach, want %v", after, before)
	}
}

func detachUnenterable(t *testing.T, n Node) {
	ns := n.NewNetns(t)
	dp := n.Dataplane()
	pod := Pod("c1", ns, Overlay("c1", "eth0", 100, "10.1.0.5/24"))
	must(t, dp.Attach(ctx, pod), "Attach")
	if host := pod.Links[0].HostIf; !slices.Contains(n.Links(t, ""), host) {
		t.Fatalf("no node end %s after Attach: %v", host, n.Links(t, ""))
	}
	// The checkpoint names a namespace that cannot be entered (another type): DEL still finishes.
	gone := pod
	gone.Netns = n.ForeignNamespace(t)
	must(t, dp.Detach(ctx, gone), "Detach in a namespace that cannot be entered")
	if host := pod.Links[0].HostIf; slices.Contains(n.Links(t, ""), host) {
		t.Fatalf("Detach left the node end %s", host)
	}
}
