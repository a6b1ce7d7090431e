package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExperimentWritesReportAndPlots runs a two-variant experiment twice: report.json is byte for
// byte the same, it carries each variant's latencies and utilisation series, report.md links the
// plots, and both PNGs decode with a non-empty image.
func TestExperimentWritesReportAndPlots(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.yaml")
	exp := "name: plots\nseeds: {from: 1, to: 2}\nbase: {nodes: 2, pods: 8, duration: 5s}\nvariants:\n- name: agents only\n- name: with monitor\n  monitor: true\n"
	if err := os.WriteFile(file, []byte(exp), 0o644); err != nil {
		t.Fatal(err)
	}
	var reports [2][]byte
	for i := range reports {
		out := filepath.Join(dir, []string{"a", "b"}[i])
		if s, code := execute(t, "experiment", file, "--out", out); code != exitOK {
			t.Fatalf("experiment exited %d: %s", code, s)
		}
		js, err := os.ReadFile(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		reports[i] = js
		md, err := os.ReadFile(filepath.Join(out, "report.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"latency.png", "utilisation.png", "add-latency.png", "leaks.png"} {
			if !strings.Contains(string(md), "]("+f+")") {
				t.Errorf("report.md does not link %s", f)
			}
			data, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
				t.Fatalf("%s is empty: %v", f, b)
			}
		}
	}
	if !bytes.Equal(reports[0], reports[1]) {
		t.Fatalf("two runs of the same experiment wrote different report.json")
	}
	var rep struct {
		Variants []struct {
			Name      string
			Latencies []int64
			Used      []float64
		}
	}
	if err := json.Unmarshal(reports[0], &rep); err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Variants {
		used := false
		for _, u := range v.Used {
			used = used || u > 0
		}
		if len(v.Latencies) == 0 || !used {
			t.Errorf("%s: %d latencies, used series %v; want allocations and used addresses", v.Name, len(v.Latencies), v.Used)
		}
	}
}
