package netlinkdp_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/adapters/sriov"
	"github.com/knitter-cni/knitter/adapters/sriov/sriovtest"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/dataplanetest"
)

// testNode is a node made of a fresh namespace: veth pairs stand in for its NICs (each peer end
// stays on the node, up, so the NIC has carrier), and VFs are veths listed in a fake sysfs tree.
type testNode struct {
	w      *world
	path   string
	dp     *netlinkdp.Dataplane
	config *sriovtest.Recorder
	sysfs  string
}

// nodeNICs are the contract's NICs; VFs come on top.
var nodeNICs = []string{dataplanetest.Underlay, dataplanetest.Trunk, dataplanetest.Parent, dataplanetest.PF}

// vfName is the netdev name of the i-th VF of the test node's PF.
func vfName(i int) string { return fmt.Sprintf("kn-vf%d", i) }

func newTestNode(w *world, sysfsRoot string) (*testNode, error) {
	path, err := w.netns()
	if err != nil {
		return nil, err
	}
	for _, nic := range nodeNICs {
		var addr netip.Prefix
		if nic == dataplanetest.Underlay {
			addr = netip.PrefixFrom(dataplanetest.VTEP, 24)
		}
		if err := vethPair(path, nic, path, nic+"-p", addr); err != nil {
			return nil, err
		}
	}
	var vfs []string
	for i := range dataplanetest.VFs {
		vfs = append(vfs, vfName(i))
		if err := vethPair(path, vfName(i), path, vfName(i)+"-p", netip.Prefix{}); err != nil {
			return nil, err
		}
	}
	if err := sriovtest.WriteTree(sysfsRoot, dataplanetest.PF, 1, vfs); err != nil {
		return nil, err
	}
	pool, err := sriov.NewPool(sriov.Options{Root: sysfsRoot})
	if err != nil {
		return nil, err
	}
	rec := &sriovtest.Recorder{}
	dp, err := netlinkdp.New(netlinkdp.Options{HostNetns: path, VFs: pool, VFConfig: rec, VLANPinDir: pinDir})
	if err != nil {
		return nil, err
	}
	return &testNode{w: w, path: path, dp: dp, config: rec, sysfs: sysfsRoot}, nil
}

// contractNode adapts a testNode to the contract's Node, failing the test on errors.
type contractNode struct{ *testNode }

func (n contractNode) Dataplane() agent.Dataplane { return n.dp }

func (n contractNode) NewNetns(t testing.TB) string {
	p, err := n.w.netns()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (n contractNode) NodeNetns(testing.TB) string { return n.path }

// ForeignNamespace is this process's uts namespace: a namespace file that is not a network one.
func (n contractNode) ForeignNamespace(testing.TB) string { return "/proc/self/ns/uts" }

func (n contractNode) DeleteNetns(t testing.TB, path string) {
	if err := n.w.remove(path); err != nil {
		t.Fatal(err)
	}
}

func (n contractNode) Links(t testing.TB, netns string) []string {
	if netns == "" {
		netns = n.path
	}
	names, err := linkNames(netns)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func (n contractNode) Master(t testing.TB, ifname string) string {
	m, err := master(n.path, ifname)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (n contractNode) VLANPorts(t testing.TB, trunk string) []string {
	ports, err := vlanPorts(n.path, trunk)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

func (n contractNode) FDB(t testing.TB, vxlan string) []netip.Addr {
	a, err := fdb(n.path, vxlan)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestContract(t *testing.T) {
	if !isRoot() {
		t.Skip("needs root to make network namespaces")
	}
	dataplanetest.Run(t, func(t *testing.T) dataplanetest.Node {
		w := newWorld()
		n, err := newTestNode(w, filepath.Join(t.TempDir(), "sys"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			n.dp.Close()
			if err := w.close(n.path); err != nil {
				t.Error(err)
			}
		})
		return contractNode{n}
	}, dataplanetest.Features{SRIOV: true})
}
