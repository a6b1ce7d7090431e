package vlanbpf

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/link"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// testNode is a node namespace with a trunk veth and pod veths (both ends in the node: the
// lifecycle does not care where the pod end is).
type testNode struct {
	t    *testing.T
	ns   ns.NetNS
	h    *netlink.Handle
	pins string
}

func newTestNode(t *testing.T) *testNode {
	n := &testNode{t: t, ns: testNetns(t), pins: testBPFFS(t)}
	fd, err := netns.GetFromPath(n.ns.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if n.h, err = netlink.NewHandleAt(fd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.h.Close)
	n.veth("trunk0", "trunk0-p")
	return n
}

func (n *testNode) veth(a, b string) netlink.Link {
	n.t.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = a
	if err := n.h.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: b}); err != nil {
		n.t.Fatal(err)
	}
	l, err := n.h.LinkByName(a)
	if err != nil {
		n.t.Fatal(err)
	}
	return l
}

func (n *testNode) port(hostIf string, vlan uint16, mac net.HardwareAddr) Port {
	host := n.veth(hostIf, hostIf+"-p")
	trunk, err := n.h.LinkByName("trunk0")
	if err != nil {
		n.t.Fatal(err)
	}
	return Port{HostIf: hostIf, HostIndex: host.Attrs().Index, Trunk: "trunk0", TrunkIndex: trunk.Attrs().Index, VLAN: vlan, MAC: mac}
}

func (n *testNode) del(name string) {
	n.t.Helper()
	l, err := n.h.LinkByName(name)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.h.LinkDel(l); err != nil {
		n.t.Fatal(err)
	}
}

// progs returns the number of TCX ingress programs on the node's device ifindex.
func (n *testNode) progs(ifindex int) int {
	n.t.Helper()
	var c int
	if err := n.ns.Do(func(ns.NetNS) error {
		ids, err := ingressPrograms(ifindex)
		c = len(ids)
		return err
	}); err != nil {
		n.t.Fatal(err)
	}
	return c
}

func (n *testNode) pinned() []string {
	var names []string
	_ = filepath.Walk(n.pins, func(p string, info os.FileInfo, err error) error {
		// A fresh bpffs has its preloaded iterators, maps.debug and progs.debug.
		if err == nil && p != n.pins && filepath.Ext(p) != ".debug" {
			names = append(names, p[len(n.pins)+1:])
		}
		return nil
	})
	return names
}

func TestLifecycle(t *testing.T) {
	needRoot(t)
	n := newTestNode(t)
	d := New(Options{Netns: n.ns.Path(), PinDir: n.pins})
	defer d.Close()
	a := n.port("veth-a", 100, podMAC)
	b := n.port("veth-b", 100, otherMAC)
	c := n.port("veth-c", 200, podMAC) // the same MAC is fine on another VLAN
	for _, p := range []Port{a, b, c} {
		if err := d.Attach(p); err != nil {
			t.Fatalf("Attach %s: %v", p.HostIf, err)
		}
	}
	if err := d.Attach(a); err != nil {
		t.Fatalf("second Attach: %v", err)
	}
	for _, p := range []Port{a, b, c} {
		if err := d.Check(p); err != nil {
			t.Fatalf("Check %s: %v", p.HostIf, err)
		}
		if got := n.progs(p.HostIndex); got != 1 {
			t.Fatalf("%s has %d programs, want 1", p.HostIf, got)
		}
	}
	if got := n.progs(a.TrunkIndex); got != 1 {
		t.Fatalf("trunk has %d programs, want 1", got)
	}
	// Check tells a port of another VLAN from the plan's.
	wrong := a
	wrong.VLAN = 300
	if err := d.Check(wrong); model.CodeOf(err) != model.CodeConflict {
		t.Fatalf("Check with another VLAN = %v, want a conflict", err)
	}
	// Two pods of one VLAN cannot share a MAC.
	dup := n.port("veth-d", 100, podMAC)
	if err := d.Attach(dup); model.CodeOf(err) != model.CodeConflict {
		t.Fatalf("Attach of a duplicate MAC = %v, want a conflict", err)
	}
	if got := n.progs(dup.HostIndex); got != 0 {
		t.Fatalf("the refused port has %d programs", got)
	}
	if err := d.Check(a); err != nil {
		t.Fatalf("the refused duplicate broke the first: %v", err)
	}
	// A restarted agent (a new Datapath) finds everything and can check it.
	d2 := New(Options{Netns: n.ns.Path(), PinDir: n.pins})
	defer d2.Close()
	if err := d2.Check(b); err != nil {
		t.Fatalf("Check after a restart: %v", err)
	}

	// a leaves: VLAN 100 keeps b, and b moved into a's broadcast slot.
	n.del("veth-a")
	if err := d2.Prune(); err != nil {
		t.Fatal(err)
	}
	if err := d2.Check(a); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("Check of a pruned port = %v, want not found", err)
	}
	if err := d2.Check(b); err != nil {
		t.Fatalf("Check b after a left: %v", err)
	}
	if err := d.Check(b); err != nil {
		t.Fatalf("Check b through the first Datapath: %v", err)
	}
	// The last of VLAN 100 leaves: no entry of VLAN 100 is left.
	n.del("veth-b")
	if err := d2.Prune(); err != nil {
		t.Fatal(err)
	}
	all, err := d2.s.allPorts()
	if err != nil || len(all) != 1 {
		t.Fatalf("ports after VLAN 100 left: %v %v", all, err)
	}
	if slots, _ := d2.s.slots(uint32(a.TrunkIndex), 100); len(slots) != 0 {
		t.Fatalf("VLAN 100 still has broadcast slots %v", slots)
	}
	var owner uint32
	if err := d2.s.fdb.Lookup(fdbKey{Trunk: uint32(a.TrunkIndex), VID: 100, MAC: macOf(otherMAC)}, &owner); err == nil {
		t.Fatal("VLAN 100 still has a MAC entry")
	}
	// The node's last port leaves: no program on the trunk, nothing pinned.
	n.del("veth-c")
	if err := d2.Prune(); err != nil {
		t.Fatal(err)
	}
	if got := n.progs(a.TrunkIndex); got != 0 {
		t.Fatalf("trunk keeps %d programs after the last port left", got)
	}
	if p := n.pinned(); len(p) != 0 {
		t.Fatalf("bpffs keeps %v after the last port left", p)
	}
	st, err := d2.Status()
	if err != nil || st.Ports != 0 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	// And the first Datapath, whose handles went stale, starts again cleanly.
	if err := d.Prune(); err != nil {
		t.Fatalf("Prune through a stale Datapath: %v", err)
	}
}

