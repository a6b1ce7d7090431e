package plugin_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	types040 "github.com/containernetworking/cni/pkg/types/040"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/core/plan"
)

// newNetns creates a named network namespace that is deleted when the test ends.
func newNetns(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	ip(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// handle returns a netlink handle in the named namespace.
func handle(t *testing.T, name string) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// TestRealDataplaneThroughLibcni attaches a pod with an overlay and a macvlan NIC in real network
// namespaces (vlan links are covered by netlinkdp's and the e2e suite's tests, which give the VLAN
// datapath its bpffs and trunk) — a "node" namespace with dummy NICs, and the pod's — through the plugin
// binary, reads the pod's interfaces back with netlink, and checks that DEL leaves nothing of the pod.
func TestRealDataplaneThroughLibcni(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	node := newNetns(t, "kn-node-")
	pod := newNetns(t, "kn-pod-")
	for _, nic := range []string{"eth0", agenttest.Uplink, agenttest.MVParent} {
		// This kernel has no dummy devices; a veth whose peer stays in the node stands in for a NIC.
		ip(t, "-n", node, "link", "add", nic, "type", "veth", "peer", "name", nic+"p")
		ip(t, "-n", node, "link", "set", nic+"p", "up")
		ip(t, "-n", node, "link", "set", nic, "up")
	}
	ip(t, "-n", node, "addr", "add", "192.168.0.1/24", "dev", "eth0")
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: "/run/netns/" + node})
	if err != nil {
		t.Fatal(err)
	}
	w := agenttest.NewWorldOn(t, dp)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "mv"})
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	conf := rtConf(nil, "c1", "web")
	conf.NetNS = "/run/netns/" + pod
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("ADD: %v", err)
	}
	alloc, _ := w.Mgr.Pod(t, "acme-web")
	ph := handle(t, pod)
	for _, port := range alloc.Ports {
		l, err := ph.LinkByName(port.Interface)
		if err != nil {
			t.Fatalf("pod interface %s: %v", port.Interface, err)
		}
		if l.Attrs().HardwareAddr.String() != port.MAC.String() || l.Attrs().OperState == netlink.OperDown {
			t.Errorf("%s: MAC %s state %s, want %s and up", port.Interface, l.Attrs().HardwareAddr, l.Attrs().OperState, port.MAC)
		}
		addrs, err := ph.AddrList(l, netlink.FAMILY_V4)
		if err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(port.IPs[0].AsSlice()) {
			t.Errorf("%s: addresses %v, want %s", port.Interface, addrs, port.IPs[0])
		}
	}
	routes, err := ph.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	defaults := 0
	for _, r := range routes {
		if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
			defaults++
			if r.Gw.String() != "10.1.0.1" {
				t.Errorf("default route via %s, want 10.1.0.1", r.Gw)
			}
		}
	}
	if defaults != 1 {
		t.Errorf("%d default routes in the pod, want 1", defaults)
	}
	if err := rt.cni.CheckNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("CHECK: %v", err)
	}
	if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	links, err := ph.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			t.Errorf("DEL left %s in the pod", l.Attrs().Name)
		}
	}
	nh := handle(t, node)
	for _, port := range alloc.Ports {
		if _, err := nh.LinkByName(plan.HostIfName("c1", port.Interface)); err == nil {
			t.Errorf("DEL left the node end of %s", port.Interface)
		}
	}
	if len(w.Agent.Checkpoints()) != 0 {
		t.Error("DEL left the checkpoint")
	}
	// DEL once the netns is gone, as after a node reboot.
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("ADD again: %v", err)
	}
	ip(t, "netns", "del", pod)
	if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("DEL after the netns is gone: %v", err)
	}
	for _, port := range alloc.Ports {
		if _, err := nh.LinkByName(plan.HostIfName("c1", port.Interface)); err == nil {
			t.Errorf("DEL after the netns is gone left the node end of %s", port.Interface)
		}
	}
}

