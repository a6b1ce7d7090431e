// Package local is the e2e Cluster driver that runs Knitter for real on this machine: the built
// binaries, a knitter-manager on an embedded etcd on loopback, and N "nodes" that are network
// namespaces joined by veth wires to a hub namespace's bridges, each with a knitter-agent (a process
// in the root namespace whose --host-netns is the node's). Pods are network namespaces attached by
// calling knitter-plugin through libcni exactly as a container runtime does.
//
// Everything a cluster makes is named after its random run ID (namespaces kn-<run>-…), and recorded
// in <dir>/state.json, so that clusters can run side by side and Open(dir).Down can remove one from
// another process (hack/localcluster down).
//
// It needs root: namespaces, veths and the agents' netlink work.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// Config says what cluster Up makes.
type Config struct {
	// Dir holds everything of the cluster; empty makes a fresh temporary directory. A directory that
	// holds another cluster's state is refused.
	Dir string
	// Nodes is the number of nodes; 0 means 2.
	Nodes int
	// Bootstrap is the manager's bootstrap file; empty means <repo>/examples/bootstrap.yaml.
	Bootstrap string
	// RepoRoot is the Knitter repository to build; empty means the one around the working directory.
	RepoRoot string
	// Detached clusters' processes outlive this process (hack/localcluster up); attached ones get
	// SIGTERM from the kernel if it dies.
	Detached bool
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// Cluster is a running local cluster. Its methods are safe for concurrent use.
type Cluster struct {
	mu       sync.Mutex
	st       *clusterState
	n        names
	admin    *httpapi.Client
	cni      *libcni.CNIConfig
	progress io.Writer
	down     bool
	// gone are the pods deleted so far, for Leftovers' check of their veths.
	gone []podState
}

var (
	_ cluster.Cluster   = (*Cluster)(nil)
	_ cluster.Runtime   = (*Cluster)(nil)
	_ cluster.Inspector = (*Cluster)(nil)
)

// Up builds the binaries and brings a cluster up. If a step fails, what was made is removed again.
func Up(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("a local cluster needs root: network namespaces, veths and netlink")
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 2
	}
	if cfg.Nodes < 1 || cfg.Nodes > maxNodes {
		return nil, fmt.Errorf("nodes: %d is out of range; use 1-%d", cfg.Nodes, maxNodes)
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	root := cfg.RepoRoot
	if root == "" {
		if root, err = RepoRoot("."); err != nil {
			return nil, err
		}
	}
	if cfg.Bootstrap == "" {
		cfg.Bootstrap = filepath.Join(root, "examples", "bootstrap.yaml")
	}
	if cfg.Bootstrap, err = filepath.Abs(cfg.Bootstrap); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Bootstrap); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	dir, err := clusterDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	runID, err := newRunID()
	if err != nil {
		return nil, err
	}
	c = &Cluster{n: names{runID}, progress: cfg.Progress, st: &clusterState{
		Version: stateVersion, RunID: runID, Dir: dir, Detached: cfg.Detached, Bootstrap: cfg.Bootstrap,
		Bin: filepath.Join(dir, "bin"), CNIBin: filepath.Join(dir, "cni-bin"), CNICache: filepath.Join(dir, "cni-cache"),
		Hub: names{runID}.hub(),
	}}
	if err := c.st.save(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if derr := c.Down(context.WithoutCancel(ctx)); derr != nil {
				err = errors.Join(err, fmt.Errorf("removing the half-made cluster: %w", derr))
			}
			c = nil
		}
	}()
	if err := build(root, cfg.Progress); err != nil {
		return c, err
	}
	if err := installBinaries(root, c.st.Bin, c.st.CNIBin); err != nil {
		return c, err
	}
	c.cni = libcni.NewCNIConfigWithCacheDir([]string{c.st.CNIBin}, c.st.CNICache, nil)
	if err := c.upManager(ctx); err != nil {
		return c, err
	}
	if err := c.upNodes(ctx, cfg.Nodes); err != nil {
		return c, err
	}
	c.logf("cluster %s is up in %s", runID, dir)
	return c, nil
}

// clusterDir makes (or checks) the cluster's directory.
func clusterDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "knitter-e2e-")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return "", fmt.Errorf("%s holds a cluster already; remove it first (go run ./hack/localcluster down --dir %s)", dir, dir)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s exists and is not empty; choose another directory or remove it", dir)
	}
	return dir, os.MkdirAll(dir, 0o700)
}

