package main

import (
	"fmt"
	"strings"
)

// target is one of DESIGN.md §8's performance targets (issue 12's where it is stricter) that a
// benchmark of the report measures: the metric of one benchmark against a limit, run by run.
type target struct {
	what   string
	bench  string // the benchmark's name without the -GOMAXPROCS suffix
	metric string // a unit of the benchmark's line
	atMost bool   // met when value ≤ limit; else when value ≥ limit
	limit  float64
	div    float64 // the metric divided by div is in the limit's unit (0: 1)
	unit   string  // the limit's unit, as printed
	// absent says why the report may lack the benchmark, for the "not measured" row.
	absent string
}

var targets = []target{
	{what: "CNI ADD p50 (eth0 + 3 NICs)", bench: "BenchmarkKnitterADD", metric: "knitter-ADD-p50-ms", atMost: true, limit: 15, unit: "ms"},
	{what: "CNI ADD p99", bench: "BenchmarkKnitterADD", metric: "knitter-ADD-p99-ms", atMost: true, limit: 30, unit: "ms"},
	{what: "reference / Knitter, ADD p50 (same run)", bench: "BenchmarkKnitterADD", metric: "ref/knitter-ADD-p50", limit: 5, unit: "×",
		absent: "the reference plugins were not built (hack/refplugins.sh)"},
	{what: "reference / Knitter, ADD p99 (same run)", bench: "BenchmarkKnitterADD", metric: "ref/knitter-ADD-p99", limit: 5, unit: "×",
		absent: "the reference plugins were not built (hack/refplugins.sh)"},
	{what: "Knitter / floor, DEL p50 (same run)", bench: "BenchmarkKnitterADD", metric: "knitter/floor-DEL-p50", atMost: true, limit: 1.2, unit: "×"},
	{what: "plugin start over an empty Go binary, p50", bench: "BenchmarkPluginStart", metric: "plugin-minus-empty-p50-ms", atMost: true, limit: 2, unit: "ms"},
	{what: "8 concurrent pods: pod ADDs/s", bench: "BenchmarkConcurrentPods", metric: "knitter-pod-ADDs/s", limit: 60, unit: "ADDs/s"},
	{what: "200-pod burst (8 callers): pod ADDs/s", bench: "BenchmarkAgentRSS", metric: "pod-ADDs/s", limit: 40, unit: "ADDs/s"},
	{what: "agent RSS under the 200-pod burst (VmHWM)", bench: "BenchmarkAgentRSS", metric: "VmHWM-MiB", atMost: true, limit: 40, unit: "MiB"},
	{what: "agent restart with 200 attachments", bench: "BenchmarkRestart200", metric: "restart-ms", atMost: true, limit: 1000, unit: "ms"},
	{what: "manager, HTTPS, 64 clients: port allocations/s", bench: "BenchmarkManagerAllocateHTTPS/clients=64", metric: "ports/s", limit: 20000, unit: "ports/s"},
	{what: "manager, HTTPS, 64 clients: p99", bench: "BenchmarkManagerAllocateHTTPS/clients=64", metric: "p99-ms", atMost: true, limit: 20, unit: "ms"},
	{what: "manager cold start, 150,000 ports", bench: "BenchmarkManagerColdStart150k", metric: "s/start", atMost: true, limit: 1, unit: "s"},
	{what: "simulator: 5,000 nodes / 150,000 pods created and deleted", bench: "BenchmarkScale/nodes=5000/pods=150000", metric: "ns/op", div: 1e9, atMost: true, limit: 60, unit: "s",
		absent: "run with SIMSCALE=full"},
}

// targetRow is a target with the values the report's runs gave.
type targetRow struct {
	target
	values []float64 // in the limit's unit
	met    int
}

func (t target) meets(v float64) bool {
	if t.atMost {
		return v <= t.limit
	}
	return v >= t.limit
}

func evaluate(results []*result, ts []target) []targetRow {
	rows := make([]targetRow, 0, len(ts))
	for _, t := range ts {
		row := targetRow{target: t}
		div := t.div
		if div == 0 {
			div = 1
		}
		for _, r := range results {
			if r.bench != t.bench {
				continue
			}
			for _, v := range r.values[t.metric] {
				v /= div
				row.values = append(row.values, v)
				if t.meets(v) {
					row.met++
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func (r targetRow) status() string {
	n := len(r.values)
	switch {
	case n == 0:
		if r.absent != "" {
			return "not measured: " + r.absent
		}
		return "not measured"
	case r.met == n:
		return fmt.Sprintf("**met** in every run (%d of %d)", r.met, n)
	case r.met == 0:
		return fmt.Sprintf("**missed** in every run (0 of %d)", n)
	}
	return fmt.Sprintf("met in %d of %d runs", r.met, n)
}

func targetTable(rows []targetRow) string {
	var b strings.Builder
	b.WriteString("\n#### Targets (DESIGN.md §8, issue 12)\n\n")
	b.WriteString("Each run's value against the target; a ratio is the benchmark's own, measured within one run.\n\n")
	b.WriteString("| target | limit | measured (range over runs) | result |\n|---|---|---|---|\n")
	for _, r := range rows {
		op := "≥"
		if r.atMost {
			op = "≤"
		}
		measured := "—"
		if len(r.values) > 0 {
			measured = span(r.values) + " " + r.unit
		}
		fmt.Fprintf(&b, "| %s | %s %g %s | %s | %s |\n", r.what, op, r.limit, r.unit, measured, r.status())
	}
	return b.String()
}