// TestRealDataplaneDelegatesByPosition runs two delegate-mode configurations through libcni on the
// netlink dataplane as Multus would: the cluster network as eth0, and the macvlan network in the
// third position, net2, though the pod's annotation ("mv") gave its port net1 (the delegate in
// between is another plugin's). The macvlan port is built as net2 with its own MAC and address,
// CHECK passes for both, and reverse-order DELs leave nothing in the pod or on the node.
func TestRealDataplaneDelegatesByPosition(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	node := newNetns(t, "kn-node-")
	pod := newNetns(t, "kn-pod-")
	for _, nic := range []string{"eth0", agenttest.Uplink, agenttest.MVParent} {
		ip(t, "-n", node, "link", "add", nic, "type", "veth", "peer", "name", nic+"p")
		ip(t, "-n", node, "link", "set", nic+"p", "up")
		ip(t, "-n", node, "link", "set", nic, "up")
	}
	ip(t, "-n", node, "addr", "add", "192.168.0.1/24", "dev", "eth0")
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: "/run/netns/" + node})
	if err != nil {
		t.Fatal(err)
	}
	w := agenttest.NewWorldOn(t, dp)
	sock := w.Serve(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "mv"})
	overlay, err := libcniList(`{"cniVersion":"1.1.0","name":"pods","plugins":[{"type":"knitter","agentSocket":"` + sock + `","network":"acme/net"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	macvlan, err := libcni.NetworkPluginConfFromBytes([]byte(`{"cniVersion":"0.4.0","name":"mv","type":"knitter","agentSocket":"` + sock + `","network":"acme/mv"}`))
	if err != nil {
		t.Fatal(err)
	}
	cni := libcniConfig(t.TempDir())
	rt := func(ifName string) *libcni.RuntimeConf {
		c := rtConf(nil, "c1", "web")
		c.NetNS, c.IfName = "/run/netns/"+pod, ifName
		return c
	}
	if _, err := cni.AddNetworkList(ctx, overlay, rt("eth0")); err != nil {
		t.Fatalf("ADD eth0: %v", err)
	}
	raw, err := cni.AddNetwork(ctx, macvlan, rt("net2"))
	if err != nil {
		t.Fatalf("ADD net2: %v", err)
	}
	alloc, _ := w.Mgr.Pod(t, "acme-web")
	if len(alloc.Ports) != 2 || alloc.Ports[1].Interface != "net1" || alloc.Ports[1].Network != "acme/mv" {
		t.Fatalf("allocation %+v, want eth0 and mv on net1", alloc.Ports)
	}
	res, err := types040.NewResultFromResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "net2" || res.Interfaces[0].Mac != alloc.Ports[1].MAC.String() {
		t.Fatalf("net2's result %s, want mv's port as net2", mustJSON(res))
	}
	ph := handle(t, pod)
	for ifName, port := range map[string]model.Port{"eth0": alloc.Ports[0], "net2": alloc.Ports[1]} {
		l, err := ph.LinkByName(ifName)
		if err != nil {
			t.Fatalf("pod interface %s: %v", ifName, err)
		}
		addrs, err := ph.AddrList(l, netlink.FAMILY_V4)
		if l.Attrs().HardwareAddr.String() != port.MAC.String() || err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(port.IPs[0].AsSlice()) {
			t.Errorf("%s: MAC %s addresses %v (%v), want port %s %s", ifName, l.Attrs().HardwareAddr, addrs, err, port.MAC, port.IPs[0])
		}
	}
	if _, err := ph.LinkByName("net1"); err == nil {
		t.Error("the pod has a net1: the macvlan port was built under the allocation's name")
	}
	if err := cni.CheckNetworkList(ctx, overlay, rt("eth0")); err != nil {
		t.Fatalf("CHECK eth0: %v", err)
	}
	if err := cni.CheckNetwork(ctx, macvlan, rt("net2")); err != nil {
		t.Fatalf("CHECK net2: %v", err)
	}
	if err := cni.DelNetwork(ctx, macvlan, rt("net2")); err != nil {
		t.Fatalf("DEL net2: %v", err)
	}
	if err := cni.DelNetworkList(ctx, overlay, rt("eth0")); err != nil {
		t.Fatalf("DEL eth0: %v", err)
	}
	links, err := ph.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			t.Errorf("DEL left %s in the pod", l.Attrs().Name)
		}
	}
	if _, err := handle(t, node).LinkByName(plan.HostIfName("c1", "eth0")); err == nil {
		t.Error("DEL left eth0's node end")
	}
	if len(w.Agent.Checkpoints()) != 0 {
		t.Error("DEL left checkpoints")
	}
}
