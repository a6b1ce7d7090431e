package cnibench

import (
	"math"
	"slices"
	"testing"
	"time"
)

// latencies collects one duration per pod ADD or DEL, so that the benchmark can report the tail
// and not only the mean that ns/op gives.
type latencies []time.Duration

// percentile returns the nearest-rank p-th percentile (0 < p <= 100): the smallest sample that at
// least p% of the samples do not exceed. It returns 0 for no samples.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	sorted := slices.Clone(l)
	slices.Sort(sorted)
	rank := int(math.Ceil(float64(len(sorted)) * p / 100))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// report adds the p50 and p99 of l in milliseconds to b's results, as "<what>-p50-ms" and
// "<what>-p99-ms".
func (l latencies) report(b *testing.B, what string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(l.percentile(50)), what+"-p50-ms")
	b.ReportMetric(ms(l.percentile(99)), what+"-p99-ms")
}

func TestPercentile(t *testing.T) {
	hundred := make(latencies, 100)
	for i := range hundred {
		// Reversed, so that a percentile taken without sorting would be wrong.
		hundred[i] = time.Duration(100-i) * time.Millisecond
	}
	cases := []struct {
		name string
		l    latencies
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", latencies{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the minimum", hundred, 0.1, time.Millisecond},
		{"p50 of 3 is the middle", latencies{30, 10, 20}, 50, 20},
		{"p99 of 3 is the maximum", latencies{30, 10, 20}, 99, 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(c.l)
			if got := c.l.percentile(c.p); got != c.want {
				t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
			}
			if !slices.Equal(before, c.l) {
				t.Errorf("percentile reordered its samples: %v, was %v", c.l, before)
			}
		})
	}
}
