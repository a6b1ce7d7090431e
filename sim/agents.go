package sim

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/fakes/fakecheckpoints"
	"github.com/knitter-cni/knitter/fakes/fakedp"
	"github.com/knitter-cni/knitter/fakes/fakemanager"
	"github.com/knitter-cni/knitter/fakes/fakepods"
)

// node is one simulated node: the real agent shell over the in-memory dataplane, pod source and
// checkpoint store, calling the manager in-process.
type node struct {
	name   string
	agent  *agent.Agent
	dp     *fakedp.Fake
	client *fakemanager.Client
	// mc is what the agent calls the manager through: client, or a planted wrapper of it.
	mc    agent.ManagerClient
	store *fakecheckpoints.Fake
	opts  agent.Options
	pods  *fakepods.Pods
	netns map[string]string // container id -> the fake namespace
	// gone: the node was removed (its agent and dataplane are no more); released: the manager
	// acknowledged forgetting it and releasing its pods (ReleaseNode).
	gone, released bool
	// cordoned: the node is being drained; no new pod goes to it.
	cordoned bool
}

// restart is an agent process crash and start: what the checkpoint store did not write durably is
// lost, and the new agent knows only what the store holds. With lose, the store is lost entirely.
func (nd *node) restart(lose bool) error {
	if lose {
		nd.store = fakecheckpoints.New()
	} else {
		nd.store.Crash()
	}
	mc := nd.mc
	if mc == nil {
		mc = nd.client
	}
	a, err := agent.New(nd.dp, nd.pods, mc, nd.store, nd.opts)
	if err != nil {
		return fmt.Errorf("restarting the agent of %s: %w", nd.name, err)
	}
	nd.agent = a
	return nil
}

// nodes are the simulated nodes and the pod source they share (the API server's pods).
type nodes struct {
	list     []*node
	pods     *fakepods.Pods
	byName   map[string]int // node name -> index in list
	released int            // removed nodes whose release the manager acknowledged
	// nics are the NICs of every node's dataplane (eth0, the VTEP's, unless set).
	nics []string
	// wrap, when set, wraps each node's manager client as the agent sees it (a plant).
	wrap func(*fakemanager.Client) agent.ManagerClient
	// sched caches schedulable's answer (every new pod asks; at 5,000 nodes a fresh slice per pod
	// was most of the scale run's garbage); nil until asked, and after changed.
	sched []int
}

// changed drops the cached schedulable list: call it whenever a node joins or its gone or
// cordoned mark changes.
func (ns *nodes) changed() { ns.sched = nil }

// newNodes starts n nodes whose dataplanes have the NICs given (eth0 alone if none), their agents
// calling the manager through wrap's wrapper of their clients when wrap is set.
func newNodes(n int, sys *system, nics []string, wrap func(*fakemanager.Client) agent.ManagerClient) (*nodes, error) {
	ns := &nodes{pods: fakepods.New(), byName: map[string]int{}, nics: nics, wrap: wrap}
	if len(nics) == 0 {
		ns.nics = []string{"eth0"}
	}
	for range n {
		if _, err := ns.join(sys); err != nil {
			return nil, err
		}
	}
	return ns, nil
}

// join adds a node (node-N, N one past the last, with the next VTEP) with a new agent over an
// empty dataplane and checkpoint store, its client pointed at the leader.
func (ns *nodes) join(sys *system) (*node, error) {
	i := len(ns.list)
	dp := fakedp.New()
	for _, nic := range ns.nics {
		dp.AddNIC(nic, 1500)
	}
	nd := &node{name: fmt.Sprintf("node-%d", i+1), dp: dp, client: fakemanager.New(sys.mgr), store: fakecheckpoints.New(),
		pods: ns.pods, netns: map[string]string{}}
	nd.client.SetDown(sys.mgr == nil)
	nd.opts = agent.Options{
		Node: plan.Node{Name: nd.name, VTEP: vtep(i), VTEPDevice: "eth0",
			Uplinks: map[string]string{}, MTU: 1500},
		NetnsExists: func(p string) bool { return dp.Links(p) != nil },
		Logger:      slog.New(slog.DiscardHandler),
	}
	nd.mc = nd.client
	if ns.wrap != nil {
		nd.mc = ns.wrap(nd.client)
	}
	a, err := agent.New(dp, ns.pods, nd.mc, nd.store, nd.opts)
	if err != nil {
		return nil, fmt.Errorf("starting the agent of %s: %w", nd.name, err)
	}
	nd.agent = a
	ns.byName[nd.name] = len(ns.list)
	ns.list = append(ns.list, nd)
	ns.changed()
	return nd, nil
}

