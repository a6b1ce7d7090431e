// Package dataplanetest is the contract every agent.Dataplane passes: the real netlink adapter in
// throwaway network namespaces and the in-memory fake run the same cases, so the simulator's fake
// behaves as the kernel does where the agent can tell.
package dataplanetest

import (
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/agent"
)

// The node every Node provides: NICs (up, MTU 1500) standing in for physical ones.
const (
	// Underlay carries the node's VTEP address.
	Underlay = "kn-under0"
	// Trunk is the uplink of vlan networks: one NIC carries all their VLANs.
	Trunk = "kn-trunk0"
	// Parent is the parent NIC of macvlan networks.
	Parent = "kn-mvl0"
	// PF is the SR-IOV physical function, with VFs VFs of it (Features.SRIOV).
	PF = "kn-pf0"
	// VFs is how many VFs PF has.
	VFs = 2
)

// VTEP is the node's VXLAN source address, on Underlay.
var VTEP = netip.MustParseAddr("192.0.2.1")

// Node is one fresh node of the world under test, and the means to make pods' namespaces on it and
// look at it. Implementations fail the test (t.Fatal) on errors of their own.
type Node interface {
	// Dataplane is the implementation under test, acting for this node.
	Dataplane() agent.Dataplane
	// NewNetns makes an empty network namespace for a pod and returns its path.
	NewNetns(t testing.TB) string
	// DeleteNetns removes a pod's namespace as the runtime does when the sandbox dies.
	DeleteNetns(t testing.TB, path string)
	// NodeNetns is the path of the node's own network namespace (a private one in tests).
	NodeNetns(t testing.TB) string
	// ForeignNamespace is the path of a namespace file that is not a network namespace.
	ForeignNamespace(t testing.TB) string
	// Links returns the sorted names of the interfaces in a pod's namespace, or on the node for "",
	// without the loopback.
	Links(t testing.TB, netns string) []string
	// Master returns the name of the bridge that the node interface ifname is a port of; "" if none.
	Master(t testing.TB, ifname string) string
	// FDB returns the sorted VTEPs of the flood entries of the node's VXLAN device vxlan.
	FDB(t testing.TB, vxlan string) []netip.Addr
	// VLANPorts returns the sorted "host_if/vlan" of the pod veths whose VLANs the node's VLAN
	// datapath carries on trunk; none when the node has no vlan pods on it.
	VLANPorts(t testing.TB, trunk string) []string
}

// Features says what the world under test can build.
type Features struct {
	// SRIOV: PF exists with VFs VFs, and the dataplane has a pool for it.
	SRIOV bool
}
