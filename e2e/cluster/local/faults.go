package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

var (
	_ cluster.Faults      = (*Cluster)(nil)
	_ cluster.NodeAdder   = (*Cluster)(nil)
	_ cluster.Echoer      = (*Cluster)(nil)
	_ cluster.AgentPauser = (*Cluster)(nil)
)

// ForgetPod implements cluster.Faults: the manifest goes (the agent's pod source no longer has the
// pod) and the ports are released; the sandbox stays, and no DEL is made.
func (c *Cluster) ForgetPod(ctx context.Context, pod *cluster.Pod) error {
	ps, _, ok := c.lookupPod(pod)
	if !ok {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	if ps.Manifest != "" {
		if err := os.Remove(ps.Manifest); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if c.admin != nil {
		if err := c.admin.ReleasePod(ctx, ps.UID); err != nil && !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("releasing pod %s's ports: %w", pod.Key(), err)
		}
	}
	return nil
}

// KillSandbox implements cluster.Faults.
func (c *Cluster) KillSandbox(_ context.Context, pod *cluster.Pod) error {
	ps, _, ok := c.lookupPod(pod)
	if !ok {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	return deleteNetns(ps.Netns)
}

// RestartAgent implements cluster.Faults.
func (c *Cluster) RestartAgent(ctx context.Context, node string, while func() error) error {
	c.mu.Lock()
	n, ok := c.st.node(node)
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("no node %q", node)
	}
	c.logf("stopping knitter-agent of %s (pid %d)", n.Name, n.Agent.Pid)
	if err := n.Agent.stop(); err != nil {
		c.mu.Unlock()
		return err
	}
	// while may use the cluster itself (ForgetPod takes the lock), so it runs unlocked.
	c.mu.Unlock()
	werr := while()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logf("starting knitter-agent of %s again", n.Name)
	err := startAgent(ctx, n, filepath.Join(c.st.Bin, agentBin), &c.st.Manager, c.st.CNIBin, c.st.CNICache, c.st.Detached)
	return errors.Join(werr, err, c.st.save())
}

// AddNode implements cluster.NodeAdder: one more node namespace on the underlay, with its agent.
func (c *Cluster) AddNode(ctx context.Context) (cluster.Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.st.Nodes) + 1
	if i > maxNodes {
		return cluster.Node{}, fmt.Errorf("the cluster has %d nodes, the most it can have", maxNodes)
	}
	c.st.Nodes = append(c.st.Nodes, newNodeState(c.st.Dir, c.n, i))
	if err := c.st.save(); err != nil {
		return cluster.Node{}, err
	}
	if err := wireNode(c.st.Hub, c.n.node(i), i); err != nil {
		return cluster.Node{}, err
	}
	n := &c.st.Nodes[i-1]
	c.logf("starting knitter-agent of %s (netns %s, VTEP %s)", n.Name, n.Netns, n.VTEP)
	err := startAgent(ctx, n, filepath.Join(c.st.Bin, agentBin), &c.st.Manager, c.st.CNIBin, c.st.CNICache, c.st.Detached)
	if serr := c.st.save(); err == nil {
		err = serr
	}
	if err != nil {
		return cluster.Node{}, err
	}
	return cluster.Node{Name: n.Name, VTEP: netip.MustParseAddr(n.VTEP)}, nil
}
