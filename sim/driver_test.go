package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/core/plan"
)

// clusterPod is one pod of a driver test: its node, sandbox and the ADD's answer.
type clusterPod struct {
	node, netns string
	status      int
	res         wire.Response
	answer      string
}

// addPod creates a pod object and runs its ADD through the node's agent handler.
func addPod(t *testing.T, c *Cluster, node, ns, name string, annotations map[string]string) clusterPod {
	t.Helper()
	uid := "uid-" + name
	c.PutPod(ns, name, uid, annotations)
	netns, err := c.NewNetns(node)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.Request{CNIVersion: "1.1.0", Name: "knitter", ContainerID: "c-" + name, Netns: netns, IfName: "eth0",
		Args: fmt.Sprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_UID=%s", ns, name, uid)})
	status, answer, err := c.CNI(node, wire.VerbAdd, body)
	if err != nil {
		t.Fatal(err)
	}
	p := clusterPod{node: node, netns: netns, status: status, answer: string(answer)}
	if status == 200 {
		if err := json.Unmarshal(answer, &p.res); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (p clusterPod) addr(t *testing.T) netip.Addr {
	t.Helper()
	if p.res.Result == nil || len(p.res.Result.IPs) == 0 {
		t.Fatalf("pod in %s has no address: %d %s", p.netns, p.status, p.answer)
	}
	return netip.MustParsePrefix(p.res.Result.IPs[0].Address).Addr()
}

// newTestCluster is two nodes with tenants a and b, each with an overlay network on one subnet.
func newTestCluster(t *testing.T, seed uint64) *Cluster {
	t.Helper()
	c, err := NewCluster(ClusterConfig{Seed: seed, Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []string{"a", "b"} {
		for _, cmd := range []alloc.Command{
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: tn}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: tn, Name: "net", Type: model.Overlay,
				IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.5.0.0/24")}}},
			alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: tn, DefaultNetwork: "net"}},
		} {
			if _, err := c.Manager().Do(context.Background(), cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// The real shells attach pods on two nodes; pods of one overlay reach each other across nodes,
// pods of another overlay on the same subnet (another VNI) do not.
func TestClusterAttachesAndReaches(t *testing.T) {
	c := newTestCluster(t, 1)
	a1 := addPod(t, c, "node1", "a", "a1", nil)
	a2 := addPod(t, c, "node2", "a", "a2", nil)
	b1 := addPod(t, c, "node2", "b", "b1", map[string]string{netspec.NPWGAnnotation: `[{"name": "net", "interface": "eth0", "ips": ["10.5.0.99/24"]}]`})
	if err := c.Reach("node1", a1.netns, a2.addr(t)); err != nil {
		t.Fatalf("a1 cannot reach a2: %v", err)
	}
	if err := c.Reach("node2", a2.netns, a1.addr(t)); err != nil {
		t.Fatalf("a2 cannot reach a1: %v", err)
	}
	err := c.Reach("node1", a1.netns, b1.addr(t))
	if err == nil || !strings.Contains(err.Error(), "another segment") {
		t.Fatalf("a1 to b1 (another VNI): %v; want no reach, another segment", err)
	}
	cps, err := c.Checkpoints("node1")
	if err != nil || len(cps) != 1 || cps[0] != "c-a1@eth0" {
		t.Fatalf("node1's checkpoints: %v %v", cps, err)
	}
}

// With the manager stopped ADD fails as try-again-later, and works once it is back; the same seed
// and calls give the same trace.
func TestClusterManagerRestartDeterministic(t *testing.T) {
	run := func() string {
		c := newTestCluster(t, 7)
		if err := c.StopManager(); err != nil {
			t.Fatal(err)
		}
		p := addPod(t, c, "node1", "a", "x", nil)
		if p.status == 200 || !strings.Contains(p.answer, `"code":11`) {
			t.Fatalf("ADD with the manager stopped: %d %s; want code 11", p.status, p.answer)
		}
		if err := c.StartManager(); err != nil {
			t.Fatal(err)
		}
		c.Run(3 * time.Second)
		if q := addPod(t, c, "node2", "a", "y", nil); q.status != 200 {
			t.Fatalf("ADD after the restart: %d %s", q.status, q.answer)
		}
		return c.Hash()
	}
	if h1, h2 := run(), run(); h1 != h2 {
		t.Fatalf("one seed, two traces: %s and %s", h1, h2)
	}
}

// The reachability invariant holds for pods plumbed as planned, and breaks when a pod of tenant b
// is plugged into tenant a's bridge (its VNI): a's pods then reach it, on a network they have no
// port on.
func TestCheckReachCatchesAWrongVNI(t *testing.T) {
	c := newTestCluster(t, 2)
	addPod(t, c, "node1", "a", "a1", nil)
	addPod(t, c, "node2", "a", "a2", nil)
	addPod(t, c, "node2", "b", "b1", map[string]string{netspec.NPWGAnnotation: `[{"name": "net", "interface": "eth0", "ips": ["10.5.0.99/24"]}]`})
	if err := c.CheckReach(); err != nil {
		t.Fatalf("as planned: %v", err)
	}
	dp, _ := c.Dataplane("node2")
	a2host, _ := dp.Link("", plan.HostIfName("c-a2", "eth0"))
	if !dp.SetMaster(plan.HostIfName("c-b1", "eth0"), a2host.Master) {
		t.Fatal("no veth of b1 on node2")
	}
	err := c.CheckReach()
	if err == nil || !strings.Contains(err.Error(), "reaches pod b/b1's 10.5.0.99 on b/net, a network it has no port on") {
		t.Fatalf("with b1 on a's bridge: %v", err)
	}
}

// A node's first overlay ADD right after it joins waits in the peer gate, in virtual time, until
// the other agents have applied its registration: the pod is reachable from them the moment the
// ADD returns, and the gate counts a pass, no timeout.
func TestClusterPeerGateWaits(t *testing.T) {
	c := newTestCluster(t, 5)
	a1 := addPod(t, c, "node1", "a", "a1", nil)
	n3, err := c.AddNode()
	if err != nil {
		t.Fatal(err)
	}
	before := c.Now()
	a3 := addPod(t, c, n3.Name, "a", "a3", nil)
	if err := c.Reach("node1", a1.netns, a3.addr(t)); err != nil {
		t.Fatalf("node1's pod cannot reach the new node's pod right after its ADD: %v", err)
	}
	if err := c.CheckReach(); err != nil {
		t.Fatal(err)
	}
	text, err := c.AgentMetrics(n3.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`knitter_agent_peer_gate_total{outcome="passed"} 1`} {
		if !strings.Contains(string(text), want) {
			t.Fatalf("node3's metrics lack %s:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), `outcome="timeout"} 1`) {
		t.Fatalf("the gate timed out:\n%s", text)
	}
	if waited := c.Now() - before; waited > agent.PeerGateWait {
		t.Fatalf("the ADD took %s of virtual time", waited)
	}
}
