package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/fakes/fakecheckpoints"
	"github.com/knitter-cni/knitter/fakes/fakedp"
	"github.com/knitter-cni/knitter/fakes/fakemanager"
	"github.com/knitter-cni/knitter/fakes/fakepods"
	"github.com/knitter-cni/knitter/manager"
)

// The virtual periods of a Cluster's background loops: those of the e2e suite's local cluster
// (e2e/cluster/local), except the node watch, which the real agent keeps open and the manager
// answers on a change; here it is a poll every PeerPoll.
const (
	LeadEvery      = 250 * time.Millisecond
	TickEvery      = time.Second
	HeartbeatEvery = 10 * time.Second
	PeerPoll       = 200 * time.Millisecond
	ReclaimEvery   = time.Second
)

// NICs every Cluster node has (MTU 1500, up): eth0 carries the VTEP; eth1 and eth2 are the
// physical networks of the same names (a trunk, a macvlan parent), one wire across all nodes.
var ClusterNICs = []string{"eth0", "eth1", "eth2"}

// ClusterConfig says what NewCluster builds.
type ClusterConfig struct {
	Seed  uint64
	Nodes int
	// AdminToken, "<id>.<secret>", is created as an admin token once the first manager serves (a
	// record in the store, as knitterctl would make it); empty makes none.
	AdminToken string
}

// Cluster is the simulator as a cluster that a caller drives call by call: the e2e suite's sim
// driver (e2e/cluster/sim) runs the suite's specs on it. It runs the real manager shell over the
// in-memory store, and on every node the real agent shell over the in-memory dataplane, pod source
// and checkpoint store, behind the agent's own HTTP handler; their loops (leader campaign, manager
// tick, heartbeat, node watch, reclaim) are events of one World. Nothing runs between calls: a call
// runs the world's events up to the virtual time it needs, on the caller's goroutine, so one seed
// and one sequence of calls always give the same trace hash. It is not safe for concurrent use.
type Cluster struct {
	w     *World
	sys   *system
	cfg   ClusterConfig
	rng   *rand.Rand
	pods  *fakepods.Pods
	nodes []*simNode
}

// simNode is one node of a Cluster: the node the fault runs have, plus the agent's HTTP handler
// and metrics, and whether its agent process runs.
type simNode struct {
	*node
	server  *agent.Server
	stopped bool
}

// NewCluster builds the cluster and runs it until the manager serves and every agent has
// registered and seen the node set.
func NewCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.Nodes < 1 || cfg.Nodes > 250 {
		return nil, fmt.Errorf("nodes: %d is out of range; give 1-250", cfg.Nodes)
	}
	w := NewWorld(cfg.Seed)
	acfg := alloc.DefaultConfig()
	c := &Cluster{w: w, sys: newSystem(w, acfg, acfg, PlantNone), cfg: cfg, rng: w.Rand("runtime"), pods: fakepods.New()}
	c.sys.changed = c.retarget
	if err := c.sys.start(); err != nil {
		return nil, err
	}
	if st := c.sys.lead(); st != "activated" {
		return nil, fmt.Errorf("the first manager did not activate: %s", st)
	}
	if cfg.AdminToken != "" {
		id, secret, ok := strings.Cut(cfg.AdminToken, ".")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("admin token: %q is not \"<id>.<secret>\"", cfg.AdminToken)
		}
		sum := sha256.Sum256([]byte(secret))
		if _, err := c.sys.mgr.Do(context.Background(), alloc.CreateTokenCmd{As: alloc.AsActor(alloc.Admin),
			Token: model.Token{ID: id, Role: model.RoleAdmin, Hash: hex.EncodeToString(sum[:])}}); err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
	}
	for range cfg.Nodes {
		if _, err := c.addNode(); err != nil {
			return nil, err
		}
	}
	var lead, tick func()
	lead = func() { w.Record("lead %s", c.sys.lead()); w.After(LeadEvery.Milliseconds(), "lead", lead) }
	tick = func() {
		if c.sys.serving() {
			w.Record("tick %v", c.sys.tick())
		}
		w.After(TickEvery.Milliseconds(), "tick", tick)
	}
	w.After(0, "lead", lead)
	w.After(TickEvery.Milliseconds(), "tick", tick)
	if err := c.runUntil(func() bool { return c.sys.serving() && c.allPolled() }, 10*time.Second); err != nil {
		return nil, fmt.Errorf("bringing the cluster up: %w", err)
	}
	return c, nil
}

