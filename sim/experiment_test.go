package sim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseExperimentErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a}]\nbogus: 1\n", "bogus"},
		{"name: x\nseeds: {from: 1, to: 2}\n", "variants"},
		{"name: x\nseeds: {from: 3, to: 2}\nvariants: [{name: a}]\n", "seeds"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a}, {name: a}]\n", "variants[1].name"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, plant: nope}]\n", "no-cooldown"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, duration: soon}]\n", "duration"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, cooldown: long}]\n", "cooldown"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, cooldown: -1s}]\n", "cooldown"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, preallocate: false}]\n", "preallocate"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, reconcile: 5s}]\n", "reconcile"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, monitor: true, reconcile: 2m}]\n", "reconcile"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, monitor: true, reconcile: 0s}]\n", "reconcile"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, preallocate: maybe}]\n", "preallocate"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, strategy: random}]\n", "strategy"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, nodes: 0, node_churn: true}]\n", "node_churn"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, node_churn: maybe}]\n", "node_churn"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, statefulsets: 3}]\n", "statefulsets"},
		{"name: x\nseeds: {from: 1, to: 2}\nvariants: [{name: a, nodes: 0, node_drain: true}]\n", "node_drain"},
	} {
		if _, err := ParseExperiment([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want one naming %q", tc.in, err, tc.want)
		}
	}
}

