package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/knitter-cni/knitter/adapters/vlanbpf/vlanbpftest"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

// nodeNamespaces is implemented by drivers whose nodes' network namespaces this process can enter
// (the local driver's, and the kube driver's on hack/kube-up.sh's cluster).
type nodeNamespaces interface {
	// HostNodeNetns is the path under which this process opens node's network namespace.
	HostNodeNetns(node string) (string, error)
}

// agentStopper is implemented by drivers that can keep a node's agent down and start it again.
type agentStopper interface {
	StopAgent(node string) error
	StartAgent(ctx context.Context, node string) error
}

// The drivers that have these abilities, checked when the suite builds (the specs type-assert).
var (
	_ nodeNamespaces  = (*local.Cluster)(nil)
	_ agentStopper    = (*local.Cluster)(nil)
	_ nodeNamespaces  = (*kube.NodeCluster)(nil)
	_ containerKiller = (*kube.NodeCluster)(nil)
)

// The vlan specs look at the nodes' trunks and VLAN datapaths: vl100 (tenant e2e) and vl200 (tenant
// other) share the subnet 10.40.0.0/24 + fd40::/64 and the trunk NIC eth1 of every node, so only
// the VLAN keeps them apart.
var _ = Describe("vlan networks", Label("vlan"), func() {
	// nn is the driver's node namespaces, nil on drivers without: the first spec then checks the
	// reachability alone, without the trunk's capture.
	var nn nodeNamespaces
	BeforeEach(func() { nn, _ = c.(nodeNamespaces) })
	requireNodeNetns := func() {
		GinkgoHelper()
		if nn == nil {
			skipLacking(c, "node-netns", "cannot enter the nodes' network namespaces to look at their trunks")
		}
	}
	pod := func(ctx SpecContext, node, network string, ips ...string) *cluster.Pod {
		ns := "e2e"
		if network == "vl200" {
			ns = "other"
		}
		quoted := make([]string, len(ips))
		for i, ip := range ips {
			quoted[i] = fmt.Sprintf("%q", ip)
		}
		ann := npwg(fmt.Sprintf(`[{"name": %q, "interface": "net1", "ips": [%s]}]`, network, strings.Join(quoted, ", ")))
		return createPod(ctx, cluster.PodSpec{Namespace: ns, Name: podName(network), Node: node, Annotations: ann})
	}
	macOf := func(p *cluster.Pod) string {
		GinkgoHelper()
		itf, ok := p.Interface("net1")
		Expect(ok).To(BeTrue())
		return itf.MAC
	}
	nodeNetns := func(node string) string {
		GinkgoHelper()
		p, err := nn.HostNodeNetns(node)
		Expect(err).NotTo(HaveOccurred())
		return p
	}
	addr := netip.MustParseAddr

	It("connect pods of one VLAN across nodes and on one node, keep VLAN 100 and 200 apart, and tag the trunk", func(ctx SpecContext) {
		a := pod(ctx, node1, "vl100", "10.40.0.10/24", "fd40::10/64")
		a2 := pod(ctx, node1, "vl100", "10.40.0.13/24", "fd40::13/64")
		x := pod(ctx, node1, "vl200", "10.40.0.20/24", "fd40::20/64")
		pod(ctx, node2, "vl100", "10.40.0.11/24", "fd40::11/64")
		pod(ctx, node2, "vl100", "10.40.0.14/24", "fd40::14/64")
		y := pod(ctx, node2, "vl200", "10.40.0.21/24", "fd40::21/64")
		var capture *vlanbpftest.Capture
		if nn != nil {
			var err error
			capture, err = vlanbpftest.Start(nodeNetns(node2), local.TrunkNIC)
			Expect(err).NotTo(HaveOccurred())
			defer capture.Close()
		} else {
			GinkgoWriter.Printf("reachability only, no capture of the trunk: %s\n", missingWhy(c, "node-netns"))
		}

		for _, dst := range []string{"10.40.0.11", "fd40::11", "10.40.0.14", "10.40.0.13", "fd40::13"} {
			expectReach(ctx, a, addr(dst))
		}
		// The control: VLAN 200 connects too, so a failure below is the VLAN's doing.
		expectReach(ctx, x, addr("10.40.0.21"))
		expectReach(ctx, x, addr("fd40::21"))
		for _, dst := range []string{"10.40.0.21", "fd40::21", "10.40.0.20", "fd40::20"} {
			expectNoReach(ctx, a, addr(dst))
		}
		// Knowing VLAN 200's MAC does not help: a static neighbour entry on a is no way across.
		out, err := c.Exec(ctx, a, "ip", "neigh", "replace", "10.40.0.21", "lladdr", macOf(y), "dev", "net1", "nud", "permanent")
		Expect(err).NotTo(HaveOccurred(), out)
		expectNoReach(ctx, a, addr("10.40.0.21"))
		if capture == nil {
			return
		}

		frames, err := capture.Frames()
		Expect(err).NotTo(HaveOccurred())
		vids := map[string]map[uint16]bool{}
		pods := map[string]bool{macOf(a): true, macOf(a2): true, macOf(x): true}
		for _, f := range frames {
			if f.Outgoing || !pods[f.Src.String()] {
				continue
			}
			Expect(f.Tagged).To(BeTrue(), "untagged frame of a pod on %s's trunk: %+v", node2, f)
			if vids[f.Src.String()] == nil {
				vids[f.Src.String()] = map[uint16]bool{}
			}
			vids[f.Src.String()][f.VLAN] = true
			// a and a2 share node 1: their unicast never leaves it.
			if f.Src.String() == macOf(a2) || f.Src.String() == macOf(a) && f.Dst.String() == macOf(a2) {
				Expect(f.Dst[0]&1).To(Equal(byte(1)), "same-node unicast on the trunk: %+v", f)
			}
		}
		Expect(vids).To(HaveKeyWithValue(macOf(a), map[uint16]bool{100: true}))
		Expect(vids).To(HaveKeyWithValue(macOf(x), map[uint16]bool{200: true}))
	})

	It("keep forwarding while the agent is down and after it restarts, and leave nothing behind after DEL", func(ctx SpecContext) {
		requireNodeNetns()
		lc, ok := c.(agentStopper)
		if !ok {
			skipLacking(c, "agent-stop", "cannot keep a node's agent down")
		}
		a, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("vl100"), Node: node1,
			Annotations: npwg(`[{"name": "vl100", "interface": "net1", "ips": ["10.40.0.30/24", "fd40::30/64"]}]`)})
		Expect(err).NotTo(HaveOccurred())
		deleted := false
		DeferCleanup(func(ctx SpecContext) {
			if !deleted {
				Expect(c.DeletePod(ctx, a)).To(Succeed())
			}
		})
		pod(ctx, node2, "vl100", "10.40.0.31/24", "fd40::31/64")
		expectReach(ctx, a, addr("10.40.0.31"))
		expectReach(ctx, a, addr("fd40::31"))

		// Echoes back to back, IPv4 and IPv6, from before the agent stops until after it is back:
		// not one may go unanswered for a second (the pinned programs forward on their own).
		stream := startEchoStream(ctx, echoerOf(c), a, time.Second, addr("10.40.0.31"), addr("fd40::31"))
		stream.waitAnswers(ctx, 4)
		Expect(lc.StopAgent(node1)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(lc.StartAgent(ctx, node1)).To(Succeed()) })
		stream.waitAnswers(ctx, 4)
		Expect(lc.StartAgent(ctx, node1)).To(Succeed())
		stream.waitAnswers(ctx, 4)
		answered, lost := stream.stop()
		Expect(lost).To(BeEmpty(), "echoes lost across the agent's stop and start (%d answered)", answered)
		GinkgoWriter.Printf("%d echoes answered across the agent's stop and start, none lost\n", answered)
		Expect(runtimeOf(c).Check(ctx, a)).To(Succeed(), "CHECK reads the VLAN port back after the restart")

		// The restarted agent loads its programs anew against the pinned maps, while the trunk keeps
		// the old agent's program: a pod it adds reaches the other node and the pod added before.
		a2 := pod(ctx, node1, "vl100", "10.40.0.32/24", "fd40::32/64")
		expectReach(ctx, a2, addr("10.40.0.31"))
		expectReach(ctx, a2, addr("fd40::31"))
		expectReach(ctx, a, addr("10.40.0.32"))
		Expect(c.DeletePod(ctx, a2)).To(Succeed())

		d := vlanbpf.New(vlanbpf.Options{Netns: nodeNetns(node1)})
		defer d.Close()
		Expect(d.Ports()).To(HaveLen(1))
		Expect(c.DeletePod(ctx, a)).To(Succeed())
		deleted = true
		Expect(d.Ports()).To(BeEmpty())
		st, err := d.Status()
		Expect(err).NotTo(HaveOccurred())
		_, err = os.Stat(st.Dir)
		Expect(os.IsNotExist(err)).To(BeTrue(), "node 1's pins %s are left: %v", st.Dir, err)
		trunk, err := netInterface(nodeNetns(node1), local.TrunkNIC)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.IngressPrograms(trunk)).To(BeEmpty(), "a program is left on node 1's trunk")
		links, err := inspectorOf(c).NodeLinks(ctx, node1)
		Expect(err).NotTo(HaveOccurred())
		for _, l := range links {
			// The overlay's bridges and VXLAN devices (eth0's) are shared plumbing and stay.
			if !strings.HasPrefix(l, "knbr-") && !strings.HasPrefix(l, "knvx-") {
				Expect(l).NotTo(HavePrefix("kn"), "pod veth %s is left on node 1", l)
			}
		}
	})
})

