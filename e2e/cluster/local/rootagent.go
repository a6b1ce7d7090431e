package local

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// RootAgent is a knitter-agent in the root network namespace, which is its node namespace: a
// container runtime on this machine creates its sandboxes there (the CRI spec's containerd). Down
// stops it with the rest, but what it built in the root namespace is its user's to remove.
type RootAgent struct {
	Name   string
	Socket string
	// PodDir is where the agent reads Pod manifests (WritePodManifest).
	PodDir string
	// StateDir holds its checkpoints.
	StateDir string
}

// StartRootAgent starts an agent for node name in the root namespace with VTEP address vtep on
// vtepDevice, and waits until it answers STATUS.
func (c *Cluster) StartRootAgent(ctx context.Context, name string, vtep netip.Addr, vtepDevice string) (*RootAgent, error) {
	if err := model.ValidateName("name", name); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range slices.Concat(c.st.Nodes, c.st.Extra) {
		if n.Name == name {
			return nil, fmt.Errorf("node %s exists already", name)
		}
	}
	d := filepath.Join(c.st.Dir, name)
	c.st.Extra = append(c.st.Extra, nodeState{Name: name, VTEP: vtep.String(), VTEPDevice: vtepDevice, Dir: d,
		Socket: filepath.Join(d, "run", "agent.sock"), StateDir: filepath.Join(d, "checkpoints"),
		PodDir: filepath.Join(d, "pods"), ConfList: filepath.Join(d, "knitter.conflist")})
	n := &c.st.Extra[len(c.st.Extra)-1]
	c.logf("starting knitter-agent of %s in the root namespace (VTEP %s on %s)", name, vtep, vtepDevice)
	err := startAgent(ctx, n, filepath.Join(c.st.Bin, agentBin), &c.st.Manager, c.st.CNIBin, c.st.CNICache, c.st.Detached)
	if serr := c.st.save(); err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	return &RootAgent{Name: name, Socket: n.Socket, PodDir: n.PodDir, StateDir: n.StateDir}, nil
}

// StopRootAgent stops the named root agent.
func (c *Cluster) StopRootAgent(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.st.Extra {
		if c.st.Extra[i].Name == name {
			return c.st.Extra[i].Agent.stop()
		}
	}
	return fmt.Errorf("no root agent %s", name)
}
