package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// results is go test -bench output as make bench-report collects it, two runs of each benchmark.
const results = `# load node before: 3.82 3.54 3.26
goos: linux
goarch: amd64
pkg: github.com/knitter-cni/knitter/bench/node
cpu: AMD EPYC
BenchmarkKnitterADD-2   	      30	  45000000 ns/op	        14.4 knitter-ADD-p50-ms	        31.0 knitter-ADD-p99-ms	         5.2 ref/knitter-ADD-p50	         1.1 knitter/floor-DEL-p50
BenchmarkKnitterADD-2   	      30	  47000000 ns/op	        16.3 knitter-ADD-p50-ms	        29.0 knitter-ADD-p99-ms	         4.8 ref/knitter-ADD-p50	         1.3 knitter/floor-DEL-p50
--- BENCH: BenchmarkKnitterADD-2
    addlatency_test.go:77: a log line 12 34 ms
BenchmarkConcurrentPods-2   	      20	 150000000 ns/op	        55.5 knitter-pod-ADDs/s	        7.1 ref-pod-ADDs/s
BenchmarkConcurrentPods-2   	      20	 140000000 ns/op	        61.0 knitter-pod-ADDs/s	        7.0 ref-pod-ADDs/s
BenchmarkKnitterADDPodsUp/200-2 	      30	  60000000 ns/op	        21.2 ADD-p50-ms
BenchmarkKnitterADDPodsUp/200-2 	      30	  62000000 ns/op	        28.5 ADD-p50-ms
ok  	github.com/knitter-cni/knitter/bench/node	120.1s
# load node after: 4.17 3.75 3.36
# load sim before: 4.00 3.70 3.30
pkg: github.com/knitter-cni/knitter/sim
BenchmarkScale/nodes=100/pods=3000-2         	       3	 401000000 ns/op	       133.7 µs/pod
BenchmarkScale/nodes=5000/pods=150000-2      	       1	 57700000000 ns/op	       384.7 µs/pod
BenchmarkScale/nodes=5000/pods=150000-2      	       1	 61000000000 ns/op	       406.7 µs/pod
# load sim after: 4.10 3.80 3.31
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func find(rs []*result, pkg, bench string) *result {
	for _, r := range rs {
		if r.pkg == pkg && r.bench == bench {
			return r
		}
	}
	return nil
}

func TestParse(t *testing.T) {
	rs, load, err := parse(writeFile(t, "results.txt", results))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"node before: 3.82 3.54 3.26", "node after: 4.17 3.75 3.36", "sim before: 4.00 3.70 3.30", "sim after: 4.10 3.80 3.31"}; !slices.Equal(load, want) {
		t.Errorf("load = %q, want %q", load, want)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.bench)
	}
	want := []string{"BenchmarkKnitterADD", "BenchmarkConcurrentPods", "BenchmarkKnitterADDPodsUp/200", "BenchmarkScale/nodes=100/pods=3000", "BenchmarkScale/nodes=5000/pods=150000"}
	if !slices.Equal(names, want) {
		t.Fatalf("benchmarks = %q, want %q (the -2 suffix cut, one result per benchmark over its runs)", names, want)
	}
	add := find(rs, "github.com/knitter-cni/knitter/bench/node", "BenchmarkKnitterADD")
	if got := add.values["knitter-ADD-p50-ms"]; !slices.Equal(got, []float64{14.4, 16.3}) {
		t.Errorf("knitter-ADD-p50-ms = %v, want both runs [14.4 16.3]", got)
	}
	if got := add.units; !slices.Equal(got, []string{"ns/op", "knitter-ADD-p50-ms", "knitter-ADD-p99-ms", "ref/knitter-ADD-p50", "knitter/floor-DEL-p50"}) {
		t.Errorf("units = %q, want them in the line's order", got)
	}
	if find(rs, "github.com/knitter-cni/knitter/sim", "BenchmarkScale/nodes=100/pods=3000").values["µs/pod"][0] != 133.7 {
		t.Error("the sim's µs/pod was not read under its package")
	}
}

// samples is a raw-sample file: BenchmarkKnitterADD's sizing call (n 1) then two runs of 3 calls;
// BenchmarkAgentRSS runs with -benchtime 1x, so n 1 is its real call.
const samples = `{"bench":"BenchmarkKnitterADD","n":1,"series":"knitter-ADD","ms":[99]}
{"bench":"BenchmarkKnitterADD","n":1,"series":"ref-ADD","ms":[999]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"knitter-ADD","ms":[14,12,30]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"ref-ADD","ms":[80,70,90]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"knitter-DEL","ms":[35,36,40]}

