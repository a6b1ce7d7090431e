// Package cluster is what Knitter's end-to-end specs run against: a Cluster of nodes with a manager,
// on which pods are created and deleted the way a container runtime would. Each world that can run
// the suite — the local machine's network namespaces (package local), the simulator (package sim)
// and a real Kubernetes cluster (package kube) — is a driver implementing Cluster, so that the same
// specs run on every one.
//
// Some specs need more than every driver can give: making CNI calls for a pod directly, or looking at
// a node's checkpoints. Those abilities are optional interfaces (Runtime, Inspector) that specs
// type-assert, skipping with a message where a driver lacks them.
package cluster

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/knitter-cni/knitter/adapters/httpapi"
)

// Cluster is one running Knitter installation that specs drive.
type Cluster interface {
	// Nodes lists the cluster's nodes in a stable order.
	Nodes() []Node
	// CreatePod creates a pod on spec.Node and attaches it through knitter-plugin ADD. When the pod
	// object was made but ADD failed, CreatePod returns the pod together with the error, so that the
	// caller can look at what is left and must DeletePod it.
	CreatePod(ctx context.Context, spec PodSpec) (*Pod, error)
	// DeletePod detaches the pod (plugin DEL), removes its sandbox and releases its ports, as deleting
	// a pod object does. Deleting a pod twice is no error.
	DeletePod(ctx context.Context, pod *Pod) error
	// Exec runs argv inside the pod's network namespace and returns its combined output.
	Exec(ctx context.Context, pod *Pod, argv ...string) (string, error)
	// Ping sends ICMP echoes from inside the pod to dst until one is answered (nil) or ctx ends.
	Ping(ctx context.Context, from *Pod, dst netip.Addr) error
	// ManagerClient is an admin client of the cluster's knitter-manager.
	ManagerClient() *httpapi.Client
	// StopManager stops knitter-manager; its state survives for StartManager.
	StopManager(ctx context.Context) error
	// StartManager starts knitter-manager again and waits until it serves.
	StartManager(ctx context.Context) error
	// Down removes everything the cluster made. It is safe to call twice.
	Down(ctx context.Context) error
}

// Node is one node of a cluster.
type Node struct {
	Name string
	// VTEP is the node's underlay address, its VXLAN tunnel endpoint.
	VTEP netip.Addr
}

// PodSpec is the part of a Kubernetes pod that Knitter looks at.
type PodSpec struct {
	Namespace string
	Name      string
	// Node is the node the pod runs on (a name from Nodes).
	Node string
	// Annotations are the pod's annotations, such as k8s.v1.cni.cncf.io/networks.
	Annotations map[string]string
}

// Pod is a pod the cluster created.
type Pod struct {
	Namespace string
	Name      string
	UID       string
	Node      string
	// ContainerID is the pod sandbox's ID as the runtime passed it to CNI.
	ContainerID string
	// Netns is the path of the sandbox's network namespace.
	Netns string
	// Result is knitter-plugin's ADD result; nil when ADD failed.
	Result *types100.Result
	// Interfaces are the pod's interfaces read back from the kernel after ADD, loopback excluded.
	Interfaces []Interface
}

// Key is "namespace/name".
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// Interface returns the pod's interface called name, read back after ADD.
func (p *Pod) Interface(name string) (Interface, bool) {
	for _, i := range p.Interfaces {
		if i.Name == name {
			return i, true
		}
	}
	return Interface{}, false
}

// Interface is one network interface inside a pod, as the kernel reports it.
type Interface struct {
	Name string
	MAC  string
	MTU  int
	// Addrs are its global-scope addresses, IPv4 first (link-local IPv6 addresses are left out).
	Addrs []netip.Prefix
}

// Runtime is implemented by drivers that let a spec make CNI calls for an existing pod itself, as a
// container runtime retrying or cleaning up would.
type Runtime interface {
	// Add runs CNI ADD for the pod's sandbox again and returns the result.
	Add(ctx context.Context, pod *Pod) (*types100.Result, error)
	// Del runs CNI DEL for the pod's sandbox; the sandbox stays.
	Del(ctx context.Context, pod *Pod) error
	// Check runs CNI CHECK for the pod's sandbox.
	Check(ctx context.Context, pod *Pod) error
}

// Inspector is implemented by drivers that can look inside nodes and sandboxes.
type Inspector interface {
	// PodInterfaces reads the pod's interfaces from the kernel now.
	PodInterfaces(ctx context.Context, pod *Pod) ([]Interface, error)
	// Checkpoints lists the attachments node's agent has checkpointed, as "containerID@ifname".
	Checkpoints(ctx context.Context, node string) ([]string, error)
	// NodeLinks lists the names of the links in node's network namespace.
	NodeLinks(ctx context.Context, node string) ([]string, error)
}

