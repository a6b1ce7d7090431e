// Package sim is the e2e Cluster driver backed by the deterministic simulator (sim.Cluster): the
// real manager shell over the in-memory store, and on each node the real agent shell over the
// in-memory dataplane, pod source and checkpoint store. Pods are attached the way a container
// runtime does it — libcni runs knitter-plugin's own code (plugin.Plugin) in-process, whose calls
// reach the agent's own HTTP handler as events of the simulated world — and the manager's REST API
// (httpapi) is served in-process to ManagerClient.
//
// The world runs only inside the driver's calls, in virtual time, on the caller's goroutine: a call
// such as CreatePod runs it until the pod is attached or ADD failed; every other call lets
// callTime of virtual time pass first, as time passes between a spec's calls on a real cluster. So
// one seed and one sequence of calls always do the same.
//
// Ping and Echo are computed (fakedp.Reach): two pod interfaces reach each other when they are on
// one L2 segment (one VNI with flood entries both ways, one VLAN of a trunk, one macvlan parent),
// with each other on-link and every link on the way up. Exec knows only the `ip` commands that read
// the dataplane. What the driver cannot model, specs skip, in Missing's words.
//
// It needs no root and makes nothing on the machine but a temporary directory for libcni's cache.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/kube"
	knsim "github.com/knitter-cni/knitter/sim"
)

// callTime is the virtual time that passes before each of the driver's calls.
const callTime = 100 * time.Millisecond

// adminToken is the admin token the cluster is made with, which ManagerClient sends.
const adminToken = "e2e-admin.sim-admin-secret"

// Config says what cluster Up makes.
type Config struct {
	// Seed seeds the simulated world.
	Seed uint64
	// Nodes is the number of nodes; 0 means 2.
	Nodes int
	// Bootstrap is a knitter-manager bootstrap file, applied through the API once the manager
	// serves; empty applies none.
	Bootstrap string
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// Cluster is a cluster in the simulator. Its methods are safe for concurrent use: they take turns.
type Cluster struct {
	mu    sync.Mutex
	w     *knsim.Cluster
	admin *httpapi.Client
	api   http.Handler // the manager's REST server, made at the first request
	cache string       // libcni's cache directory
	down  bool
	pods  []*podState
	// broken are the breaks of the reachability invariant seen so far.
	broken []string
	// neighbours are the static neighbour entries Exec made, by sandbox.
	neighbours map[string][]string
	seq        int
	progress   io.Writer
}

// podState is what the driver keeps of a pod.
type podState struct {
	pod *cluster.Pod
	// forgotten: ForgetPod deleted its object and released its ports without a DEL.
	forgotten bool
}

var (
	_ cluster.Cluster    = (*Cluster)(nil)
	_ cluster.Runtime    = (*Cluster)(nil)
	_ cluster.Inspector  = (*Cluster)(nil)
	_ cluster.RawRuntime = (*Cluster)(nil)
	_ cluster.Echoer     = (*Cluster)(nil)
)

// Up builds the simulated cluster and applies the bootstrap file.
func Up(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 2
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	w, err := knsim.NewCluster(knsim.ClusterConfig{Seed: cfg.Seed, Nodes: cfg.Nodes, AdminToken: adminToken})
	if err != nil {
		return nil, err
	}
	cache, err := os.MkdirTemp("", "knitter-sim-cni-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{w: w, cache: cache, progress: cfg.Progress}
	if c.admin, err = httpapi.NewClient(httpapi.ClientConfig{URL: "https://knitter-manager.sim:9527", Token: adminToken,
		Transport: apiTransport{c}}); err != nil {
		return nil, errors.Join(err, c.Down(ctx))
	}
	if cfg.Bootstrap != "" {
		if err := kube.ApplyBootstrap(ctx, c.admin, cfg.Bootstrap); err != nil {
			return nil, errors.Join(err, c.Down(ctx))
		}
	}
	fmt.Fprintf(c.progress, "sim cluster seed %d: %d nodes up after %s of virtual time\n", cfg.Seed, cfg.Nodes, w.Now())
	return c, nil
}

// lock takes the driver's turn and lets callTime of virtual time pass; it fails once the cluster
// is down.
func (c *Cluster) lock() error {
	c.mu.Lock()
	if c.down {
		c.mu.Unlock()
		return errors.New("the sim cluster is down")
	}
	c.w.Run(callTime)
	return nil
}

// unlock ends the driver's turn, checking the reachability invariant first (sim.Cluster.CheckReach):
// each pod port reaches the ports of its network and no other network's. A break is printed, kept
// and reported by Down, so that the suite fails whatever spec made it.
func (c *Cluster) unlock() {
	defer c.mu.Unlock()
	err := c.w.CheckReach()
	if err == nil {
		return
	}
	msg := err.Error()
	if len(c.broken) == 0 || c.broken[len(c.broken)-1] != msg {
		c.broken = append(c.broken, msg)
		fmt.Fprintf(c.progress, "reachability invariant broken at %s of virtual time: %s\n", c.w.Now(), msg)
	}
}

// Broken lists the breaks of the reachability invariant so far.
func (c *Cluster) Broken() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.broken)
}

