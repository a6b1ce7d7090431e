package nodebench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// samplesEnv names the file that the node benchmarks append their raw per-call latencies to, for
// `make bench-report`'s distribution plots; unset, nothing is written.
const samplesEnv = "KNITTER_BENCH_SAMPLES"

// sampleRecord is one line of that file: every duration of one series ("<rig>-ADD", "<rig>-DEL") of
// one call of a benchmark function, in milliseconds, in the order taken. n is the call's b.N: the
// testing package calls a benchmark first with b.N = 1 to size it, and the reader keeps, per
// benchmark, only the calls with the largest n (those that produced the reported results).
type sampleRecord struct {
	Bench  string    `json:"bench"`
	N      int       `json:"n"`
	Series string    `json:"series"`
	MS     []float64 `json:"ms"`
}

// writeSamples appends one record per series to the file $KNITTER_BENCH_SAMPLES names, after the
// timed loop (it costs the benchmark nothing); series are written in the order given.
func writeSamples(b *testing.B, series ...namedSamples) {
	b.Helper()
	path := os.Getenv(samplesEnv)
	if path == "" {
		return
	}
	if err := appendSamples(path, b.Name(), b.N, series); err != nil {
		b.Fatalf("%s=%s: %v", samplesEnv, path, err)
	}
}

// namedSamples is a series of samples with the name it is written under.
type namedSamples struct {
	name string
	s    *samples
}

func appendSamples(path, bench string, n int, series []namedSamples) error {
	if !filepath.IsAbs(path) {
		// go test runs in the package's directory, not where make was started.
		return fmt.Errorf("not an absolute path; go test runs each package in its own directory")
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	for _, ns := range series {
		ns.s.mu.Lock()
		rec := sampleRecord{Bench: bench, N: n, Series: ns.name, MS: make([]float64, len(ns.s.d))}
		for i, d := range ns.s.d {
			rec.MS[i] = ms(d)
		}
		ns.s.mu.Unlock()
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(out.String()); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func TestAppendSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "samples.jsonl")
	add := &samples{}
	for _, d := range []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond} {
		add.add(d)
	}
	for n := range 2 {
		if err := appendSamples(path, "BenchmarkX", n+1, []namedSamples{{"knitter-ADD", add}, {"floor-ADD", &samples{}}}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (two calls of two series appended):\n%s", len(lines), data)
	}
	var rec sampleRecord
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil {
		t.Fatal(err)
	}
	want := sampleRecord{Bench: "BenchmarkX", N: 2, Series: "knitter-ADD", MS: []float64{3, 1.5}}
	if rec.Bench != want.Bench || rec.N != want.N || rec.Series != want.Series || !slices.Equal(rec.MS, want.MS) {
		t.Errorf("third line = %+v, want %+v", rec, want)
	}
	if err := appendSamples("relative.jsonl", "BenchmarkX", 1, nil); err == nil {
		t.Error("a relative path was accepted; go test would write it into the package directory")
	}
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
