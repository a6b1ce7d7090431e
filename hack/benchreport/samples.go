package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// sampleRecord is one line of the raw-sample file the node benchmarks write when
// KNITTER_BENCH_SAMPLES names it (bench/node/samples_test.go): every duration of one series
// ("<rig>-ADD", "<rig>-DEL") of one call of a benchmark function, in milliseconds.
type sampleRecord struct {
	Bench  string    `json:"bench"`
	N      int       `json:"n"`
	Series string    `json:"series"`
	MS     []float64 `json:"ms"`
}

// sampleSet is one benchmark's raw samples: per series, one slice per run, in run order.
type sampleSet struct {
	bench  string
	series []string               // in first-seen order
	runs   map[string][][]float64 // series -> runs
}

// parseSamples reads a raw-sample file. The testing package calls a benchmark function first with
// b.N = 1 to size it and then with the requested N, and each call writes its records; per benchmark
// only the calls with the largest N are kept, those whose results go test reports. A missing file
// is no samples (the node benchmarks were not run as root, or without the variable).
func parseSamples(path string) ([]*sampleSet, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []sampleRecord
	maxN := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r sampleRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if r.Bench == "" || r.Series == "" || r.N < 1 {
			return nil, fmt.Errorf("%s:%d: a record needs bench, series and n ≥ 1, got bench %q series %q n %d", path, line, r.Bench, r.Series, r.N)
		}
		recs = append(recs, r)
		maxN[r.Bench] = max(maxN[r.Bench], r.N)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var order []*sampleSet
	byBench := map[string]*sampleSet{}
	for _, r := range recs {
		if r.N != maxN[r.Bench] {
			continue
		}
		s := byBench[r.Bench]
		if s == nil {
			s = &sampleSet{bench: r.Bench, runs: map[string][][]float64{}}
			byBench[r.Bench] = s
			order = append(order, s)
		}
		if _, ok := s.runs[r.Series]; !ok {
			s.series = append(s.series, r.Series)
		}
		s.runs[r.Series] = append(s.runs[r.Series], r.MS)
	}
	return order, nil
}

// quantile is the nearest-rank q-quantile (0 < q ≤ 1) of sorted, as bench/node's percentile is.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(float64(len(sorted)) * q))
	return sorted[max(1, min(rank, len(sorted)))-1]
}

// distributionTable summarises every series' raw samples: per run the p50, p90, p99 and maximum,
// each given as the range over the runs.
func distributionTable(sets []*sampleSet) string {
	if len(sets) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n#### Raw latency samples (node benchmarks)\n\n")
	b.WriteString("Every call's duration, in ms; each column is the range over the runs of the per-run value.\n")
	for _, s := range sets {
		fmt.Fprintf(&b, "\n`%s`\n\n| series | runs | calls per run | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|\n", s.bench)
		for _, name := range s.series {
			runs := s.runs[name]
			var counts, p50, p90, p99, top []float64
			for _, r := range runs {
				if len(r) == 0 {
					continue
				}
				sorted := slices.Sorted(slices.Values(r))
				counts = append(counts, float64(len(r)))
				p50 = append(p50, quantile(sorted, 0.50))
				p90 = append(p90, quantile(sorted, 0.90))
				p99 = append(p99, quantile(sorted, 0.99))
				top = append(top, sorted[len(sorted)-1])
			}
			if len(counts) == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", name, len(counts), span(counts), span(p50), span(p90), span(p99), span(top))
		}
	}
	return b.String()
}

// rigColor gives each rig of the node benchmarks its colour in every distribution plot.
func rigColor(rig string) color.Color {
	switch rig {
	case "knitter":
		return color.RGBA{R: 200, A: 255}
	case "knitter-tmpfs":
		return color.RGBA{R: 230, G: 140, A: 255}
	case "ref":
		return color.RGBA{B: 200, A: 255}
	case "floor":
		return color.RGBA{G: 140, A: 255}
	}
	return color.Gray{Y: 90}
}

// ecdf is the empirical distribution of v as a staircase: the fraction of calls at or below each
// duration.
func ecdf(v []float64) plotter.XYs {
	sorted := slices.Sorted(slices.Values(v))
	xy := make(plotter.XYs, 0, len(sorted))
	for i, x := range sorted {
		xy = append(xy, plotter.XY{X: x, Y: float64(i+1) / float64(len(sorted))})
	}
	return xy
}

// drawDistributions draws, per benchmark and operation (ADD, DEL), the ECDF of every rig's raw
// samples, one line per run, on a log-scaled duration axis, and returns the files' names.
func drawDistributions(sets []*sampleSet, dir string) ([]string, error) {
	var out []string
	for _, s := range sets {
		for _, op := range []string{"ADD", "DEL"} {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s: %s latency, every call (ECDF, one line per run)", strings.TrimPrefix(s.bench, "Benchmark"), op)
			p.X.Label.Text = "ms (log scale)"
			p.Y.Label.Text = "fraction of calls ≤ x"
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			// The legend goes bottom left, below and left of every staircase: the axis starts at
			// a quarter of the fastest call.
			p.Legend.Top, p.Legend.Left = false, true
			p.Y.Min, p.Y.Max = 0, 1
			fastest := math.Inf(1)
			drawn := 0
			for _, name := range s.series {
				rig, ok := strings.CutSuffix(name, "-"+op)
				if !ok {
					continue
				}
				var legend *plotter.Line
				for _, run := range s.runs[name] {
					if len(run) == 0 || slices.Min(run) <= 0 {
						continue
					}
					l, err := plotter.NewLine(ecdf(run))
					if err != nil {
						return nil, err
					}
					fastest = min(fastest, slices.Min(run))
					l.StepStyle = plotter.PostStep
					l.Color = rigColor(rig)
					l.Width = vg.Points(1.2)
					p.Add(l)
					legend = l
				}
				if legend != nil {
					p.Legend.Add(fmt.Sprintf("%s (%d runs)", rig, len(s.runs[name])), legend)
					drawn++
				}
			}
			if drawn == 0 {
				continue
			}
			p.X.Min = fastest / 4
			p.Add(plotter.NewGrid())
			name := strings.TrimPrefix(s.bench, "Benchmark") + "-" + op + "-ecdf.png"
			if err := p.Save(7*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, name)); err != nil {
				return nil, err
			}
			out = append(out, name)
		}
	}
	return out, nil
}
