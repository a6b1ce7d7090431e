package plugin_test

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// podLinks returns the names of the interfaces in the named namespace, without the loopback.
func podLinks(t *testing.T, name string) []string {
	t.Helper()
	links, err := handle(t, name).LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// podAddr returns the IPv4 address and MAC of interface ifname in the named namespace.
func podAddr(t *testing.T, name, ifname string) (net.IP, string) {
	t.Helper()
	h := handle(t, name)
	l, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatalf("%s in %s: %v", ifname, name, err)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("%s in %s: addresses %v (%v), want one", ifname, name, addrs, err)
	}
	return addrs[0].IP, l.Attrs().HardwareAddr.String()
}

// One container, two ifnames, on the real dataplane: the second pod-wide ADD is refused with code 4
// and builds nothing; its DEL leaves the first attachment's links whole, and CHECK of eth0 passes.
func TestSecondIfnameOfAContainerIsRefusedOnTheRealDataplane(t *testing.T) {
	node, w, rt := realNode(t)
	pod := newNetns(t, "kn-pod-")
	w.Pods.Put("acme", "web", "", nil)
	eth0 := rtConf(nil, "c1", "web")
	eth0.NetNS = "/run/netns/" + pod
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, eth0); err != nil {
		t.Fatalf("ADD eth0: %v", err)
	}
	net9 := *eth0
	net9.IfName = "net9"
	_, err := rt.cni.AddNetworkList(ctx, rt.list, &net9)
	wantCNIError(t, err, wire.CodeInvalidEnv, "CNI_IFNAME", "already attached on eth0")
	if links := podLinks(t, pod); len(links) != 1 || links[0] != "eth0" {
		t.Fatalf("pod links after the refused net9: %v, want eth0 alone", links)
	}
	if err := rt.cni.DelNetworkList(ctx, rt.list, &net9); err != nil {
		t.Fatalf("DEL net9: %v", err)
	}
	if links := podLinks(t, pod); len(links) != 1 || links[0] != "eth0" {
		t.Fatalf("DEL of the refused net9 removed eth0: pod links %v", links)
	}
	if _, err := handle(t, node).LinkByName(plan.HostIfName("c1", "eth0")); err != nil {
		t.Fatalf("DEL of the refused net9 removed eth0's node end: %v", err)
	}
	if err := rt.cni.CheckNetworkList(ctx, rt.list, eth0); err != nil {
		t.Fatalf("CHECK eth0 after net9's refused ADD and its DEL: %v", err)
	}
}

// One pod UID, two live sandboxes, on the real dataplane: the second sandbox is refused (102) and
// gets no interface while the first lives — sequentially and concurrently — so the pod's address
// and MAC are on the segment once; after the first sandbox's DEL the second gets them.
func TestOnePodTwoLiveSandboxesOnTheRealDataplane(t *testing.T) {
	_, w, rt := realNode(t)
	w.Pods.Put("acme", "web", "", nil)
	first, second := newNetns(t, "kn-pod-"), newNetns(t, "kn-pod-")
	c1 := rtConf(nil, "c1", "web")
	c1.NetNS = "/run/netns/" + first
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, c1); err != nil {
		t.Fatalf("ADD of the first sandbox: %v", err)
	}
	ip1, mac1 := podAddr(t, first, "eth0")
	c2 := rtConf(nil, "c2", "web")
	c2.NetNS = "/run/netns/" + second
	_, err := rt.cni.AddNetworkList(ctx, rt.list, c2)
	wantCNIError(t, err, wire.CodeRefused, "K8S_POD_UID", "already attached in sandbox c1")
	if links := podLinks(t, second); len(links) != 0 {
		t.Fatalf("the refused second sandbox got %v", links)
	}
	if err := rt.cni.DelNetworkList(ctx, rt.list, c1); err != nil {
		t.Fatalf("DEL of the first sandbox: %v", err)
	}
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, c2); err != nil {
		t.Fatalf("ADD of the second sandbox after the first's DEL: %v", err)
	}
	if ip2, mac2 := podAddr(t, second, "eth0"); !ip2.Equal(ip1) || mac2 != mac1 {
		t.Fatalf("the second sandbox has %s %s, want the pod's %s %s", ip2, mac2, ip1, mac1)
	}

	// Two new sandboxes of another pod at once, each from its own runtime: exactly one is built.
	w.Pods.Put("acme", "api", "", nil)
	nss := []string{newNetns(t, "kn-pod-"), newNetns(t, "kn-pod-")}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, id := range []string{"d1", "d2"} {
		conf := rtConf(nil, id, "api")
		conf.NetNS = "/run/netns/" + nss[i]
		r := &runtime{cni: libcniConfig(t.TempDir()), list: rt.list}
		wg.Go(func() { _, errs[i] = r.cni.AddNetworkList(ctx, r.list, conf) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent sandboxes of one pod: %v and %v; want exactly one built", errs[0], errs[1])
	}
	loser := 0
	if errs[1] != nil {
		loser = 1
	}
	wantCNIError(t, errs[loser], wire.CodeRefused, "K8S_POD_UID")
	if links := podLinks(t, nss[loser]); len(links) != 0 {
		t.Fatalf("the refused concurrent sandbox got %v", links)
	}
	if links := podLinks(t, nss[1-loser]); len(links) != 1 {
		t.Fatalf("the built concurrent sandbox has %v, want eth0", links)
	}
}

// GC on the real dataplane: another configuration's GC with no valid attachments leaves the running
// pod's interfaces and node ends alone and CHECK passes; the configuration's own GC removes them.
func TestGCOfAnotherConfigurationOnTheRealDataplane(t *testing.T) {
	node, w, rt := realNode(t)
	pod := newNetns(t, "kn-pod-")
	w.Pods.Put("acme", "web", "", nil)
	conf := rtConf(nil, "c1", "web")
	conf.NetNS = "/run/netns/" + pod
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("ADD: %v", err)
	}
	other, err := libcniList(strings.Replace(string(rt.list.Bytes), `"name":"knitter"`, `"name":"np-other"`, 1))
	if err != nil || other.Name != "np-other" {
		t.Fatalf("np-other's list: %v %v", other, err)
	}
	if err := rt.cni.GCNetworkList(ctx, other, &libcni.GCArgs{}); err != nil {
		t.Fatalf("np-other's GC: %v", err)
	}
	if links := podLinks(t, pod); len(links) != 1 {
		t.Fatalf("np-other's GC changed the pod's links: %v", links)
	}
	if _, err := handle(t, node).LinkByName(plan.HostIfName("c1", "eth0")); err != nil {
		t.Fatalf("np-other's GC removed the node end: %v", err)
	}
	if err := rt.cni.CheckNetworkList(ctx, rt.list, conf); err != nil {
		t.Fatalf("CHECK after np-other's GC: %v", err)
	}
	if err := rt.cni.GCNetworkList(ctx, rt.list, &libcni.GCArgs{}); err != nil {
		t.Fatalf("the configuration's own GC: %v", err)
	}
	if links := podLinks(t, pod); len(links) != 0 {
		t.Fatalf("the configuration's own GC left %v", links)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("the configuration's own GC left %+v", cps)
	}
}
