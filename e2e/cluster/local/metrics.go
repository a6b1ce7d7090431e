package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

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
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", n.Socket)
		}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s's agent metrics: %w", node, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("%s's agent metrics: HTTP %d: %s", node, resp.StatusCode, b)
	}
	v, err := cluster.SeriesValue(resp.Body, series)
	if err != nil {
		return 0, fmt.Errorf("%s's agent metrics: %w", node, err)
	}
	return v, nil
}
