package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// Options configure an Agent.
type Options struct {
	// Node is this node as the planner sees it: name, VTEP, uplinks, MTU.
	Node plan.Node
	// DNS goes into every ADD result whose network configuration has no "dns" of its own.
	DNS wire.DNS
	// NetnsExists reports whether a network namespace path still exists; nil means os.Stat. Reclaim
	// removes the attachments of namespaces that are gone.
	NetnsExists func(path string) bool
	// Logger gets the agent's events; nil means slog.Default().
	Logger *slog.Logger
	// Datapaths is how the dataplane builds each network type on this node; STATUS answers with it.
	Datapaths []wire.Datapath
	// Metrics count what the agent does (NewMetrics); nil records nothing.
	Metrics *Metrics
	// DeferTeardown lets DEL answer once the attachment's links are out of reach, when the dataplane
	// is a Quiescer, and leaves their removal to RunTeardowns (see teardown.go). knitter-agent sets
	// it and runs RunTeardowns; without it (the simulator, most tests) DEL removes the links before
	// it answers.
	DeferTeardown bool
}

// Agent serves one node's CNI calls. Its methods are safe for concurrent use; calls for the same
// container run one at a time.
type Agent struct {
	node        plan.Node
	dns         wire.DNS
	netnsExists func(string) bool
	log         *slog.Logger
	datapaths   []wire.Datapath
	metrics     *Metrics
	// deferTeardown is Options.DeferTeardown; teardowns wakes RunTeardowns when a DEL deferred one.
	deferTeardown bool
	teardowns     chan struct{}

	dp    Dataplane
	pods  PodSource
	mgr   ManagerClient
	store CheckpointStore
	locks keyedLocks
	// uidLocks serialise the admission of a pod's attachments (admit) by pod UID.
	uidLocks keyedLocks
	// tdLocks serialise the finishing of a container's deferred teardowns (finish). They are taken
	// with or without the container's lock, never the other way round.
	tdLocks keyedLocks

	mu sync.Mutex
	// index mirrors the checkpoint files, for GC, the VNIs in use and the status.
	index map[wire.Attachment]Checkpoint
	// peers are the other nodes' VTEPs from the last node list, filtered, sorted and compacted as
	// the planner does (peersFor) once per list, not per ADD; a new list replaces the slice, never
	// writes it in place. polled is false until one arrived.
	peers  []netip.Addr
	polled bool
	// nodesRev is the revision of the node set peers came from, "" before the first; appliedRev is
	// the last one whose peers every VNI in use was programmed with (what the node watch reports).
	nodesRev, appliedRev string
	// gated is set when the manager said every live agent had applied this node's registration
	// (peerGate), and cleared when a node set arrives without this node as it registered.
	gated bool
	// synced is the peer list last programmed per VNI, so that polls change only what changed.
	synced map[uint32][]netip.Addr
	// registered is set by the first successful heartbeat; lastErr is the last heartbeat's failure.
	registered bool
	lastErr    error
}

// New returns an agent over its ports and the checkpoints in store; it loads the checkpoints into
// memory. Call Reclaim and Heartbeat before serving.
func New(dp Dataplane, pods PodSource, mgr ManagerClient, store CheckpointStore, opts Options) (*Agent, error) {
	if dp == nil || pods == nil || mgr == nil || store == nil {
		return nil, errors.New("agent.New needs a dataplane, a pod source, a manager and a checkpoint store")
	}
	if opts.Node.Name == "" {
		return nil, errors.New("agent.New: the node needs a name (--node-name, or the NODE_NAME environment variable)")
	}
	a := &Agent{node: opts.Node, dns: opts.DNS, netnsExists: opts.NetnsExists, log: opts.Logger, datapaths: opts.Datapaths, metrics: opts.Metrics,
		deferTeardown: opts.DeferTeardown, teardowns: make(chan struct{}, 1),
		dp: dp, pods: pods, mgr: mgr, store: store,
		index: map[wire.Attachment]Checkpoint{}, synced: map[uint32][]netip.Addr{}}
	if a.netnsExists == nil {
		a.netnsExists = func(p string) bool { _, err := os.Stat(p); return err == nil }
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	cps, err := store.List()
	if err != nil {
		// Unreadable files are skipped and kept; the readable ones are still served.
		a.log.Warn("some checkpoints cannot be read", "err", err)
	}
	for _, cp := range cps {
		a.index[cp.Key()] = cp
	}
	return a, nil
}

// NodeName is the name of the node the agent serves.
func (a *Agent) NodeName() string { return a.node.Name }

// Checkpoints returns the attachments the agent holds, sorted.
func (a *Agent) Checkpoints() []Checkpoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Checkpoint, 0, len(a.index))
	for _, cp := range a.index {
		out = append(out, cp)
	}
	sortCheckpoints(out)
	return out
}

// Datapaths returns how the dataplane builds each network type on this node (Options.Datapaths).
func (a *Agent) Datapaths() []wire.Datapath { return a.datapaths }

// Status is nil once the node has been registered with the manager; before that the agent cannot
// serve ADDs, and the plugin's STATUS fails so that the runtime does not schedule pods here yet.
func (a *Agent) Status() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.registered {
		return nil
	}
	why := "no heartbeat yet"
	if a.lastErr != nil {
		why = a.lastErr.Error()
	}
	return &wire.Error{Code: wire.CodePluginNotAvailable,
		Msg: fmt.Sprintf("knitter-agent has not registered node %q with knitter-manager yet: %s", a.node.Name, why)}
}

func (a *Agent) remember(cp Checkpoint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.index[cp.Key()] = cp
}

func (a *Agent) forget(k wire.Attachment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.index, k)
}
