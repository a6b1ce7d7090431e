package agent_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/core/plan"
)

// TestReclaimOnTheRealDataplane attaches pods with the netlink dataplane in throwaway namespaces (a
// node with its NICs, one namespace per pod) and loses their DELs three ways: the pod object is
// deleted, the sandbox namespace is deleted, and the pod is deleted while the agent is down. Reclaim
// (a periodic pass, and the pass of the restarted agent) removes every link and checkpoint, and each
// agent counts what it reclaimed by reason.
func TestReclaimOnTheRealDataplane(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	node := newNetns(t, "kn-rnode-")
	for _, nic := range []string{agenttest.VTEPDevice, agenttest.Uplink, agenttest.MVParent} {
		// A veth whose peer stays in the node stands in for a NIC (this kernel has no dummy devices).
		ipCmd(t, "-n", node, "link", "add", nic, "type", "veth", "peer", "name", nic+"p")
		ipCmd(t, "-n", node, "link", "set", nic+"p", "up")
		ipCmd(t, "-n", node, "link", "set", nic, "up")
	}
	ipCmd(t, "-n", node, "addr", "add", "192.168.0.1/24", "dev", agenttest.VTEPDevice)
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: "/run/netns/" + node})
	if err != nil {
		t.Fatal(err)
	}
	w := agenttest.NewWorldOn(t, dp)
	// The agent process, with its metrics: the first, then the restarted one.
	withMetrics := func() (*agent.Agent, *agent.Metrics) {
		opts := agenttest.Options()
		opts.Metrics = agent.NewMetrics(prometheus.NewRegistry())
		a, err := agent.New(w.Dataplane, w.Pods, w.Mgr.Port(), w.Store, opts)
		if err != nil {
			t.Fatal(err)
		}
		return a, opts.Metrics
	}
	var m *agent.Metrics
	w.Agent, m = withMetrics()
	pods := map[string]string{} // container -> pod netns name
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		pods[id] = newNetns(t, "kn-rpod-")
		w.Pods.Put("acme", "pod-"+id, "", map[string]string{netspec.NPWGAnnotation: "mv"})
		req := wire.Request{CNIVersion: "1.1.0", ContainerID: id, Netns: "/run/netns/" + pods[id], IfName: "eth0", Args: agenttest.Args("acme", "pod-"+id)}
		if _, err := w.Agent.Add(ctx, req); err != nil {
			t.Fatalf("ADD %s: %v", id, err)
		}
		if got := podLinks(t, pods[id]); got != "eth0,net1" {
			t.Fatalf("%s has %q after ADD, want eth0,net1", id, got)
		}
	}
	nh := linkHandle(t, node)
	hostEnd := func(id string) bool {
		_, err := nh.LinkByName(plan.HostIfName(id, "eth0"))
		return err == nil
	}

	w.Pods.Delete("acme", "pod-c1")      // the pod object is deleted and no DEL comes
	ipCmd(t, "netns", "del", pods["c2"]) // the sandbox namespace is deleted and no DEL comes
	got, err := reclaimed(t, w.Agent)
	if err != nil || strings.Join(got, " ") != "c1:pod_gone c2:netns_gone" {
		t.Fatalf("reclaim: %v, %v; want c1 (pod gone) and c2 (netns gone)", got, err)
	}
	if l := podLinks(t, pods["c1"]); l != "" || hostEnd("c1") {
		t.Fatalf("c1 keeps %q in its namespace (host end left: %v)", l, hostEnd("c1"))
	}
	if hostEnd("c2") {
		t.Fatal("c2's host end survived its namespace")
	}
	if p, n := testutil.ToFloat64(m.Orphans(agent.ReclaimPodGone)), testutil.ToFloat64(m.Orphans(agent.ReclaimNetnsGone)); p != 1 || n != 1 {
		t.Fatalf("counted pod_gone %v, netns_gone %v; want 1 each", p, n)
	}
	if got, err := reclaimed(t, w.Agent); err != nil || len(got) != 0 {
		t.Fatalf("a second pass reclaimed %v, %v; want nothing", got, err)
	}

	// The agent stops; meanwhile c3's pod is deleted. The restarted agent's first pass reclaims it.
	w.Pods.Delete("acme", "pod-c3")
	restarted, rm := withMetrics()
	if got, err := reclaimed(t, restarted); err != nil || strings.Join(got, " ") != "c3:pod_gone" {
		t.Fatalf("restarted agent's reclaim: %v, %v; want c3", got, err)
	}
	if p := testutil.ToFloat64(rm.Orphans(agent.ReclaimPodGone)); p != 1 {
		t.Fatalf("the restarted agent counted pod_gone %v, want 1", p)
	}
	if l := podLinks(t, pods["c3"]); l != "" || hostEnd("c3") {
		t.Fatalf("c3 keeps %q (host end left: %v)", l, hostEnd("c3"))
	}
	cps := restarted.Checkpoints()
	if len(cps) != 1 || cps[0].ContainerID != "c4" || podLinks(t, pods["c4"]) != "eth0,net1" || !hostEnd("c4") {
		t.Fatalf("the live pod c4 was touched: checkpoints %+v, links %q", cps, podLinks(t, pods["c4"]))
	}
}

// newNetns creates a named network namespace that is deleted when the test ends.
func newNetns(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// linkHandle returns a netlink handle in the named namespace.
func linkHandle(t *testing.T, name string) *netlink.Handle {
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

// podLinks lists the links in the named namespace but lo, comma-separated and sorted by name.
func podLinks(t *testing.T, name string) string {
	t.Helper()
	links, err := linkHandle(t, name).LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			out = append(out, l.Attrs().Name)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