// addNode builds a node with its agent and schedules the agent's loops.
func (c *Cluster) addNode() (*simNode, error) {
	i := len(c.nodes)
	dp := fakedp.New()
	for _, nic := range ClusterNICs {
		dp.AddNIC(nic, 1500)
	}
	for _, kind := range []string{"uts", "ipc", "mnt", "pid", "user", "cgroup", "time"} {
		dp.AddForeign("/proc/self/ns/"+kind, kind) // the machine's namespace files that are no network namespaces
	}
	client := fakemanager.New(c.sys.mgr)
	client.SetDown(c.sys.mgr == nil)
	nd := &simNode{node: &node{name: fmt.Sprintf("node%d", i+1), dp: dp, client: client, store: fakecheckpoints.New(),
		pods: c.pods, netns: map[string]string{}}}
	nd.opts = agent.Options{
		Node:        plan.Node{Name: nd.name, VTEP: vtep(i), VTEPDevice: "eth0", Uplinks: map[string]string{}, MTU: 1500},
		NetnsExists: func(p string) bool { return dp.Links(p) != nil },
		Logger:      slog.New(slog.DiscardHandler),
	}
	// The peer gate's wait runs the world: the other agents apply the node set meanwhile.
	client.Block = func(done func() bool, bound time.Duration) {
		err := c.runUntil(done, bound)
		c.w.Record("gate %s: %v", nd.name, err)
	}
	c.nodes = append(c.nodes, nd)
	if err := c.startAgent(nd); err != nil {
		return nil, err
	}
	w := c.w
	var beat, poll, reclaim func()
	beat = func() {
		if !nd.stopped {
			w.Record("heartbeat %s %v", nd.name, nd.agent.Heartbeat(context.Background()))
		}
		w.After(HeartbeatEvery.Milliseconds(), "heartbeat "+nd.name, beat)
	}
	poll = func() {
		if !nd.stopped {
			w.Record("peers %s %v", nd.name, nd.agent.PollPeers(context.Background()))
		}
		w.After(PeerPoll.Milliseconds(), "peers "+nd.name, poll)
	}
	reclaim = func() {
		if !nd.stopped {
			c.reclaim(nd)
		}
		w.After(ReclaimEvery.Milliseconds(), "reclaim "+nd.name, reclaim)
	}
	w.After(HeartbeatEvery.Milliseconds(), "heartbeat "+nd.name, beat)
	w.After(PeerPoll.Milliseconds(), "peers "+nd.name, poll)
	w.After(ReclaimEvery.Milliseconds(), "reclaim "+nd.name, reclaim)
	return nd, nil
}

// AddNode adds a node and starts its agent, which registers and watches the node set once before
// it returns; the other agents learn of it on their next watch.
func (c *Cluster) AddNode() (NodeInfo, error) {
	if len(c.nodes) >= 250 {
		return NodeInfo{}, fmt.Errorf("the cluster has %d nodes, the most it can have", len(c.nodes))
	}
	nd, err := c.addNode()
	if err != nil {
		return NodeInfo{}, err
	}
	c.w.Record("add node %s", nd.name)
	return NodeInfo{Name: nd.name, VTEP: nd.opts.Node.VTEP}, nil
}

