package fakedp_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/dataplanetest"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// node is a fresh fake with the contract's NICs.
func node() *fakedp.Fake {
	f := fakedp.New()
	for _, nic := range []string{dataplanetest.Underlay, dataplanetest.Trunk, dataplanetest.Parent} {
		f.AddNIC(nic, 1500)
	}
	f.AddPF(dataplanetest.PF, dataplanetest.VFs)
	return f
}

type contractNode struct{ f *fakedp.Fake }

func (n contractNode) Dataplane() agent.Dataplane           { return n.f }
func (n contractNode) NewNetns(testing.TB) string           { return n.f.NewNetns() }
func (n contractNode) DeleteNetns(_ testing.TB, p string)   { n.f.Gone(p) }
func (n contractNode) NodeNetns(testing.TB) string          { return fakedp.NodeNetns }
func (n contractNode) ForeignNamespace(testing.TB) string   { return n.f.NewForeign("uts") }
func (n contractNode) Master(_ testing.TB, i string) string { l, _ := n.f.Link("", i); return l.Master }

func (n contractNode) Links(_ testing.TB, netns string) []string {
	var names []string
	for _, l := range n.f.Links(netns) {
		names = append(names, l.Name)
	}
	return names
}

func (n contractNode) VLANPorts(_ testing.TB, trunk string) []string { return n.f.VLANPorts(trunk) }

func (n contractNode) FDB(_ testing.TB, vxlan string) []netip.Addr {
	l, _ := n.f.Link("", vxlan)
	return l.FDB
}

func TestContract(t *testing.T) {
	dataplanetest.Run(t, func(*testing.T) dataplanetest.Node { return contractNode{node()} },
		dataplanetest.Features{SRIOV: true})
}

var ctx = context.Background()

func TestFailNextFailsCallsOnEntry(t *testing.T) {
	f := node()
	ns := f.NewNetns()
	pod := dataplanetest.Pod("c1", ns, dataplanetest.Overlay("c1", "eth0", 101, "10.1.0.5/24"))
	boom := errors.New("boom")
	f.FailNext(fakedp.OpAttach, boom)
	if err := f.Attach(ctx, pod); !errors.Is(err, boom) {
		t.Fatalf("Attach = %v, want boom", err)
	}
	if len(f.Links("")) != 6 || len(f.Links(ns)) != 0 {
		t.Fatalf("a call faulted on entry changed the world: node %v, pod %v", f.Links(""), f.Links(ns))
	}
	if err := f.Attach(ctx, pod); err != nil {
		t.Fatalf("fault not consumed: %v", err)
	}
	for _, op := range []fakedp.Op{fakedp.OpCheck, fakedp.OpDetach, fakedp.OpSyncPeers} {
		f.FailNext(op, nil)
	}
	if err := f.Check(ctx, pod); !errors.Is(err, fakedp.ErrInjected) {
		t.Fatalf("Check = %v", err)
	}
	if err := f.Detach(ctx, pod); !errors.Is(err, fakedp.ErrInjected) {
		t.Fatalf("Detach = %v", err)
	}
	if err := f.SyncPeers(ctx, *pod.Links[0].VXLAN); !errors.Is(err, fakedp.ErrInjected) {
		t.Fatalf("SyncPeers = %v", err)
	}
	if err := f.Check(ctx, pod); err != nil {
		t.Fatalf("the faulted Detach removed links: %v", err)
	}
	if got := f.Calls(fakedp.OpAttach); got != 2 {
		t.Fatalf("Calls(attach) = %d, want 2", got)
	}
}

