package nodebench

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/core/plan"
)

// These tests check that every run of the benchmarks builds the pod it claims to and leaves
// nothing behind: each rig adds a pod, reads its links back through netlink, deletes it and checks
// the pod, the node and the rig's own state.

func TestKnitterPod(t *testing.T) {
	needRoot(t)
	kn := newKnitterRig(t, newWorld(t), agentNode, t.TempDir())
	kn.cycle(t, "kn-1")
	// The second pod finds the node's bridges and VXLAN devices there, as every pod but a node's
	// first does.
	kn.cycle(t, "kn-2")
	if n := kn.served["add"].len(); n != 2 {
		t.Errorf("the agent's handler timed %d ADDs, want 2", n)
	}
	if n := kn.attach.len(); n != 2 {
		t.Errorf("the dataplane timed %d attaches, want 2", n)
	}
}

func TestFloorPod(t *testing.T) {
	needRoot(t)
	w := newWorld(t)
	kn := newKnitterRig(t, w, agentNode, t.TempDir())
	f, err := newFloor(kn.node, kn.cycle(t, "tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fl-1", "fl-2"} {
		floorCycle(t, f, name)
	}
}

// floorCycle adds a pod with the floor, checks it exactly (the floor uses the template's MACs and
// addresses), deletes it and checks that nothing is left.
func floorCycle(tb testing.TB, f *floor, name string) {
	tb.Helper()
	ctx := context.Background()
	p := newPod(tb, nil, name)
	defer closePod(tb, nil, p)
	if err := f.add(ctx, p); err != nil {
		tb.Fatal(err)
	}
	if err := checkLinks(f.node, p.ns, wantFromPlan(f.plan(p.ns.Path()))); err != nil {
		tb.Fatalf("after ADD: %v", err)
	}
	if err := f.del(ctx, p); err != nil {
		tb.Fatal(err)
	}
	if err := checkPodEmpty(p.ns); err != nil {
		tb.Fatal(err)
	}
	if err := checkNodeClean(f.node); err != nil {
		tb.Fatal(err)
	}
}

func TestReferencePod(t *testing.T) {
	needRoot(t)
	dir := refBinDir()
	if why := missingRefPlugins(dir); why != "" {
		t.Skip(why)
	}
	r := newRefRig(t, dir)
	r.cycle(t, "ref-1")
	r.cycle(t, "ref-2")
}

func TestAgentProcessPod(t *testing.T) {
	needRoot(t)
	w := newWorld(t)
	node := newNode(t)
	a := startAgent(t, w, node)
	ctx := context.Background()
	p := newPod(t, w, "proc-1")
	defer closePod(t, w, p)
	if err := a.add(ctx, p); err != nil {
		t.Fatalf("ADD: %v\n%s", err, a.logs)
	}
	pl, err := a.plan(p.containerID)
	if err != nil {
		t.Fatal(err)
	}
	if err := matchesAllocation(t, w, p, pl); err != nil {
		t.Fatal(err)
	}
	if err := checkLinks(node, p.ns, wantFromPlan(pl)); err != nil {
		t.Fatalf("after ADD: %v", err)
	}
	if err := a.del(ctx, p); err != nil {
		t.Fatalf("DEL: %v\n%s", err, a.logs)
	}
	if err := a.settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := checkPodEmpty(p.ns); err != nil {
		t.Fatal(err)
	}
	if err := checkNodeClean(node); err != nil {
		t.Fatal(err)
	}
	if cps, err := a.checkpoints(); err != nil || len(cps) != 0 {
		t.Fatalf("checkpoints after DEL: %v (%v), want none", cps, err)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestChecksCatchDifferences builds one pod with the floor and checks that each readback check
// rejects a pod that differs from what it wants, so that the rigs' checks can fail.
func TestChecksCatchDifferences(t *testing.T) {
	needRoot(t)
	w := newWorld(t)
	kn := newKnitterRig(t, w, agentNode, t.TempDir())
	f, err := newFloor(kn.node, kn.cycle(t, "tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := newPod(t, nil, "diff")
	defer closePod(t, nil, p)
	if err := f.add(ctx, p); err != nil {
		t.Fatal(err)
	}
	good := wantFromPlan(f.plan(p.ns.Path()))
	if err := checkLinks(f.node, p.ns, good); err != nil {
		t.Fatalf("the pod as built: %v", err)
	}
	at := func(ifName string) int {
		i := slices.IndexFunc(good, func(l wantLink) bool { return l.ifName == ifName })
		if i < 0 {
			t.Fatalf("no %s in %+v", ifName, good)
		}
		return i
	}
	eth0, net1, net2, mv := at("eth0"), at("net1"), at("net2"), at("net3")
	mutations := map[string]func(w []wantLink){
		"MAC":            func(w []wantLink) { w[eth0].mac = net.HardwareAddr{0x0a, 0, 0, 0, 0, 0x99} },
		"address":        func(w []wantLink) { w[net1].addr = netip.MustParsePrefix("10.102.9.9/16") },
		"address prefix": func(w []wantLink) { w[net1].addr, w[net1].anyAddr = netip.MustParsePrefix("10.102.0.0/24"), true },
		"route": func(w []wantLink) {
			w[mv].routes = append(w[mv].routes, plan.Route{Dst: netip.MustParsePrefix("10.30.0.0/16")})
		},
		"bridge":       func(w []wantLink) { w[eth0].bridge = w[net1].bridge },
		"macvlan":      func(w []wantLink) { w[mv].bridge = w[eth0].bridge },
		"veth":         func(w []wantLink) { w[eth0].bridge = "" },
		"missing link": func(w []wantLink) { w[net2].ifName = "net9" },
	}
	for name, mutate := range mutations {
		want := slices.Clone(good)
		for i := range want {
			want[i].routes = slices.Clone(want[i].routes)
		}
		mutate(want)
		if err := checkLinks(f.node, p.ns, want); err == nil {
			t.Errorf("%s differs, yet checkLinks passes", name)
		}
	}
	if err := checkLinks(f.node, p.ns, slices.Delete(slices.Clone(good), mv, mv+1)); err == nil {
		t.Error("the pod has an interface more than wanted, yet checkLinks passes")
	}
	if err := checkPodEmpty(p.ns); err == nil {
		t.Error("checkPodEmpty passes a pod with its interfaces")
	}
	if err := checkNodeClean(f.node); err == nil {
		t.Error("checkNodeClean passes a node with a pod's veths")
	}
	if err := checkLinkCount(p.ns, len(podNICs)+1); err == nil {
		t.Error("checkLinkCount passes a pod with an interface less than wanted")
	}
	if err := f.del(ctx, p); err != nil {
		t.Fatal(err)
	}
}