// startAgent starts nd's agent process over its checkpoint store as knitter-agent starts: it
// reclaims, registers the node and watches the node set once before it serves.
func (c *Cluster) startAgent(nd *simNode) error {
	reg := prometheus.NewRegistry()
	opts := nd.opts
	opts.Metrics = agent.NewMetrics(reg)
	a, err := agent.New(nd.dp, nd.pods, nd.client, nd.store, opts)
	if err != nil {
		return fmt.Errorf("starting the agent of %s: %w", nd.name, err)
	}
	nd.agent, nd.server, nd.stopped = a, agent.NewServer(a, 0), false
	nd.server.HandleMetrics(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	c.reclaim(nd)
	c.w.Record("start agent %s: heartbeat %v peers %v", nd.name, a.Heartbeat(context.Background()), a.PollPeers(context.Background()))
	return nil
}

func (c *Cluster) reclaim(nd *simNode) {
	got, err := nd.agent.Reclaim(context.Background())
	if len(got) > 0 || err != nil {
		c.w.Record("reclaim %s: %d %v", nd.name, len(got), err)
	}
}

// allPolled reports whether every running agent has registered and applied a node set holding
// every node.
func (c *Cluster) allPolled() bool {
	if !c.sys.serving() {
		return false
	}
	for _, nd := range c.nodes {
		if nd.stopped {
			continue
		}
		behind, err := c.sys.mgr.WaitPeersApplied(expired, nd.name)
		if err != nil || len(behind) > 0 {
			return false
		}
	}
	return true
}

// expired is a context that has ended: the manager's waits answer at once with it.
var expired = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// retarget points every agent's manager client at the running manager; with none, they answer
// unavailable.
func (c *Cluster) retarget() {
	for _, nd := range c.nodes {
		if c.sys.mgr != nil {
			nd.client.M = c.sys.mgr
		}
		nd.client.SetDown(c.sys.mgr == nil)
	}
}

// runUntil runs events until done holds (checked before each), or fails once bound of virtual time
// has passed.
func (c *Cluster) runUntil(done func() bool, bound time.Duration) error {
	end := c.w.Now() + bound.Milliseconds()
	for !done() {
		if !c.w.Step(end) {
			c.w.now = max(c.w.now, end)
			return fmt.Errorf("not done after %s of virtual time", bound)
		}
	}
	return nil
}

// Run lets d of virtual time pass, running every event due.
func (c *Cluster) Run(d time.Duration) {
	end := c.w.Now() + d.Milliseconds()
	for c.w.Step(end) {
	}
	c.w.now = max(c.w.now, end)
}

// RunUntil runs events until done holds, for at most bound of virtual time; false when the bound
// passed first.
func (c *Cluster) RunUntil(done func() bool, bound time.Duration) bool {
	return c.runUntil(done, bound) == nil
}

// Now is the virtual time since the cluster began.
func (c *Cluster) Now() time.Duration { return time.Duration(c.w.Now()) * time.Millisecond }

// Hash is the trace hash of everything the cluster did so far.
func (c *Cluster) Hash() string { return c.w.Hash() }

// Record adds a line to the trace, for what a caller does from outside (its calls of the API).
func (c *Cluster) Record(format string, args ...any) { c.w.Record(format, args...) }

// NodeInfo is a node's name and VTEP.
type NodeInfo struct {
	Name string
	VTEP netip.Addr
}

// Nodes lists the nodes in the order they were made.
func (c *Cluster) Nodes() []NodeInfo {
	out := make([]NodeInfo, len(c.nodes))
	for i, nd := range c.nodes {
		out[i] = NodeInfo{Name: nd.name, VTEP: nd.opts.Node.VTEP}
	}
	return out
}

func (c *Cluster) node(name string) (*simNode, error) {
	for _, nd := range c.nodes {
		if nd.name == name {
			return nd, nil
		}
	}
	return nil, fmt.Errorf("node: %q is not a node of this cluster", name)
}

// Manager is the manager that serves now, nil when none does.
func (c *Cluster) Manager() *manager.Manager {
	if !c.sys.serving() {
		return nil
	}
	return c.sys.mgr
}

// ManagerRunning reports whether a manager process runs (it may not serve yet).
func (c *Cluster) ManagerRunning() bool { return c.sys.procs[0].mgr != nil }

// StopManager stops the manager process; what it stored stays for StartManager.
func (c *Cluster) StopManager() error {
	if !c.ManagerRunning() {
		return errors.New("knitter-manager is not running")
	}
	c.sys.crash()
	c.w.Record("stop manager")
	return nil
}

// StartManager starts a manager process and runs the world until it serves.
func (c *Cluster) StartManager() error {
	if c.ManagerRunning() {
		return errors.New("knitter-manager is running")
	}
	if err := c.sys.start(); err != nil {
		return err
	}
	c.w.Record("start manager %d", c.sys.gen)
	if err := c.runUntil(c.sys.serving, 10*time.Second); err != nil {
		return fmt.Errorf("knitter-manager does not serve: %w", err)
	}
	return nil
}

// PutPod creates (or replaces) the pod object the agents look pods up in.
func (c *Cluster) PutPod(namespace, name, uid string, annotations map[string]string) {
	c.pods.Put(namespace, name, uid, annotations)
	c.w.Record("put pod %s/%s %s", namespace, name, uid)
}

// DeletePod deletes the pod object.
func (c *Cluster) DeletePod(namespace, name string) {
	c.pods.Delete(namespace, name)
	c.w.Record("delete pod %s/%s", namespace, name)
}

// NewNetns makes an empty sandbox network namespace on node and returns its path.
func (c *Cluster) NewNetns(node string) (string, error) {
	nd, err := c.node(node)
	if err != nil {
		return "", err
	}
	return nd.dp.NewNetns(), nil
}

// KillNetns removes a sandbox network namespace without any DEL, as the kernel does when its last
// process exits.
func (c *Cluster) KillNetns(node, path string) error {
	nd, err := c.node(node)
	if err != nil {
		return err
	}
	nd.dp.Gone(path)
	c.w.Record("netns gone %s %s", node, path)
	return nil
}

// Dataplane is node's in-memory dataplane, to read.
func (c *Cluster) Dataplane(node string) (*fakedp.Fake, error) {
	nd, err := c.node(node)
	if err != nil {
		return nil, err
	}
	return nd.dp, nil
}

// Checkpoints lists the attachments node's agent has in its checkpoint store, as
// "containerID@ifname".
func (c *Cluster) Checkpoints(node string) ([]string, error) {
	nd, err := c.node(node)
	if err != nil {
		return nil, err
	}
	cps, err := nd.store.List()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cps))
	for _, cp := range cps {
		k := cp.Key()
		out = append(out, k.ContainerID+"@"+k.IfName)
	}
	slices.Sort(out)
	return out, nil
}