// live returns the indexes of the nodes not removed, in order.
func (ns *nodes) live() []int {
	var out []int
	for i, nd := range ns.list {
		if !nd.gone {
			out = append(out, i)
		}
	}
	return out
}

// schedulable returns the indexes of the nodes new pods may go to: not removed, not cordoned. The
// slice is shared until the next change: callers read it, never write it.
func (ns *nodes) schedulable() []int {
	if ns.sched != nil {
		return ns.sched
	}
	out := []int{}
	for i, nd := range ns.list {
		if !nd.gone && !nd.cordoned {
			out = append(out, i)
		}
	}
	ns.sched = out
	return out
}

// standing returns the nodes not removed, in order.
func (ns *nodes) standing() []*node {
	var out []*node
	for _, i := range ns.live() {
		out = append(out, ns.list[i])
	}
	return out
}

// reboot is a node crash and boot: every pod namespace on it is gone (its links with it), and the
// agent starts again over what its checkpoint store wrote durably (lose: over nothing).
func (nd *node) reboot(lose bool) error {
	for _, id := range slices.Sorted(maps.Keys(nd.netns)) {
		nd.dp.Gone(nd.netns[id])
	}
	return nd.restart(lose)
}

// vtep is node i's VTEP: 192.168.0.1 onwards, counting on past the last octet (node 255 is
// 192.168.1.0), so 60,000 nodes have distinct ones.
func vtep(i int) netip.Addr {
	n := uint32(192)<<24 | uint32(168)<<16 + uint32(i+1)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// retarget points every agent's client at the running manager (after a restart); with none
// running, the clients answer unavailable. In a partition the first standing node's agent reaches
// the cut-off manager instead.
func (ns *nodes) retarget(sys *system) {
	var cut *node
	if standing := ns.standing(); sys.zombie != nil && len(standing) > 0 {
		cut = standing[0]
	}
	for _, nd := range ns.list {
		if nd == cut {
			nd.client.M = sys.zombie
			nd.client.SetDown(false)
			continue
		}
		if sys.mgr != nil {
			nd.client.M = sys.mgr
		}
		nd.client.SetDown(sys.mgr == nil)
	}
}

// sandboxID is the container id of p's current sandbox: c-UID, then c-UID.N for the N-th
// recreation.
func sandboxID(p *simPod) string {
	if p.sandbox == 0 {
		return "c-" + p.uid
	}
	return "c-" + p.uid + "." + strconv.Itoa(p.sandbox)
}

// sandboxUID is the pod UID a container id names.
func sandboxUID(id string) string {
	uid, _, _ := strings.Cut(strings.TrimPrefix(id, "c-"), ".")
	return uid
}

// add is the runtime's CNI ADD of p's sandbox on its node.
func (ns *nodes) add(p *simPod) error {
	nd := ns.list[p.node]
	ns.pods.PutInfo(agent.PodInfo{Ref: model.PodRef{UID: p.uid, Namespace: p.tenant, Name: p.name}, Owner: agentOwner(p)})
	id := sandboxID(p)
	path, ok := nd.netns[id]
	if !ok {
		path = nd.dp.NewNetns()
		nd.netns[id] = path
	}
	_, err := nd.agent.Add(context.Background(), wire.Request{CNIVersion: "1.1.0", Name: "knitter", ContainerID: id,
		Netns: path, IfName: "eth0", Args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + p.tenant + ";K8S_POD_NAME=" + p.name + ";K8S_POD_UID=" + p.uid})
	return err
}

// del is the runtime's CNI DEL of p's sandbox.
func (ns *nodes) del(p *simPod) error {
	nd := ns.list[p.node]
	id := sandboxID(p)
	return nd.agent.Del(context.Background(), wire.Request{ContainerID: id, IfName: "eth0", Netns: nd.netns[id]})
}

// heartbeat registers every node, as the agents' loops do.
func (ns *nodes) heartbeat() {
	for _, nd := range ns.list {
		if !nd.gone {
			_ = nd.agent.Heartbeat(context.Background())
		}
	}
}

// attached returns how many sandboxes hold links on the nodes not removed.
func (ns *nodes) attached() int {
	n := 0
	for _, nd := range ns.list {
		if nd.gone {
			continue
		}
		for _, path := range nd.netns {
			if len(nd.dp.Links(path)) > 0 {
				n++
			}
		}
	}
	return n
}

// sandboxAddrs returns the addresses on p's current sandbox's links, in link order.
func (ns *nodes) sandboxAddrs(p *simPod) []netip.Addr {
	nd := ns.list[p.node]
	var out []netip.Addr
	for _, l := range nd.dp.Links(nd.netns[sandboxID(p)]) {
		for _, a := range l.Addrs {
			out = append(out, a.Addr())
		}
	}
	return out
}