// Faults is implemented by drivers that can lose a pod's DEL the ways real clusters do, and restart a
// node's agent.
type Faults interface {
	// ForgetPod deletes the pod object and releases its ports without any DEL, as a forced delete
	// whose DEL a meta-plugin dropped: the sandbox and its interfaces stay.
	ForgetPod(ctx context.Context, pod *Pod) error
	// KillSandbox removes the pod's sandbox network namespace without any DEL.
	KillSandbox(ctx context.Context, pod *Pod) error
	// RestartAgent stops node's agent, runs while with the agent down, then starts the agent again
	// and waits until it serves.
	RestartAgent(ctx context.Context, node string, while func() error) error
}

// AgentMetrics is implemented by drivers that can read a node agent's metrics.
type AgentMetrics interface {
	// AgentMetric returns the value of one series on node's agent, named as the text exposition
	// writes it (knitter_agent_orphans_reclaimed_total{reason="pod_gone"}); an error when the agent
	// does not serve that series.
	AgentMetric(ctx context.Context, node, series string) (float64, error)
}

// NodeAdder is implemented by drivers that can add a node to the running cluster.
type NodeAdder interface {
	// AddNode adds a node, starts its agent, and returns once the agent serves.
	AddNode(ctx context.Context) (Node, error)
}

// AgentPauser is implemented by drivers that can freeze a node's agent, as an overloaded or
// swapped-out node does: it holds its connections but handles nothing.
type AgentPauser interface {
	// PauseAgent stops node's agent from running until resume is called; its process and
	// connections stay.
	PauseAgent(node string) (resume func() error, err error)
}

// Echoer is implemented by drivers that can send a single ICMP echo from a pod.
type Echoer interface {
	// Echo sends exactly one echo from the pod to dst and waits up to timeout for its reply; an
	// error says none came.
	Echo(ctx context.Context, from *Pod, dst netip.Addr, timeout time.Duration) error
}

// RawCall is one CNI call a runtime makes as it likes, right or wrong.
type RawCall struct {
	// Node is the node whose network configuration list and plugin are used.
	Node string
	// ConfName replaces the configuration list's name when not empty (another configuration's GC).
	ConfName    string
	ContainerID string
	// Netns is CNI_NETNS.
	Netns string
	// Namespace and Name are the pod's, in CNI_ARGS.
	Namespace, Name string
	// Valid are GC's valid attachments, as "containerID@ifname".
	Valid []string
}

// Apply renames list for the call's ConfName, if any, and returns the call's runtime configuration
// for the pod interface ifName: what every driver's RawRuntime hands libcni.
func (call RawCall) Apply(list *libcni.NetworkConfigList, ifName string) *libcni.RuntimeConf {
	if call.ConfName != "" {
		list.Name = call.ConfName
		for _, p := range list.Plugins {
			p.Network.Name = call.ConfName
		}
	}
	return &libcni.RuntimeConf{ContainerID: call.ContainerID, NetNS: call.Netns, IfName: ifName,
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", call.Namespace}, {"K8S_POD_NAME", call.Name}}}
}

// GCArgs are the call's valid attachments as libcni's GC takes them.
func (call RawCall) GCArgs() *libcni.GCArgs {
	args := &libcni.GCArgs{}
	for _, v := range call.Valid {
		id, ifname, _ := strings.Cut(v, "@")
		args.ValidAttachments = append(args.ValidAttachments, types.GCAttachment{ContainerID: id, IfName: ifname})
	}
	return args
}

// PodRuntimeConf is what a Kubernetes runtime passes for a pod's sandbox: its container ID, the
// path of its network namespace, the interface and the kubelet's CNI_ARGS.
func PodRuntimeConf(containerID, netns, ifName, namespace, name, uid string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: containerID, NetNS: netns, IfName: ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", namespace},
			{"K8S_POD_NAME", name},
			{"K8S_POD_INFRA_CONTAINER_ID", containerID},
			{"K8S_POD_UID", uid},
		}}
}

// RawRuntime is implemented by drivers that let a spec call the plugin as a buggy or hostile
// runtime would: any CNI_NETNS, any configuration name.
type RawRuntime interface {
	RawAdd(ctx context.Context, call RawCall) error
	RawDel(ctx context.Context, call RawCall) error
	RawGC(ctx context.Context, call RawCall) error
	// NodeNetns returns the path of node's own network namespace.
	NodeNetns(node string) (string, error)
}