// TestExperimentComparesVariants: a planted variant fails where the baseline passes, over the same
// seeds, and the report says so in JSON fields and in the table.
func TestExperimentComparesVariants(t *testing.T) {
	e, err := ParseExperiment([]byte(`{"name": "cooldown", "seeds": {"from": 1, "to": 3},
		"base": {"nodes": 0, "pods": 15, "duration": "20s"},
		"variants": [{"name": "baseline"}, {"name": "no cooldown", "plant": "no-cooldown"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := RunExperiment(e)
	if len(rep.Variants) != 2 || rep.Variants[0].Kinds[OK] != 3 || rep.Variants[1].Kinds[Safety] != 3 {
		t.Fatalf("report %+v; want the baseline ok 3 times and the plant failing 3 times", rep.Variants)
	}
	md := rep.Markdown()
	if !strings.Contains(md, "| baseline | 3 | 3 | 0 | 0 | 0 |") || !strings.Contains(md, "| no cooldown | 3 | 0 | 3 | 0 | 0 |") ||
		!strings.Contains(md, "--plant no-cooldown") {
		t.Fatalf("markdown:\n%s", md)
	}
	if again := RunExperiment(e); again.Markdown() != md {
		t.Fatal("the same experiment gave another report")
	}
}

// TestKnobsChangeTheirMeasures: each knob moves the measure it is for, over the same seeds, and
// the same experiment gives the same report.
func TestKnobsChangeTheirMeasures(t *testing.T) {
	e, err := ParseExperiment([]byte(`{"name": "knobs", "seeds": {"from": 1, "to": 3},
		"base": {"nodes": 3, "pods": 15, "duration": "20s", "monitor": true},
		"variants": [{"name": "defaults"}, {"name": "no cooldown", "cooldown": "0s"},
			{"name": "at ADD", "preallocate": false}, {"name": "reconcile 15s", "reconcile": "15s"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := RunExperiment(e)
	v := map[string]VariantReport{}
	for _, vr := range rep.Variants {
		if vr.Kinds[OK] != vr.Runs {
			t.Fatalf("%s: %v; want every run ok (first: %s)", vr.Name, vr.Kinds, vr.Failing)
		}
		v[vr.Name] = vr
	}
	def := v["defaults"]
	if def.Mean["early reuses"] != 0 || v["no cooldown"].Mean["early reuses"] == 0 {
		t.Errorf("early reuses: %.1f with the cooldown, %.1f without; want 0 and more than 0",
			def.Mean["early reuses"], v["no cooldown"].Mean["early reuses"])
	}
	if at, pre := v["at ADD"].Mean["adds allocating"], def.Mean["adds allocating"]; at <= pre || at < 0.9*v["at ADD"].Mean["allocations"] {
		t.Errorf("ADDs that allocated: %.1f pre-allocated, %.1f at ADD (of %.1f allocations); want most at ADD and fewer pre-allocated",
			pre, at, v["at ADD"].Mean["allocations"])
	}
	if len(def.Leaks) == 0 || quantiles(v["reconcile 15s"].Leaks)[3] <= quantiles(def.Leaks)[3] {
		t.Errorf("leak lifetimes: %v with a 5s reconcile, %v with 15s; want leaks, living longer with 15s", def.Leaks, v["reconcile 15s"].Leaks)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(RunExperiment(e))
	if string(a) != string(b) {
		t.Fatal("the same experiment gave another report")
	}
}

// TestStrategyChangesFragmentation: next-fit scatters the used addresses over the subnet where
// lowest-free keeps them packed, and without a cooldown reuses few addresses early (it never wraps
// round in a short run; only a restarted manager, placed after the highest address still taken,
// comes back to some released just before its crash).
func TestStrategyChangesFragmentation(t *testing.T) {
	e, err := ParseExperiment([]byte(`{"name": "strategy", "seeds": {"from": 1, "to": 3},
		"base": {"nodes": 3, "pods": 15, "duration": "20s", "cooldown": "0s"},
		"variants": [{"name": "lowest-free", "strategy": "lowest-free"}, {"name": "next-fit", "strategy": "next-fit"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := RunExperiment(e)
	lf, nf := rep.Variants[0], rep.Variants[1]
	if lf.Kinds[OK] != 3 || nf.Kinds[OK] != 3 {
		t.Fatalf("kinds %v and %v; want every run ok", lf.Kinds, nf.Kinds)
	}
	if nf.Mean["spread"] < 1.5*lf.Mean["spread"] || nf.Mean["fragments"] <= lf.Mean["fragments"] {
		t.Errorf("spread %.1f vs %.1f, fragments %.1f vs %.1f (lowest-free vs next-fit); want next-fit far more spread and fragmented",
			lf.Mean["spread"], nf.Mean["spread"], lf.Mean["fragments"], nf.Mean["fragments"])
	}
	if lf.Mean["early reuses"] == 0 || nf.Mean["early reuses"] > lf.Mean["early reuses"]/4 {
		t.Errorf("early reuses without cooldown: %.1f lowest-free, %.1f next-fit; want some and under a quarter as many", lf.Mean["early reuses"], nf.Mean["early reuses"])
	}
}

// TestExperimentWorkloadFields: node_churn and statefulsets are read from the base and each
// variant (a variant's unset field keeps the base's) and reach the runs: the churned variant
// removes nodes, the StatefulSet variant's members take their held addresses back.
func TestExperimentWorkloadFields(t *testing.T) {
	e, err := ParseExperiment([]byte(`name: workload
seeds: {from: 1, to: 3}
base: {nodes: 3, pods: 15, duration: 20s, statefulsets: true}
variants:
- name: plain
  statefulsets: false
- name: statefulsets
- name: statefulsets and churn
  node_churn: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ churn, sts bool }{{false, false}, {false, true}, {true, true}}
	for i, v := range e.Variants {
		c, err := e.config(v, 1)
		if err != nil || c.NodeChurn != want[i].churn || c.StatefulSets != want[i].sts {
			t.Fatalf("variant %s: node churn %t, statefulsets %t (%v); want %+v", v.Name, c.NodeChurn, c.StatefulSets, err, want[i])
		}
	}
	rep := RunExperiment(e)
	for i, vr := range rep.Variants {
		if vr.Kinds[OK] != 3 {
			t.Fatalf("variant %s: %+v; want 3 runs ok", vr.Name, vr.Kinds)
		}
		if got := strings.Contains(vr.Repro, "--node-churn=true"); got != want[i].churn {
			t.Errorf("variant %s: repro %q; node churn %t", vr.Name, vr.Repro, want[i].churn)
		}
		if got := strings.Contains(vr.Repro, "--statefulsets"); got != want[i].sts {
			t.Errorf("variant %s: repro %q; statefulsets %t", vr.Name, vr.Repro, want[i].sts)
		}
	}
}
