package plugin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// realNode is a private "node" namespace with the world's NICs, a world whose agent acts in it on
// the real dataplane, and a runtime calling the plugin binary.
func realNode(t *testing.T) (node string, w *agenttest.World, rt *runtime) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	node = newNetns(t, "kn-node-")
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
	w = agenttest.NewWorldOn(t, dp)
	return node, w, newRuntime(t, confList("1.1.0", w.Serve(t), ""))
}

// bindAlias makes another path to the namespace file target, as a runtime's own bind mount would.
func bindAlias(t *testing.T, target string) string {
	t.Helper()
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.WriteFile(alias, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(target, alias, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(alias, unix.MNT_DETACH) })
	return alias
}

// ADD into the node's own namespace, by its path or another path to it, is refused with code 4
// before anything is allocated or built: no pod interface, no default route, no port.
func TestAddRefusesTheNodeNamespace(t *testing.T) {
	node, w, rt := realNode(t)
	for _, path := range []string{"/run/netns/" + node, bindAlias(t, "/run/netns/"+node), "/proc/self/ns/net"} {
		conf := rtConf(nil, "c1", "web")
		conf.NetNS = path
		_, err := rt.cni.AddNetworkList(ctx, rt.list, conf)
		wantCNIError(t, err, wire.CodeInvalidEnv, "CNI_NETNS", "own network namespace")
	}
	if _, ok := w.Mgr.Pod(t, "acme-web"); ok {
		t.Fatal("the refused ADD allocated the pod's ports")
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("the refused ADD left checkpoints %+v", cps)
	}
	h := handle(t, node)
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			t.Fatalf("the node namespace got a default route: %+v", r)
		}
	}
	if _, err := h.LinkByName("eth0"); err != nil {
		t.Fatal(err)
	}
}

// ADD into a namespace file of another type is refused with code 4 and leaves nothing; a DEL whose
// checkpoint names a namespace that cannot be entered cleans the node side and succeeds.
func TestSandboxThatCannotBeEnteredIsRefusedAndDeletable(t *testing.T) {
	node, w, rt := realNode(t)
	conf := rtConf(nil, "c1", "web")
	conf.NetNS = "/proc/self/ns/uts"
	_, err := rt.cni.AddNetworkList(ctx, rt.list, conf)
	wantCNIError(t, err, wire.CodeInvalidEnv, "CNI_NETNS", "uts namespace, not a network namespace")
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("the refused ADD left checkpoints %+v", cps)
	}
	if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("DEL after the refused ADD: %v", err)
	}

	// A built attachment whose namespace path now names something that cannot be entered.
	pod := newNetns(t, "kn-pod-")
	w.Pods.Put("acme", "api", "", nil)
	conf = rtConf(nil, "c2", "api")
	conf.NetNS = "/run/netns/" + pod
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("ADD: %v", err)
	}
	cps := w.Agent.Checkpoints()
	if len(cps) != 1 {
		t.Fatalf("checkpoints %+v", cps)
	}
	cp := cps[0]
	cp.Plan.Netns = "/proc/self/ns/uts"
	if err := w.Store.Save(cp, true); err != nil {
		t.Fatal(err)
	}
	w.Agent = w.NewAgent(t)
	rt = newRuntime(t, confList("1.1.0", w.Serve(t), ""))
	conf.NetNS = "/proc/self/ns/uts"
	if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("DEL of an attachment whose namespace cannot be entered: %v", err)
	}
	if _, err := handle(t, node).LinkByName(plan.HostIfName("c2", "eth0")); err == nil {
		t.Fatal("DEL left the node end of the pod's veth")
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("DEL left checkpoints %+v", cps)
	}
}
