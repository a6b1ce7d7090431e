package cluster

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
)

// SeriesValue finds series, named as the text exposition writes it
// (knitter_agent_orphans_reclaimed_total{reason="pod_gone"}), in a Prometheus text exposition and
// parses its value: what the drivers' AgentMetric read.
func SeriesValue(r io.Reader, series string) (float64, error) {
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

// SocketMetric reads series from the /metrics of the knitter-agent that serves on the unix socket
// at path (the agent serves its metrics on its plugin socket), for node.
func SocketMetric(ctx context.Context, path, node, series string) (float64, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
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
	v, err := SeriesValue(resp.Body, series)
	if err != nil {
		return 0, fmt.Errorf("%s's agent metrics: %w", node, err)
	}
	return v, nil
}
