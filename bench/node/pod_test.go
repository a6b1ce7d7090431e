package nodebench

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// nic is one interface of the benchmark pod. Knitter's networks and the reference plugins'
// configurations are both made from it, so that the two runs make the same attachments.
type nic struct {
	ifName  string
	network string
	// macvlan hangs the NIC off parentNIC; otherwise it is a veth on a bridge (Knitter: the
	// overlay's bridge with its VXLAN device; the reference: a plain bridge).
	macvlan bool
	vni     uint32
	subnet  netip.Prefix
	// defaultRoute puts the pod's default route through the subnet's gateway; routes are more
	// destinations through it.
	defaultRoute bool
	routes       []netip.Prefix
}

// gateway is the subnet's first address.
func (n nic) gateway() netip.Addr { return n.subnet.Addr().Next() }

// physicalNetwork is the macvlan network's physical network, which the agent maps to parentNIC.
const physicalNetwork = "physnet-bench"

// podNICs is the benchmark pod: eth0 + 3 extra NICs. net2 is an overlay where a real node would
// have a VLAN port (see the package comment). The /16 subnets keep thousands of iterations clear of
// address exhaustion, released addresses cooling down before reuse.
var podNICs = []nic{
	{ifName: "eth0", network: "bench-ov1", vni: 7001, subnet: netip.MustParsePrefix("10.101.0.0/16"), defaultRoute: true},
	{ifName: "net1", network: "bench-ov2", vni: 7002, subnet: netip.MustParsePrefix("10.102.0.0/16")},
	{ifName: "net2", network: "bench-ov3", vni: 7003, subnet: netip.MustParsePrefix("10.103.0.0/16")},
	{ifName: "net3", network: "bench-mv", macvlan: true, subnet: netip.MustParsePrefix("10.104.0.0/16"),
		routes: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}},
}

// world is the manager the Knitter runs allocate from: a real manager (core + memstore) behind its
// real REST server on loopback, with podNICs' networks in tenant agenttest.Tenant.
type world struct {
	mgr *agenttest.Manager
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	mgr := agenttest.NewManager(tb)
	// The macvlan network's physical network must be granted to the tenant first.
	grant := alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: agenttest.Tenant, DefaultNetwork: agenttest.Overlay,
		PhysicalNetworks: []string{agenttest.Uplink, agenttest.MVParent, physicalNetwork}}}
	if _, err := mgr.M.Do(context.Background(), grant); err != nil {
		tb.Fatalf("grant %s: %v", physicalNetwork, err)
	}
	for _, n := range podNICs {
		sub := &model.Subnet{CIDR: n.subnet, Gateway: n.gateway()}
		for _, r := range n.routes {
			sub.Routes = append(sub.Routes, model.Route{Dst: r})
		}
		net := model.Network{Tenant: agenttest.Tenant, Name: n.network, Type: model.Overlay, VNI: n.vni, IPv4: sub}
		if n.macvlan {
			net.Type, net.VNI, net.PhysicalNetwork = model.MACVLAN, 0, physicalNetwork
		}
		if _, err := mgr.M.Do(context.Background(), alloc.CreateNetworkCmd{Network: net}); err != nil {
			tb.Fatalf("create network %s: %v", n.network, err)
		}
	}
	return &world{mgr: mgr}
}

// pod is one benchmark pod: its Kubernetes identity, its sandbox's container ID and namespace.
type pod struct {
	name, uid, containerID string
	ns                     *netNS
	closed                 bool
}

// newPod makes the namespace of pod name and, with w, allocates its ports as knitter-monitor would
// before the runtime's ADD (the reference run passes no world: host-local allocates during ADD).
// The caller closes it with closePod; if tb fails first, its namespace is removed when tb ends.
func newPod(tb testing.TB, w *world, name string) *pod {
	tb.Helper()
	n, err := newNetNS()
	if err != nil {
		tb.Fatal(err)
	}
	p := &pod{name: name, uid: "uid-" + name, containerID: "c-" + name, ns: n}
	tb.Cleanup(func() {
		if !p.closed {
			_ = p.ns.Close()
		}
	})
	if w != nil {
		var reqs []model.AttachRequest
		for _, n := range podNICs {
			reqs = append(reqs, model.AttachRequest{Network: n.network, Interface: n.ifName, DefaultRoute: n.defaultRoute})
		}
		w.mgr.Allocate(tb, model.PodRef{UID: p.uid, Namespace: agenttest.Tenant, Name: name}, reqs...)
	}
	return p
}

// closePod removes the pod's namespace and, with w, releases its ports as knitter-monitor does once
// the pod object is gone.
func closePod(tb testing.TB, w *world, p *pod) {
	tb.Helper()
	p.closed = true
	if err := p.ns.Close(); err != nil {
		tb.Error(err)
	}
	if w != nil {
		w.mgr.Release(tb, p.uid)
	}
}

// rtConf is what a runtime passes for the pod's interface ifName, with the CNI_ARGS of a Kubernetes
// pod (the agent reads the UID from K8S_POD_UID: the benchmarks have no API server).
// writeManifest writes the pod's manifest into a pod directory (an agent's --pod-dir), as a node
// without an API server describes its pods: a pod without one is gone.
func (p *pod) writeManifest(dir string) error {
	nsDir := filepath.Join(dir, agenttest.Tenant)
	if err := os.MkdirAll(nsDir, 0o755); err != nil {
		return err
	}
	m := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: %s\n  name: %s\n  uid: %s\n", agenttest.Tenant, p.name, p.uid)
	return os.WriteFile(filepath.Join(nsDir, p.name+".yaml"), []byte(m), 0o644)
}

func (p *pod) rtConf(ifName string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: p.containerID, NetNS: p.ns.Path(), IfName: ifName,
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", agenttest.Tenant},
			{"K8S_POD_NAME", p.name}, {"K8S_POD_UID", p.uid}}}
}