// AgentMetrics is GET /metrics on node's agent handler, as root reads it from the agent's socket:
// the text exposition of the running agent's metrics.
func (c *Cluster) AgentMetrics(node string) ([]byte, error) {
	nd, err := c.node(node)
	if err != nil {
		return nil, err
	}
	if nd.stopped {
		return nil, fmt.Errorf("the agent of %s: %w", node, ErrAgentDown)
	}
	rec := httptest.NewRecorder()
	nd.server.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		return nil, fmt.Errorf("GET /metrics on the agent of %s: %d %s", node, rec.Code, rec.Body)
	}
	return rec.Body.Bytes(), nil
}

// StopAgent stops node's agent process: its loops do not run and its socket refuses calls. Its
// checkpoints and the links it made stay.
func (c *Cluster) StopAgent(node string) error {
	nd, err := c.node(node)
	if err != nil {
		return err
	}
	if nd.stopped {
		return fmt.Errorf("the agent of %s is stopped already", node)
	}
	nd.stopped = true
	c.w.Record("stop agent %s", node)
	return nil
}

// StartAgent starts node's agent process again over its checkpoint store.
func (c *Cluster) StartAgent(node string) error {
	nd, err := c.node(node)
	if err != nil {
		return err
	}
	if !nd.stopped {
		return fmt.Errorf("the agent of %s is running", node)
	}
	return c.startAgent(nd)
}

// ErrAgentDown is what a CNI call to a node whose agent is stopped gets: nobody listens.
var ErrAgentDown = errors.New("connection refused: knitter-agent is not running")

// CNI runs one call of knitter-plugin to node's agent: body is the request for the route of verb
// (wire.Path + verb), answered by the agent's HTTP handler as an event a few virtual ms later (the
// runtime's and the plugin's way there). The world runs until the call is answered.
func (c *Cluster) CNI(node, verb string, body []byte) (status int, answer []byte, err error) {
	nd, err := c.node(node)
	if err != nil {
		return 0, nil, err
	}
	if nd.stopped {
		return 0, nil, fmt.Errorf("the agent of %s: %w", node, ErrAgentDown)
	}
	done := false
	c.w.After(5+int64(c.rng.IntN(20)), "cni "+verb+" "+node, func() {
		if nd.stopped {
			err, done = fmt.Errorf("the agent of %s: %w", node, ErrAgentDown), true
			return
		}
		rec := httptest.NewRecorder()
		nd.server.ServeHTTP(rec, httptest.NewRequest("POST", wire.Path+verb, bytes.NewReader(body)))
		status, answer, done = rec.Code, rec.Body.Bytes(), true
		c.w.Record("cni %s on %s: %d %s", verb, node, status, answer)
	})
	for !done && c.w.Step(math.MaxInt64) {
	}
	return status, answer, err
}
