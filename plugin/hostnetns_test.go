package plugin_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	refusesOwnNamespace(t, node, w, rt, "/run/netns/"+node, bindAlias(t, "/run/netns/"+node))
}

// inPrivateNetns is set in a test binary re-executed by inPrivateNamespace, to the identity of the
// parent's network namespace.
const inPrivateNetns = "KNITTER_TEST_IN_PRIVATE_NETNS"

// ADD into the agent's own namespace (the agent here is this process) is refused the same way. The
// test runs again in a private namespace of its own, so that the namespace at stake is never the
// machine's.
func TestAddRefusesTheAgentNamespace(t *testing.T) {
	if os.Getenv(inPrivateNetns) == "" {
		inPrivateNamespace(t, "TestAddRefusesTheAgentNamespace")
		return
	}
	if self := nsIdentity(t, "/proc/self/ns/net"); self == os.Getenv(inPrivateNetns) {
		t.Fatalf("re-executed in the parent's network namespace (%s); refusing to test there", self)
	}
	node, w, rt := realNode(t)
	refusesOwnNamespace(t, node, w, rt, "/proc/self/ns/net", "/proc/thread-self/ns/net")
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			t.Fatalf("the refused ADD built %s in the agent's namespace", l.Attrs().Name)
		}
	}
}

// inPrivateNamespace runs test again in this binary, in a network namespace made for it, and fails
// unless it passes there.
func inPrivateNamespace(t *testing.T, test string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	ns := newNetns(t, "kn-agent-")
	ip(t, "-n", ns, "link", "set", "lo", "up") // the world's manager listens on loopback
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), inPrivateNetns+"="+nsIdentity(t, "/proc/self/ns/net"), reuseBinDir+"="+binDir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("%s in namespace %s: %v\n%s", test, ns, err, out)
	}
}

// nsIdentity is the device and inode of a namespace file, as "dev:ino".
func nsIdentity(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// refusesOwnNamespace checks that ADD into each of paths is refused with code 4 and that nothing
// was allocated, checkpointed or routed in the node.
func refusesOwnNamespace(t *testing.T, node string, w *agenttest.World, rt *runtime, paths ...string) {
	t.Helper()
	w.Pods.Put("acme", "web", "", nil) // a pod that could be attached anywhere else
	for _, path := range paths {
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

// A CNI_NETNS that knitter-agent cannot open — a socket (ENXIO), and where this machine denies it,
// PID 1's namespace (EACCES, as for an agent without ptrace rights over it) — is refused with code
// 4 before anything is allocated, and DEL of it succeeds; DEL of a built attachment whose
// checkpoint names such a path cleans the node side and succeeds.
func TestSandboxThatCannotBeOpenedIsRefusedAndDeletable(t *testing.T) {
	node, w, rt := realNode(t)
	sock := filepath.Join(t.TempDir(), "not-a-namespace.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	paths := []string{sock}
	if _, err := os.Stat("/proc/1/ns/net"); errors.Is(err, fs.ErrPermission) {
		paths = append(paths, "/proc/1/ns/net")
	} else {
		t.Logf("/proc/1/ns/net is not denied here (%v); only the socket is tried", err)
	}
	for i, path := range paths {
		name := fmt.Sprintf("web%d", i)
		w.Pods.Put("acme", name, "", nil)
		conf := rtConf(nil, fmt.Sprintf("c%d", i), name)
		conf.NetNS = path
		_, err := rt.cni.AddNetworkList(ctx, rt.list, conf)
		wantCNIError(t, err, wire.CodeInvalidEnv, "CNI_NETNS", "cannot be opened by knitter-agent")
		if _, ok := w.Mgr.Pod(t, "acme-"+name); ok {
			t.Fatalf("the refused ADD in %s allocated the pod's ports", path)
		}
		if cps := w.Agent.Checkpoints(); len(cps) != 0 {
			t.Fatalf("the refused ADD in %s left checkpoints %+v", path, cps)
		}
		if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
			t.Fatalf("DEL after the refused ADD in %s: %v", path, err)
		}
	}

	pod := newNetns(t, "kn-pod-")
	w.Pods.Put("acme", "api", "", nil)
	conf := rtConf(nil, "b1", "api")
	conf.NetNS = "/run/netns/" + pod
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("ADD: %v", err)
	}
	cps := w.Agent.Checkpoints()
	if len(cps) != 1 {
		t.Fatalf("checkpoints %+v", cps)
	}
	cp := cps[0]
	cp.Plan.Netns = paths[len(paths)-1]
	if err := w.Store.Save(cp, true); err != nil {
		t.Fatal(err)
	}
	w.Agent = w.NewAgent(t)
	rt = newRuntime(t, confList("1.1.0", w.Serve(t), ""))
	conf.NetNS = cp.Plan.Netns
	if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("DEL of an attachment whose namespace (%s) cannot be opened: %v", cp.Plan.Netns, err)
	}
	if _, err := handle(t, node).LinkByName(plan.HostIfName("b1", "eth0")); err == nil {
		t.Fatal("DEL left the node end of the pod's veth")
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("DEL left checkpoints %+v", cps)
	}
}