func (c *Cluster) upManager(ctx context.Context) error {
	m, err := newManagerState(c.st.Dir)
	if err != nil {
		return err
	}
	c.st.Manager = m
	c.logf("starting knitter-manager on %s (embedded etcd in %s)", m.URL, m.DataDir)
	err = startManager(ctx, &c.st.Manager, filepath.Join(c.st.Bin, managerBin), c.st.Bootstrap, c.st.Detached)
	if serr := c.st.save(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	if c.admin, err = adminClient(&c.st.Manager); err != nil {
		return err
	}
	return mintAgentToken(ctx, c.admin, &c.st.Manager)
}

func (c *Cluster) upNodes(ctx context.Context, count int) error {
	c.logf("wiring %d node namespaces to the underlay %s (hub %s)", count, underlayPrefix, c.st.Hub)
	if err := buildHub(c.st.Hub); err != nil {
		return err
	}
	for i := 1; i <= count; i++ {
		c.st.Nodes = append(c.st.Nodes, newNodeState(c.st.Dir, c.n, i))
		if err := c.st.save(); err != nil {
			return err
		}
		if err := wireNode(c.st.Hub, c.n.node(i), i); err != nil {
			return err
		}
	}
	for i := range c.st.Nodes {
		n := &c.st.Nodes[i]
		c.logf("starting knitter-agent of %s (netns %s, VTEP %s)", n.Name, n.Netns, n.VTEP)
		err := startAgent(ctx, n, filepath.Join(c.st.Bin, agentBin), &c.st.Manager, c.st.CNIBin, c.st.CNICache, c.st.Detached)
		if serr := c.st.save(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Open attaches to the cluster whose state is in dir, made by Up in this or another process.
func Open(dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{st: st, n: names{st.RunID}, progress: io.Discard,
		cni: libcni.NewCNIConfigWithCacheDir([]string{st.CNIBin}, st.CNICache, nil)}
	if c.admin, err = adminClient(&st.Manager); err != nil {
		c.admin = nil // the manager's files may be gone with a half-made cluster; Down copes
	}
	return c, nil
}

// SetProgress sends progress lines to w.
func (c *Cluster) SetProgress(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.progress = w
}

// RunID is the random ID in every name the cluster made.
func (c *Cluster) RunID() string { return c.n.runID }

// Dir is the cluster's directory.
func (c *Cluster) Dir() string { return c.st.Dir }

// Nodes implements cluster.Cluster.
func (c *Cluster) Nodes() []cluster.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]cluster.Node, 0, len(c.st.Nodes))
	for _, n := range c.st.Nodes {
		vtep, _ := netip.ParseAddr(n.VTEP)
		out = append(out, cluster.Node{Name: n.Name, VTEP: vtep})
	}
	return out
}

// ManagerClient implements cluster.Cluster.
func (c *Cluster) ManagerClient() *httpapi.Client { return c.admin }

// ManagerURL is the manager's base URL; CAFile its CA certificate.
func (c *Cluster) ManagerURL() string { return c.st.Manager.URL }

// ManagerCAFile is the manager's CA certificate file.
func (c *Cluster) ManagerCAFile() string { return c.st.Manager.CAFile }

// AgentTokenFile holds a system token, for further agents (the CRI spec starts one).
func (c *Cluster) AgentTokenFile() string { return c.st.Manager.AgentFile }

// BinDir holds the run's copies of knitter-manager, knitter-agent and knitter-plugin.
func (c *Cluster) BinDir() string { return c.st.Bin }

// StopManager implements cluster.Cluster.
func (c *Cluster) StopManager(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logf("stopping knitter-manager (pid %d)", c.st.Manager.Proc.Pid)
	return c.st.Manager.Proc.stop()
}

// StartManager implements cluster.Cluster.
func (c *Cluster) StartManager(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Manager.Proc.alive() {
		return fmt.Errorf("knitter-manager is running (pid %d)", c.st.Manager.Proc.Pid)
	}
	c.logf("starting knitter-manager again on %s", c.st.Manager.URL)
	err := startManager(ctx, &c.st.Manager, filepath.Join(c.st.Bin, managerBin), c.st.Bootstrap, c.st.Detached)
	return errors.Join(err, c.st.save())
}

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.progress, format+"\n", args...)
}
