package local

import (
	"context"
	"fmt"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ cluster.AgentMetrics = (*Cluster)(nil)

// AgentMetric implements cluster.AgentMetrics: /metrics on the node agent's socket.
func (c *Cluster) AgentMetric(ctx context.Context, node, series string) (float64, error) {
	c.mu.Lock()
	n, ok := c.st.node(node)
	c.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("no node %q", node)
	}
	return cluster.SocketMetric(ctx, n.Socket, node, series)
}
