package local

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// PodInterfaces implements cluster.Inspector.
func (c *Cluster) PodInterfaces(_ context.Context, pod *cluster.Pod) ([]cluster.Interface, error) {
	return ReadInterfaces(pod.Netns)
}

// Checkpoints implements cluster.Inspector: the files in the node agent's state directory.
func (c *Cluster) Checkpoints(_ context.Context, node string) ([]string, error) {
	c.mu.Lock()
	n, ok := c.st.node(node)
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	entries, err := os.ReadDir(n.StateDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.HasPrefix(name, ".") {
			out = append(out, name)
		}
	}
	return out, nil
}

// NodeLinks implements cluster.Inspector.
func (c *Cluster) NodeLinks(_ context.Context, node string) ([]string, error) {
	c.mu.Lock()
	n, ok := c.st.node(node)
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	var out []string
	err := withHandle(n.Netns, func(h *netlink.Handle) error {
		links, err := h.LinkList()
		for _, l := range links {
			out = append(out, l.Attrs().Name)
		}
		return err
	})
	return out, err
}
