package agent

import (
	"context"
	"errors"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// ErrUnavailable marks a failure that a retry may cure: the manager or the API server is down or
// not the leader. Ports wrap it (or return a *model.Error of model.CodeUnavailable); the agent
// answers such failures with CNI's "try again later".
var ErrUnavailable = errors.New("unavailable; retry shortly")

// PodKey identifies the pod of a CNI call, from CNI_ARGS.
type PodKey struct {
	Namespace string
	Name      string
	// UID is K8S_POD_UID when the runtime passes it; empty otherwise.
	UID string
}

// String formats k as "namespace/name".
func (k PodKey) String() string { return k.Namespace + "/" + k.Name }

// PodInfo is what the agent needs to know of a pod.
type PodInfo struct {
	Ref         model.PodRef
	Annotations map[string]string
	// Owner is the sticky key of the pod's addresses ("statefulset/ns/web/0"), empty if none.
	Owner string
}

// PodSource finds pods. The real adapters read the API server (adapters/kube) or, on a node
// without one, pod files (adapters/podfile); fakes/fakepods keeps them in memory. All pass
// agent/porttest's contract.
type PodSource interface {
	// Pod returns the pod named by k. A pod that does not exist (or whose UID is not k.UID) is a
	// model.CodeNotFound error; an unreachable source wraps ErrUnavailable.
	Pod(ctx context.Context, k PodKey) (PodInfo, error)
}

// ClusterSource is the optional part of a PodSource that knows namespaces and
// NetworkAttachmentDefinitions (adapters/kube does). The agent reads them only when it allocates a
// pod itself — the monitor has not — so that it resolves the pod as the monitor would (core/podnet):
// the namespace's knitter.io/tenant override and the NADs its NPWG elements name. Without it the
// tenant is the namespace's name and no NPWG name has a definition.
type ClusterSource interface {
	// NamespaceAnnotations returns namespace ns's annotations; nil when it does not exist.
	NamespaceAnnotations(ctx context.Context, ns string) (map[string]string, error)
	// NADConfig is the spec.config of NetworkAttachmentDefinition ns/name; found is false when
	// there is none (or the CRD is not installed).
	NADConfig(ctx context.Context, ns, name string) (config string, found bool, err error)
}

// ManagerClient is what the agent asks of knitter-manager. The real adapter is the REST client
// (adapters/httpapi.AgentClient); fakes/fakemanager calls an in-process manager. Both pass
// agent/porttest's contract. Errors are *model.Error values; those that mean "retry later" wrap
// ErrUnavailable.
type ManagerClient interface {
	// Pod returns a pod's allocation, model.CodeNotFound if it has none.
	Pod(ctx context.Context, uid string) (model.Pod, error)
	// AllocatePod allocates every port of a pod; it is idempotent by pod UID.
	AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, error)
	// BindPod records that the pod's ports are built on node — binding again to the same node
	// changes nothing, to another node is a model.CodeConflict error — and returns the pod with the
	// networks its ports are on: all that an ADD needs from the manager, in one call.
	BindPod(ctx context.Context, uid, node string) (Binding, error)
	// Tenant returns a tenant (for its default network).
	Tenant(ctx context.Context, name string) (model.Tenant, error)
	// Network returns a network by tenant and name.
	Network(ctx context.Context, tenant, name string) (model.Network, error)
	// RegisterNode registers the node or refreshes its heartbeat.
	RegisterNode(ctx context.Context, n model.Node) error
	// WatchNodes returns the registered nodes as soon as the node set's revision is not since (at
	// once for ""), or an unchanged answer (Changed false, no nodes) when nothing changed within
	// the client's wait or before ctx ended. node is this agent's node and applied the revision
	// whose peers it has programmed ("" for none yet): the manager's peer gate counts on them.
	WatchNodes(ctx context.Context, node, applied, since string) (NodeSet, error)
	// WaitPeersApplied waits up to wait until every live agent, this node's included, has applied
	// a node set holding this node's registration; behind names those that had not by then.
	WaitPeersApplied(ctx context.Context, node string, wait time.Duration) (behind []string, err error)
}

// Binding is BindPod's answer.
type Binding struct {
	// Pod is the pod's allocation, bound to the node.
	Pod model.Pod
	// Networks are the networks of the pod's ports by "tenant/name", read with the pod. A manager
	// that cannot answer with them (one older than the agent) leaves it nil, and the agent reads
	// the networks it lacks one by one (Network).
	Networks map[string]model.Network
}

// NodeSet is one answer of a node watch.
type NodeSet struct {
	// Revision names the node set; pass it to the next WatchNodes.
	Revision string
	// Changed says Nodes is the node set at Revision; false means it did not change since.
	Changed bool
	Nodes   []model.Node
}

// transient reports whether err is worth retrying later as it is.
func transient(err error) bool {
	return errors.Is(err, ErrUnavailable) || model.CodeOf(err) == model.CodeUnavailable ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
