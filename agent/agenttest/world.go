package agenttest

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/fakes/fakedp"
	"github.com/knitter-cni/knitter/fakes/fakepods"
)

// NodeName is the name of the node the world's agent serves.
const NodeName = "node-1"

// VTEPDevice is the world's node NIC that carries the VTEP address.
const VTEPDevice = "eth0"

// World is one node's agent with a real manager behind it, on the in-memory dataplane (or another).
type World struct {
	Mgr  *Manager
	Pods *fakepods.Pods
	// DP is the in-memory dataplane, nil in a world on another one (NewWorldOn).
	DP *fakedp.Fake
	// Dataplane is what the agent uses: DP, or the one given to NewWorldOn.
	Dataplane agent.Dataplane
	Store     *checkpoint.Files
	Agent     *agent.Agent

	mu    sync.Mutex
	netns map[string]string // container ID -> the fake pod namespace
}

// NewWorld builds the world on fakedp, with the node NICs the world's networks use, and registers
// the node.
func NewWorld(t testing.TB) *World {
	t.Helper()
	dp := fakedp.New()
	for _, nic := range []string{VTEPDevice, Uplink, MVParent} {
		dp.AddNIC(nic, 1500)
	}
	w := &World{DP: dp}
	w.init(t, dp)
	return w
}

// NewWorldOn builds the world on dp (the real netlink dataplane, say) and registers the node.
func NewWorldOn(t testing.TB, dp agent.Dataplane) *World {
	t.Helper()
	w := &World{}
	w.init(t, dp)
	return w
}

func (w *World) init(t testing.TB, dp agent.Dataplane) {
	t.Helper()
	w.Mgr, w.Pods, w.Dataplane, w.netns = NewManager(t), fakepods.New(), dp, map[string]string{}
	store, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.Store = store
	w.Agent = w.NewAgent(t)
	if err := w.Agent.Heartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Options are the agent options of the world's node.
func Options() agent.Options {
	return agent.Options{
		Node: plan.Node{Name: NodeName, VTEP: netip.MustParseAddr("192.168.0.1"), VTEPDevice: VTEPDevice,
			Uplinks: map[string]string{}, MTU: 1500},
		DNS:       wire.DNS{Nameservers: []string{"10.96.0.10"}, Search: []string{"svc.cluster.local"}},
		Logger:    slog.New(slog.DiscardHandler),
		Datapaths: []wire.Datapath{{Type: "vlan", Datapath: "tc-ebpf", Why: "the world's report"}},
	}
}

// NewAgent returns a new agent over the world's ports and store: a restart of the agent process.
func (w *World) NewAgent(t testing.TB) *agent.Agent {
	t.Helper()
	opts := Options()
	if w.DP != nil {
		opts.NetnsExists = func(p string) bool { return w.DP.Links(p) != nil }
	}
	a, err := agent.New(w.Dataplane, w.Pods, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Netns returns the fake pod namespace of container id, made on first use.
func (w *World) Netns(id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.netns[id]; ok {
		return p
	}
	p := w.DP.NewNetns()
	w.netns[id] = p
	return p
}

// Attached counts the containers whose namespace holds links.
func (w *World) Attached() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.netns {
		if len(w.DP.Links(p)) > 0 {
			n++
		}
	}
	return n
}

// Args is the CNI_ARGS a runtime passes for a pod.
func Args(namespace, name string) string {
	return "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + namespace + ";K8S_POD_NAME=" + name + ";K8S_POD_INFRA_CONTAINER_ID=x"
}

// Config is the network configuration name of the world's CNI calls.
const Config = "knitter"

// AddRequest is the ADD of container id for pod namespace/name, in the container's namespace,
// under the network configuration Config.
func (w *World) AddRequest(id, namespace, name string) wire.Request {
	return wire.Request{CNIVersion: "1.1.0", Name: Config, ContainerID: id, Netns: w.Netns(id), IfName: "eth0", Args: Args(namespace, name)}
}

// Request is a DEL or CHECK of container id's eth0.
func (w *World) Request(id string) wire.Request {
	return wire.Request{ContainerID: id, IfName: "eth0", Netns: w.Netns(id)}
}
