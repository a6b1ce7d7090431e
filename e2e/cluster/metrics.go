package cluster

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
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