func TestStepFaultsRollBack(t *testing.T) {
	steps := []fakedp.Op{fakedp.OpCreateBridge, fakedp.OpCreateVXLAN, fakedp.OpCreateVeth, fakedp.OpCreateMacvlan,
		fakedp.OpMoveVF, fakedp.OpAddAddr, fakedp.OpAddRoute}
	for _, op := range steps {
		t.Run(string(op), func(t *testing.T) {
			f := node()
			ns := f.NewNetns()
			eth0 := dataplanetest.Overlay("c1", "eth0", 101, "10.1.0.5/24")
			eth0.Routes = append(eth0.Routes, dataplanetest.Route("0.0.0.0/0", "10.1.0.1"))
			pod := dataplanetest.Pod("c1", ns, dataplanetest.MACVLAN("c1", "net1", "10.2.0.5/24"),
				dataplanetest.SRIOV("c1", "net2", 30, "10.6.0.5/24"), eth0)
			f.FailNext(op, nil)
			if err := f.Attach(ctx, pod); !errors.Is(err, fakedp.ErrInjected) {
				t.Fatalf("Attach = %v, want the injected fault", err)
			}
			if l := f.Links(ns); len(l) != 0 {
				t.Fatalf("pod links after the fault: %v", l)
			}
			if _, ok := f.Link("", eth0.HostIf); ok {
				t.Fatal("node end left behind")
			}
			for _, v := range f.VFs(dataplanetest.PF) {
				if v.Holder != "" || v.VLAN != 0 {
					t.Fatalf("VF %d not given back: %+v", v.Index, v)
				}
				if _, ok := f.Link("", v.Netdev); !ok {
					t.Fatalf("VF netdev %s not back on the node", v.Netdev)
				}
			}
			if err := f.Attach(ctx, pod); err != nil {
				t.Fatalf("Attach after the fault: %v", err)
			}
			if err := f.Check(ctx, pod); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVFsState(t *testing.T) {
	f := node()
	ns := f.NewNetns()
	l := dataplanetest.SRIOV("c1", "net1", 30, "10.6.0.5/24")
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, l)); err != nil {
		t.Fatal(err)
	}
	vfs := f.VFs(dataplanetest.PF)
	want := fakedp.VFState{PF: dataplanetest.PF, Index: 0, Netdev: "kn-pf0v0", Holder: "c1/net1", MAC: l.MAC, VLAN: 30}
	if vfs[0] != want || vfs[1].Holder != "" {
		t.Fatalf("VFs = %+v, want first %+v", vfs, want)
	}
	// The namespace dies: the VF comes back to the node under its pod name until Detach renames it.
	f.Gone(ns)
	if _, ok := f.Link("", "net1"); !ok {
		t.Fatalf("VF not back on the node: %v", f.Links(""))
	}
	if err := f.Detach(ctx, dataplanetest.Pod("c1", ns, l)); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Link("", "kn-pf0v0"); !ok {
		t.Fatalf("VF not renamed back: %v", f.Links(""))
	}
	if v := f.VFs(dataplanetest.PF)[0]; v.Holder != "" || v.VLAN != 0 {
		t.Fatalf("VF not given back: %+v", v)
	}
}

func TestVLANPort(t *testing.T) {
	f := node()
	ns := f.NewNetns()
	l := dataplanetest.VLAN("c1", "net1", 100, "10.3.0.5/24")
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, l)); err != nil {
		t.Fatal(err)
	}
	host, _ := f.Link("", l.HostIf)
	if host.Trunk != dataplanetest.Trunk || host.VLAN != 100 || host.Master != "" {
		t.Fatalf("vlan port = %+v", host)
	}
}

func TestErrorsOfTheKernelKind(t *testing.T) {
	f := node()
	ns := f.NewNetns()
	long := dataplanetest.MACVLAN("c1", "a-name-longer-than-15", "10.2.0.5/24")
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, long)); err == nil {
		t.Fatal("a 21-character interface name was accepted")
	}
	notPF := dataplanetest.SRIOV("c1", "net1", 0)
	notPF.Uplink = dataplanetest.Trunk
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, notPF)); model.CodeOf(err) != model.CodeInvalid {
		t.Fatalf("sriov on a NIC without VFs = %v", err)
	}
	notPF.Uplink = "nope"
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, notPF)); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("sriov on a missing NIC = %v", err)
	}
	bad := dataplanetest.Overlay("c1", "eth0", 5)
	bad.Type = "token-ring"
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, bad)); model.CodeOf(err) != model.CodeInvalid {
		t.Fatalf("unknown type = %v", err)
	}
	// A link-local IPv6 gateway needs no subnet; an on-link route makes its gateway reachable.
	ok := dataplanetest.MACVLAN("c1", "net1", "10.2.0.5/24")
	ok.Routes = append(ok.Routes, dataplanetest.Route("::/0", "fe80::1"), dataplanetest.Route("10.7.0.0/24", ""), dataplanetest.Route("10.8.0.0/16", "10.7.0.1"))
	if err := f.Attach(ctx, dataplanetest.Pod("c1", ns, ok)); err != nil {
		t.Fatal(err)
	}
}
