package local

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
)

// NodeNetns returns the path of the named node's network namespace, where its NICs (UnderlayNIC,
// TrunkNIC, MACVLANNIC), bridges and pod veths' node ends live.
func (c *Cluster) NodeNetns(node string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.st.Nodes {
		if n.Name == node {
			return netnsPath(n.Netns), nil
		}
	}
	return "", fmt.Errorf("no node %s", node)
}

// StopAgent stops the named node's knitter-agent, as a crash or the first half of a rolling upgrade
// does; what it built stays.
func (c *Cluster) StopAgent(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.nodeLocked(node)
	if err != nil {
		return err
	}
	c.logf("stopping knitter-agent of %s", node)
	return n.Agent.stop()
}

// StartAgent starts the named node's knitter-agent again after StopAgent and returns once it
// answers STATUS. An agent that runs already is left as it is.
func (c *Cluster) StartAgent(ctx context.Context, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.nodeLocked(node)
	if err != nil {
		return err
	}
	if n.Agent.alive() {
		// Started already (a spec's cleanup after the spec started it itself): a second agent on
		// the node would be refused, and n.Agent would then name the refused one.
		return nil
	}
	c.logf("starting knitter-agent of %s again", node)
	err = startAgent(ctx, n, filepath.Join(c.st.Bin, agentBin), &c.st.Manager, c.st.CNIBin, c.st.CNICache, c.st.Detached)
	if serr := c.st.save(); err == nil {
		err = serr
	}
	return err
}

// PauseAgent implements cluster.AgentPauser with SIGSTOP and, on resume, SIGCONT.
func (c *Cluster) PauseAgent(node string) (resume func() error, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.nodeLocked(node)
	if err != nil {
		return nil, err
	}
	p := n.Agent
	if !p.alive() {
		return nil, fmt.Errorf("the knitter-agent of %s does not run", node)
	}
	c.logf("pausing knitter-agent of %s (pid %d)", node, p.Pid)
	if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("pausing the knitter-agent of %s: %w", node, err)
	}
	return func() error {
		c.logf("resuming knitter-agent of %s (pid %d)", node, p.Pid)
		return syscall.Kill(p.Pid, syscall.SIGCONT)
	}, nil
}

func (c *Cluster) nodeLocked(node string) (*nodeState, error) {
	for i := range c.st.Nodes {
		if c.st.Nodes[i].Name == node {
			return &c.st.Nodes[i], nil
		}
	}
	return nil, fmt.Errorf("no node %s", node)
}

// HostNodeNetns is NodeNetns: this process and the nodes' agents share the machine's mount namespace.
func (c *Cluster) HostNodeNetns(node string) (string, error) { return c.NodeNetns(node) }
