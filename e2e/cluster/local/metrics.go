package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	v, err := seriesValue(resp.Body, series)
	if err != nil {
		return 0, fmt.Errorf("%s's agent metrics: %w", node, err)
	}
	return v, nil
}

// seriesValue finds series in a Prometheus text exposition and parses its value.
func seriesValue(r io.Reader, series string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), series+" ")
		if !ok {
			continue
		}
		value, _, _ := strings.Cut(rest, " ") // a timestamp may follow
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("series %s has value %q: %w", series, value, err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no series %s", series)
}
