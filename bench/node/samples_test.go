package nodebench

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// samples collects one duration per operation, from any goroutine, so that a benchmark can report
// the tail and not only the mean that ns/op gives.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
}

// reset drops the samples taken so far: warm-up calls are not measured.
func (s *samples) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = nil
}

// last returns the latest sample, 0 if none.
func (s *samples) last() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return 0
	}
	return s.d[len(s.d)-1]
}

func (s *samples) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100): the smallest sample that at
// least p% of the samples do not exceed; 0 without samples. With fewer than 100 samples the p99 is
// the maximum.
func (s *samples) percentile(p float64) time.Duration {
	s.mu.Lock()
	sorted := slices.Clone(s.d)
	s.mu.Unlock()
	if len(sorted) == 0 {
		return 0
	}
	slices.Sort(sorted)
	rank := int(math.Ceil(float64(len(sorted)) * p / 100))
	return sorted[max(1, min(rank, len(sorted)))-1]
}

// ms is a duration in milliseconds, the unit every node-path metric is reported in.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// report adds the p50 and p99 of s to b's results as "<what>-p50-ms" and "<what>-p99-ms".
func (s *samples) report(b *testing.B, what string) {
	b.ReportMetric(ms(s.percentile(50)), what+"-p50-ms")
	b.ReportMetric(ms(s.percentile(99)), what+"-p99-ms")
}

// reportRatio adds num's p-th percentile over den's as a metric; nothing if either has no samples.
func reportRatio(b *testing.B, name string, num, den *samples, p float64) {
	n, d := num.percentile(p), den.percentile(p)
	if n == 0 || d == 0 {
		return
	}
	b.ReportMetric(float64(n)/float64(d), name)
}

func TestPercentile(t *testing.T) {
	var hundred samples
	for i := range 100 {
		// Reversed, so that a percentile taken without sorting would be wrong.
		hundred.add(time.Duration(100-i) * time.Millisecond)
	}
	three := func() *samples {
		s := &samples{}
		for _, d := range []time.Duration{30, 10, 20} {
			s.add(d)
		}
		return s
	}
	cases := []struct {
		name string
		s    *samples
		p    float64
		want time.Duration
	}{
		{"empty", &samples{}, 50, 0},
		{"p50 of 100", &hundred, 50, 50 * time.Millisecond},
		{"p99 of 100", &hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", &hundred, 100, 100 * time.Millisecond},
		{"tiny p is the minimum", &hundred, 0.1, time.Millisecond},
		{"p50 of 3 is the middle", three(), 50, 20},
		{"p99 of 3 is the maximum", three(), 99, 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.percentile(c.p); got != c.want {
				t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
			}
		})
	}
	if first := hundred.d[0]; first != 100*time.Millisecond {
		t.Errorf("percentile reordered the samples: the first is %v, was 100ms", first)
	}
	hundred.reset()
	if hundred.len() != 0 || hundred.percentile(50) != 0 {
		t.Errorf("after reset: %d samples, p50 %v; want none", hundred.len(), hundred.percentile(50))
	}
}