// Hash is the trace hash of the simulated world so far.
func (c *Cluster) Hash() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Hash()
}

// VirtualTime is how much virtual time has passed in the simulated world.
func (c *Cluster) VirtualTime() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Now()
}

// Nodes implements cluster.Cluster.
func (c *Cluster) Nodes() []cluster.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cluster.Node
	for _, n := range c.w.Nodes() {
		out = append(out, cluster.Node{Name: n.Name, VTEP: n.VTEP})
	}
	return out
}

// ManagerClient implements cluster.Cluster: an admin client whose requests the manager's REST
// server answers in-process.
func (c *Cluster) ManagerClient() *httpapi.Client { return c.admin }

// StopManager implements cluster.Cluster.
func (c *Cluster) StopManager(context.Context) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	return c.w.StopManager()
}

// StartManager implements cluster.Cluster.
func (c *Cluster) StartManager(context.Context) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	return c.w.StartManager()
}

// Down implements cluster.Cluster: the world is dropped; only libcni's cache directory was on the
// machine.
func (c *Cluster) Down(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil
	}
	c.down = true
	fmt.Fprintf(c.progress, "sim cluster down after %s of virtual time, trace %s\n", c.w.Now(), c.w.Hash())
	err := os.RemoveAll(c.cache)
	if len(c.broken) > 0 {
		err = errors.Join(err, fmt.Errorf("the reachability invariant broke %d times; the first: %s", len(c.broken), c.broken[0]))
	}
	return err
}

// What the driver cannot do, and why: the e2e specs skip with these words.
const (
	noPause = "the sim driver cannot pause an agent for a lag of wall-clock time: the spec resumes it from a " +
		"timer's goroutine while an ADD is in flight, and the simulated world runs in virtual time, only inside " +
		"the driver's calls"
	noLeftovers = "the sim driver makes nothing on this machine that could be left behind (no processes, " +
		"namespaces, links or files but libcni's cache, which Down removes): its world is in memory"
	noNodeNetns = "the sim driver's nodes are in-memory dataplanes, not network namespaces: there is no trunk " +
		"to capture frames on and no BPF program to look at"
)

var _ cluster.NodeAdder = (*Cluster)(nil)

// AddNode implements cluster.NodeAdder: a node with its agent, which has registered and watched the
// node set once; the other agents learn of it on their next watch, and the new node's first overlay
// ADD waits in the peer gate (in virtual time) until they have.
func (c *Cluster) AddNode(context.Context) (cluster.Node, error) {
	if err := c.lock(); err != nil {
		return cluster.Node{}, err
	}
	defer c.unlock()
	n, err := c.w.AddNode()
	if err != nil {
		return cluster.Node{}, err
	}
	fmt.Fprintf(c.progress, "sim node %s (VTEP %s) added at %s of virtual time\n", n.Name, n.VTEP, c.w.Now())
	return cluster.Node{Name: n.Name, VTEP: n.VTEP}, nil
}

// Missing says why the driver lacks an ability the e2e specs look for ("" when it has it).
func (c *Cluster) Missing(ability string) string {
	switch ability {
	case "pause-agent":
		return noPause
	case "leftovers":
		return noLeftovers
	case "node-netns":
		return noNodeNetns
	}
	return ""
}