// TestCheckReadsBack takes the datapath's state apart piece by piece behind its back (as a crash, an
// operator or another tool might): Check names each missing piece, and Attach puts it back.
func TestCheckReadsBack(t *testing.T) {
	needRoot(t)
	n := newTestNode(t)
	d := New(Options{Netns: n.ns.Path(), PinDir: n.pins})
	defer d.Close()
	a := n.port("veth-a", 100, podMAC)
	b := n.port("veth-b", 100, otherMAC)
	for _, p := range []Port{a, b} {
		if err := d.Attach(p); err != nil {
			t.Fatalf("Attach %s: %v", p.HostIf, err)
		}
	}
	detach := func(pin string) {
		t.Helper()
		if err := n.ns.Do(func(ns.NetNS) error {
			l, err := link.LoadPinnedLink(pin, nil)
			if err != nil {
				return err
			}
			defer l.Close()
			return l.Detach() // the pin stays, attached to nothing
		}); err != nil {
			t.Fatal(err)
		}
	}
	flood := func(slot uint16, ifindex int) {
		must(t, d.s.flood.Put(floodKey{Trunk: uint32(a.TrunkIndex), VID: 100, Slot: slot}, uint32(ifindex)))
	}
	for _, c := range []struct {
		name    string
		breakIt func()
		code    model.Code
		words   string
		// restore puts back what Attach does not (it refuses to take a MAC another port holds);
		// nil means Attach repairs it.
		restore func()
	}{
		{"the port's ports entry deleted", func() { must(t, d.s.ports.Delete(uint32(a.HostIndex))) }, model.CodeNotFound, "is not a port", nil},
		{"the port's MAC entry deleted", func() { must(t, d.s.fdb.Delete(fdbKey(a.value()))) }, model.CodeConflict, "no MAC entry", nil},
		{"the MAC entry pointing at another port", func() { must(t, d.s.fdb.Put(fdbKey(a.value()), uint32(b.HostIndex))) }, model.CodeConflict, "no MAC entry",
			func() { must(t, d.s.fdb.Put(fdbKey(a.value()), uint32(a.HostIndex))) }},
		{"the port's broadcast slot taken by another port", func() { flood(0, b.HostIndex) }, model.CodeConflict, "broadcast list",
			func() { flood(0, a.HostIndex) }},
		{"the port's program detached", func() { detach(linkPin(d.s.dir, "port", a.HostIndex)) }, model.CodeNotFound, "veth-a has no VLAN program", nil},
		{"the trunk's program detached", func() { detach(linkPin(d.s.dir, "trunk", a.TrunkIndex)) }, model.CodeNotFound, "trunk trunk0 has no VLAN program", nil},
	} {
		if err := d.Check(a); err != nil {
			t.Fatalf("before %s: Check = %v", c.name, err)
		}
		c.breakIt()
		err := d.Check(a)
		if model.CodeOf(err) != c.code || err == nil || !strings.Contains(err.Error(), c.words) {
			t.Fatalf("%s: Check = %v (code %v), want code %v saying %q", c.name, err, model.CodeOf(err), c.code, c.words)
		}
		if c.restore != nil {
			c.restore()
		} else if err := d.Attach(a); err != nil {
			t.Fatalf("%s: Attach to repair = %v", c.name, err)
		}
		for _, p := range []Port{a, b} {
			if err := d.Check(p); err != nil {
				t.Fatalf("%s: Check %s after the repair = %v", c.name, p.HostIf, err)
			}
		}
		if slots, err := d.s.slots(uint32(a.TrunkIndex), 100); err != nil || len(slots) != 2 {
			t.Fatalf("%s: VLAN 100's broadcast list after the repair = %v, %v; want a and b once each", c.name, slots, err)
		}
		if got := n.progs(a.HostIndex); got != 1 {
			t.Fatalf("%s: %s has %d programs after the repair, want 1", c.name, a.HostIf, got)
		}
		if got := n.progs(a.TrunkIndex); got != 1 {
			t.Fatalf("%s: the trunk has %d programs after the repair, want 1", c.name, got)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
