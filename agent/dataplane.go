package agent

import (
	"context"

	"github.com/knitter-cni/knitter/core/plan"
)

// Dataplane builds and removes pods' links on this node. The real adapter is adapters/netlinkdp
// (netlink + network namespaces); fakes/fakedp keeps links in memory for tests and the simulator.
// Both pass the same contract test.
type Dataplane interface {
	// Attach builds every link of pod in order: node plumbing (bridges, VXLAN devices and their
	// forwarding entries, uplink enslaving — created if missing, shared between pods), then the pod's
	// interfaces with their MAC, MTU, addresses and routes, up. It is idempotent: links that already
	// exist as planned are kept. If it fails, it removes what it created for this pod (shared node
	// plumbing stays) and returns the error.
	Attach(ctx context.Context, pod plan.Pod) error
	// Detach removes the pod's links (veth host ends, macvlans, VFs given back to their PF). It is
	// idempotent: a missing link or a netns that is already gone is success. Shared node plumbing
	// stays.
	Detach(ctx context.Context, pod plan.Pod) error
	// Check reports the first difference between the pod's links and the plan (missing interface,
	// wrong MAC, address or route), or nil.
	Check(ctx context.Context, pod plan.Pod) error
	// SyncPeers sets the forwarding entries of this node's VXLAN device for vni to exactly peers.
	SyncPeers(ctx context.Context, vxlan plan.VXLAN) error
	// CheckNetns reports why no pod may be attached in the namespace at path, nil if one may: it
	// must be a network namespace (not a uts or mount one), one the agent can enter, and neither the
	// node's namespace nor the agent's own — compared by identity (device and inode), so that another
	// path to the same namespace is refused too. A path that does not exist is model.CodeNotFound;
	// every other refusal is model.CodeInvalid on "CNI_NETNS". Detach never needs it: a namespace
	// that cannot be entered is treated as gone, and the node side is still cleaned.
	CheckNetns(ctx context.Context, path string) error
}