var _ = Describe("vlan networks on Kubernetes", Label("vlan", "kubernetes"), func() {
	It("keep forwarding across a kill -9 of the agent, whose restart finds the datapath where it left it", func(ctx SpecContext) {
		k := kubeOf(c)
		killer, ok := c.(containerKiller)
		if !ok {
			skipLacking(c, "kill", "cannot kill -9 a container")
		}
		mk := func(node, ip4, ip6 string) *cluster.Pod {
			return createPod(ctx, cluster.PodSpec{Namespace: "e2e", Name: podName("vl100"), Node: node,
				Annotations: npwg(fmt.Sprintf(`[{"name": "vl100", "interface": "net1", "ips": [%q, %q]}]`, ip4, ip6))})
		}
		a := mk(node1, "10.40.0.40/24", "fd40::40/64")
		mk(node2, "10.40.0.41/24", "fd40::41/64")
		expectReach(ctx, a, netip.MustParseAddr("10.40.0.41"))

		agents, err := k.Clientset().CoreV1().Pods("knitter-system").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=knitter-agent"})
		Expect(err).NotTo(HaveOccurred())
		agent := ""
		for _, p := range agents.Items {
			if p.Spec.NodeName == node1 {
				agent = p.Name
			}
		}
		Expect(agent).NotTo(BeEmpty(), "no agent pod on %s", node1)
		before, err := killer.KillContainer(ctx, "knitter-system", agent, "agent")
		Expect(err).NotTo(HaveOccurred())
		// The agent's container is gone (and with it any mount of its own): the pinned programs
		// forward on their own, before and after the kubelet restarts it.
		Expect(c.Ping(ctx, a, netip.MustParseAddr("10.40.0.41"))).To(Succeed(), "right after the kill")
		Eventually(ctx, func(ctx context.Context) error {
			now, ready, err := killer.RestartCount(ctx, "knitter-system", agent, "agent")
			if err == nil && (now <= before || !ready) {
				err = fmt.Errorf("agent %s: %d restarts (%d before), ready %v", agent, now, before, ready)
			}
			return err
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		Expect(c.Ping(ctx, a, netip.MustParseAddr("10.40.0.41"))).To(Succeed(), "after the restart")
		Expect(c.Ping(ctx, a, netip.MustParseAddr("fd40::41"))).To(Succeed(), "after the restart")
		Expect(runtimeOf(c).Check(ctx, a)).To(Succeed(), "CHECK reads the VLAN port back after the restart")
	}, NodeTimeout(4*time.Minute))
})

// netInterface returns the ifindex of ifname in the namespace at path.
func netInterface(path, ifname string) (int, error) {
	var index int
	err := ns.WithNetNSPath(path, func(ns.NetNS) error {
		itf, err := net.InterfaceByName(ifname)
		if err == nil {
			index = itf.Index
		}
		return err
	})
	return index, err
}