{"bench":"BenchmarkKnitterADD","n":1,"series":"knitter-ADD","ms":[98]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"knitter-ADD","ms":[15,13,20]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"ref-ADD","ms":[75,72,95]}
{"bench":"BenchmarkKnitterADD","n":3,"series":"knitter-DEL","ms":[33,34,50]}
{"bench":"BenchmarkAgentRSS","n":1,"series":"knitter-ADD","ms":[40,41]}
`

func TestParseSamples(t *testing.T) {
	sets, err := parseSamples(writeFile(t, "samples.jsonl", samples))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].bench != "BenchmarkKnitterADD" || sets[1].bench != "BenchmarkAgentRSS" {
		t.Fatalf("sets = %+v, want BenchmarkKnitterADD then BenchmarkAgentRSS", sets)
	}
	add := sets[0]
	if !slices.Equal(add.series, []string{"knitter-ADD", "ref-ADD", "knitter-DEL"}) {
		t.Errorf("series = %q", add.series)
	}
	runs := add.runs["knitter-ADD"]
	if len(runs) != 2 || !slices.Equal(runs[0], []float64{14, 12, 30}) || !slices.Equal(runs[1], []float64{15, 13, 20}) {
		t.Errorf("knitter-ADD runs = %v, want the two n=3 calls without the sizing calls' 99 and 98", runs)
	}
	if r := sets[1].runs["knitter-ADD"]; len(r) != 1 || len(r[0]) != 2 {
		t.Errorf("BenchmarkAgentRSS runs = %v, want its one n=1 call kept", r)
	}

	table := distributionTable(sets)
	// knitter-ADD: per run p50 14 and 15, p99 (the maximum of 3) 30 and 20.
	if !strings.Contains(table, "| knitter-ADD | 2 | 3 | 14–15 | 20–30 | 20–30 | 20–30 |") {
		t.Errorf("distribution table lacks knitter-ADD's per-run ranges:\n%s", table)
	}

	if sets, err := parseSamples(filepath.Join(t.TempDir(), "none.jsonl")); err != nil || sets != nil {
		t.Errorf("a missing file gave %v, %v; want no samples and no error", sets, err)
	}
	for name, text := range map[string]string{
		"not JSON":   "{\"bench\":\"B\",\"n\":1,\"series\":\"s\",\"ms\":[1]}\nnot json\n",
		"no series":  `{"bench":"B","n":1,"ms":[1]}`,
		"n of 0":     `{"bench":"B","n":0,"series":"s","ms":[1]}`,
		"no bench":   `{"n":1,"series":"s","ms":[1]}`,
		"ms as text": `{"bench":"B","n":1,"series":"s","ms":"1"}`,
	} {
		_, err := parseSamples(writeFile(t, "bad.jsonl", text))
		if err == nil {
			t.Errorf("%s: parsed without error", name)
		} else if !strings.Contains(err.Error(), "bad.jsonl:") {
			t.Errorf("%s: error %q does not name the file and line", name, err)
		}
	}
}

func TestQuantile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := quantile(hundred, c.q); got != c.want {
			t.Errorf("quantile(1..100, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := ecdf([]float64{3, 1, 2}); !slices.Equal(got, plotter.XYs{{X: 1, Y: 1.0 / 3}, {X: 2, Y: 2.0 / 3}, {X: 3, Y: 1}}) {
		t.Errorf("ecdf = %v, want the sorted values at 1/3, 2/3, 1", got)
	}
}

func TestTargets(t *testing.T) {
	rs, _, err := parse(writeFile(t, "results.txt", results))
	if err != nil {
		t.Fatal(err)
	}
	rows := evaluate(rs, targets)
	byWhat := map[string]targetRow{}
	for _, r := range rows {
		byWhat[r.bench+" "+r.metric] = r
	}
	cases := []struct {
		key, status string
		values      []float64
	}{
		// ≤ 15: 14.4 meets, 16.3 does not.
		{"BenchmarkKnitterADD knitter-ADD-p50-ms", "met in 1 of 2 runs", []float64{14.4, 16.3}},
		// ≤ 30: 31.0 misses, 29.0 meets.
		{"BenchmarkKnitterADD knitter-ADD-p99-ms", "met in 1 of 2 runs", []float64{31, 29}},
		// ≥ 5 (at least): 5.2 meets, 4.8 does not.
		{"BenchmarkKnitterADD ref/knitter-ADD-p50", "met in 1 of 2 runs", []float64{5.2, 4.8}},
		{"BenchmarkKnitterADD ref/knitter-ADD-p99", "not measured: the reference plugins were not built (hack/refplugins.sh)", nil},
		{"BenchmarkConcurrentPods knitter-pod-ADDs/s", "met in 1 of 2 runs", []float64{55.5, 61}},
		{"BenchmarkAgentRSS VmHWM-MiB", "not measured", nil},
		// ns/op in seconds: 57.7 meets ≤ 60, 61 does not.
		{"BenchmarkScale/nodes=5000/pods=150000 ns/op", "met in 1 of 2 runs", []float64{57.7, 61}},
	}
	for _, c := range cases {
		r, ok := byWhat[c.key]
		if !ok {
			t.Errorf("no target %s", c.key)
			continue
		}
		if r.status() != c.status || !slices.Equal(r.values, c.values) {
			t.Errorf("%s: %q %v, want %q %v", c.key, r.status(), r.values, c.status, c.values)
		}
	}
	every := []target{{bench: "BenchmarkConcurrentPods", metric: "ref-pod-ADDs/s", limit: 7}, {bench: "BenchmarkConcurrentPods", metric: "ref-pod-ADDs/s", limit: 8}}
	got := evaluate(rs, every)
	if got[0].status() != "**met** in every run (2 of 2)" || got[1].status() != "**missed** in every run (0 of 2)" {
		t.Errorf("statuses = %q, %q; want met in every run, missed in every run", got[0].status(), got[1].status())
	}
	table := targetTable(rows)
	if !strings.Contains(table, "| 8 concurrent pods: pod ADDs/s | ≥ 60 ADDs/s | 55.5–61 ADDs/s | met in 1 of 2 runs |") {
		t.Errorf("target table lacks the concurrent row:\n%s", table)
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# Title\n\nprose before\n\n" + beginMarker + "\nold\n" + endMarker + "\n\nprose after\n"
	got, err := replaceSection(doc, beginMarker+"\nnew\n"+endMarker)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\nprose before\n\n" + beginMarker + "\nnew\n" + endMarker + "\n\nprose after\n"; got != want {
		t.Errorf("replaceSection =\n%s\nwant\n%s", got, want)
	}
	for name, d := range map[string]string{
		"no markers":         "# Title\n",
		"end before begin":   endMarker + "\n" + beginMarker,
		"only the begin one": beginMarker + "\n",
	} {
		if _, err := replaceSection(d, "x"); err == nil {
			t.Errorf("%s: replaced without error", name)
		}
	}
}

// TestRun runs the whole report on the sample files: the document's section, its plots, and
// nothing outside the markers changed.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	before, after := "# Benchmarks\n\nhand-written\n\n", "\n\nmore prose\n"
	if err := os.WriteFile(doc, []byte(before+beginMarker+"\nstale\n"+endMarker+after), 0o644); err != nil {
		t.Fatal(err)
	}
	plots := filepath.Join(dir, "plots")
	if err := run(writeFile(t, "results.txt", results), writeFile(t, "samples.jsonl", samples), doc, plots); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !strings.HasPrefix(text, before+beginMarker) || !strings.HasSuffix(text, endMarker+after) || strings.Contains(text, "stale") {
		t.Errorf("the document outside the markers changed, or the old section stayed:\n%s", text)
	}
	for _, want := range []string{
		"- node before: 3.82 3.54 3.26",
		"#### Targets",
		"| 200-pod burst (8 callers): pod ADDs/s | ≥ 40 ADDs/s | — | not measured |",
		"`BenchmarkScale/nodes=5000/pods=150000` (2 runs",
		"| knitter-pod-ADDs/s | 55.5–61 |",
		"![KnitterADD-ADD-ecdf.png](plots/KnitterADD-ADD-ecdf.png)",
		"![KnitterADD-DEL-ecdf.png](plots/KnitterADD-DEL-ecdf.png)",
		"![node-add-del.png](plots/node-add-del.png)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the section lacks %q:\n%s", want, text)
		}
	}
	for _, png := range []string{"KnitterADD-ADD-ecdf.png", "KnitterADD-DEL-ecdf.png", "AgentRSS-ADD-ecdf.png", "node-add-del.png", "KnitterADDPodsUp-ADD-p50-ms.png"} {
		b, err := os.ReadFile(filepath.Join(plots, png))
		if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
			t.Errorf("%s: not a PNG (%v)", png, err)
		}
	}
	if _, err := os.Stat(filepath.Join(plots, "AgentRSS-DEL-ecdf.png")); err == nil {
		t.Error("drew a DEL distribution for a benchmark without DEL samples")
	}
}
