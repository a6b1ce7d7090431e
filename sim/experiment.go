package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Settings are the run settings an experiment's base and each variant give; a variant's unset field
// keeps the base's.
type Settings struct {
	Nodes    *int    `json:"nodes,omitempty"`
	Pods     *int    `json:"pods,omitempty"`
	Duration *string `json:"duration,omitempty"`
	Faults   *bool   `json:"faults,omitempty"`
	Monitor  *bool   `json:"monitor,omitempty"`
	// NodeChurn adds and removes nodes and, with faults, reboots them (needs nodes); StatefulSets
	// adds a StatefulSet per tenant whose members are sticky to their ordinals (sim/statefulset.go).
	NodeChurn    *bool `json:"node_churn,omitempty"`
	StatefulSets *bool `json:"statefulsets,omitempty"`
	// NodeDrain drains nodes and brings removed nodes back (sim/drain.go; needs nodes).
	NodeDrain *bool `json:"node_drain,omitempty"`
	// NetworkChurn has an operator create and delete tenants and their networks (sim/netchurn.go).
	NetworkChurn *bool `json:"network_churn,omitempty"`
	// NetFaults gives the links between the components delays, loss and partitions
	// (sim/netfaults.go).
	NetFaults *bool   `json:"net_faults,omitempty"`
	Plant     *string `json:"plant,omitempty"`
	// The knobs (sim/knobs.go): the manager's cooldown (a duration, 0s for off), the monitor's
	// pre-allocation (false: the agent allocates at ADD) and its reconcile period.
	Cooldown    *string `json:"cooldown,omitempty"`
	Preallocate *bool   `json:"preallocate,omitempty"`
	Reconcile   *string `json:"reconcile,omitempty"`
	// Strategy is the manager's allocation strategy: lowest-free or next-fit.
	Strategy *string `json:"strategy,omitempty"`
}

// Variant is one arm of an experiment.
type Variant struct {
	Name string `json:"name"`
	Settings
}

// Experiment compares variants over the same seeds. In YAML or JSON:
//
//	name: monitor on and off
//	seeds: {from: 1, to: 20}
//	base: {nodes: 3, pods: 15, duration: 20s}
//	variants:
//	- name: without monitor
//	- name: with monitor
//	  monitor: true
type Experiment struct {
	Name  string `json:"name"`
	Seeds struct {
		From uint64 `json:"from"`
		To   uint64 `json:"to"`
	} `json:"seeds"`
	Base     Settings  `json:"base"`
	Variants []Variant `json:"variants"`
}

// ParseExperiment reads an experiment file (YAML or JSON); an unknown field is an error.
func ParseExperiment(data []byte) (Experiment, error) {
	var e Experiment
	if err := yaml.UnmarshalStrict(data, &e); err != nil {
		return e, fmt.Errorf("experiment: %w", err)
	}
	if e.Seeds.From == 0 || e.Seeds.To < e.Seeds.From {
		return e, fmt.Errorf("experiment: seeds: give from >= 1 and to >= from, such as seeds: {from: 1, to: 20}")
	}
	if len(e.Variants) == 0 {
		return e, fmt.Errorf("experiment: variants: give at least one, such as variants: [{name: baseline}]")
	}
	seen := map[string]bool{}
	for i, v := range e.Variants {
		if v.Name == "" || seen[v.Name] {
			return e, fmt.Errorf("experiment: variants[%d].name: give each variant a distinct non-empty name", i)
		}
		seen[v.Name] = true
		if _, err := e.config(v, e.Seeds.From); err != nil {
			return e, fmt.Errorf("experiment: variants[%d] (%s): %w", i, v.Name, err)
		}
	}
	return e, nil
}

func (e Experiment) config(v Variant, seed uint64) (Config, error) {
	c := Config{Seed: seed, Nodes: 3, Pods: 15, Duration: 20 * time.Second, Faults: true}
	for _, s := range []Settings{e.Base, v.Settings} {
		if s.Nodes != nil {
			c.Nodes = *s.Nodes
		}
		if s.Pods != nil {
			c.Pods = *s.Pods
		}
		if s.Duration != nil {
			d, err := time.ParseDuration(*s.Duration)
			if err != nil {
				return c, fmt.Errorf("duration: %q: give a duration such as 20s", *s.Duration)
			}
			c.Duration = d
		}
		if s.Faults != nil {
			c.Faults = *s.Faults
		}
		if s.Monitor != nil {
			c.Monitor = *s.Monitor
		}
		if s.NetworkChurn != nil {
			c.NetworkChurn = *s.NetworkChurn
		}
		if s.NodeChurn != nil {
			c.NodeChurn = *s.NodeChurn
		}
		if s.StatefulSets != nil {
			c.StatefulSets = *s.StatefulSets
		}
		if s.NodeDrain != nil {
			c.NodeDrain = *s.NodeDrain
		}
		if s.NetFaults != nil {
			c.NetFaults = *s.NetFaults
		}
		if s.Cooldown != nil {
			d, err := time.ParseDuration(*s.Cooldown)
			if err != nil {
				return c, fmt.Errorf("cooldown: %q: give a duration such as 30s, or 0s for none", *s.Cooldown)
			}
			c.Cooldown, c.NoCooldown = d, d == 0
		}
		if s.Strategy != nil {
			c.Strategy = *s.Strategy
		}
		if s.Preallocate != nil {
			c.AllocateAtAdd = !*s.Preallocate
		}
		if s.Reconcile != nil {
			d, err := time.ParseDuration(*s.Reconcile)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("reconcile: %q: give a positive duration such as 5s", *s.Reconcile)
			}
			c.ReconcileEvery = d
		}
		if s.Plant != nil {
			p, err := ParsePlant(*s.Plant)
			if err != nil {
				return c, err
			}
			c.Plant = p
		}
	}
	if c.NodeDrain && c.Nodes == 0 {
		return c, fmt.Errorf("node_drain: needs nodes; give nodes: 1 or more with node_drain: true")
	}
	if c.NodeChurn && c.Nodes == 0 {
		return c, fmt.Errorf("node_churn: needs nodes; give nodes: 1 or more with node_churn: true")
	}
	return c, c.Validate()
}

// VariantReport is one variant's outcome over the experiment's seeds.
type VariantReport struct {
	Name    string             `json:"name"`
	Repro   string             `json:"repro"` // the first seed's command
	Runs    int                `json:"runs"`
	Kinds   map[Kind]int       `json:"kinds"`
	Failing []string           `json:"failing,omitempty"` // each failing seed's command
	Mean    map[string]float64 `json:"mean"`              // per-run means of the counters
	// Latencies are every run's times to allocate (virtual ms), seed by seed; Used is the mean over
	// the runs of the used addresses at each SampleEvery (runs whose manager was down there, or
	// that had ended, left out; -1 where none counted).
	Latencies []int64   `json:"latencies"`
	Used      []float64 `json:"used"`
	// AddLatencies are every run's CNI ADD latencies (virtual ms from the sandbox's first ADD
	// attempt to the one that succeeded) and Leaks every leaked port set's lifetime (virtual ms
	// from the pod object's deletion to the reconcile's release), seed by seed (Measures).
	AddLatencies []int64 `json:"add_latencies"`
	Leaks        []int64 `json:"leaks"`
}

// Report is an experiment's outcome.
type Report struct {
	Name     string          `json:"name"`
	From     uint64          `json:"from"`
	To       uint64          `json:"to"`
	Variants []VariantReport `json:"variants"`
}

// RunExperiment runs every variant over the same seeds, on the caller's goroutine.
func RunExperiment(e Experiment) Report {
	rep := Report{Name: e.Name, From: e.Seeds.From, To: e.Seeds.To}
	for _, v := range e.Variants {
		base, _ := e.config(v, e.Seeds.From) // checked by ParseExperiment
		base.Series = true
		var sum []float64
		var cnt []int
		vr := VariantReport{Name: v.Name, Repro: base.Repro(), Kinds: map[Kind]int{}, Mean: map[string]float64{}}
		for _, r := range Swarm(base, e.Seeds.From, e.Seeds.To) {
			vr.Runs++
			vr.Kinds[r.Kind]++
			if r.Kind != OK {
				vr.Failing = append(vr.Failing, r.Config.Repro())
			}
			vr.Latencies = append(vr.Latencies, r.Latencies...)
			vr.AddLatencies = append(vr.AddLatencies, r.Measures.AddLatencies...)
			vr.Leaks = append(vr.Leaks, r.Measures.Leaks...)
			for i, u := range r.Used {
				if i == len(sum) {
					sum, cnt = append(sum, 0), append(cnt, 0)
				}
				if u >= 0 {
					sum[i] += float64(u)
					cnt[i]++
				}
			}
			s := r.Stats
			for k, n := range map[string]int{"events": s.Events, "allocations": s.Allocated, "releases": s.Released,
				"retries": s.Retries, "manager crashes": s.Crashes, "partitions": s.Partitions, "watch drops": s.WatchDrops,
				"early reuses": r.Measures.EarlyReuses, "adds allocating": r.Measures.AddsAllocating, "leaks": len(r.Measures.Leaks)} {
				vr.Mean[k] += float64(n)
			}
			vr.Mean["fragments"] += r.Measures.Fragments
			vr.Mean["spread"] += r.Measures.Spread
		}
		for k := range vr.Mean {
			vr.Mean[k] /= float64(vr.Runs)
		}
		for i := range sum {
			if cnt[i] == 0 {
				vr.Used = append(vr.Used, -1)
			} else {
				vr.Used = append(vr.Used, sum[i]/float64(cnt[i]))
			}
		}
		rep.Variants = append(rep.Variants, vr)
	}
	return rep
}

// Markdown renders the report as a table, one row per variant.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nSeeds %d..%d, the same for every variant.\n\n", r.Name, r.From, r.To)
	var cols []string
	if len(r.Variants) > 0 {
		for k := range r.Variants[0].Mean {
			cols = append(cols, k)
		}
		sort.Strings(cols)
	}
	b.WriteString("| variant | runs | ok | safety | liveness | crash |")
	for _, c := range cols {
		fmt.Fprintf(&b, " mean %s |", c)
	}
	b.WriteString("\n|---|---|---|---|---|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, v := range r.Variants {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |", v.Name, v.Runs, v.Kinds[OK], v.Kinds[Safety], v.Kinds[Liveness], v.Kinds[Crash])
		for _, c := range cols {
			fmt.Fprintf(&b, " %.1f |", v.Mean[c])
		}
		b.WriteString("\n")
	}
	for _, t := range []struct {
		head string
		of   func(VariantReport) []int64
	}{
		{"allocations | time to allocate p50", func(v VariantReport) []int64 { return v.Latencies }},
		{"CNI ADDs | ADD latency p50", func(v VariantReport) []int64 { return v.AddLatencies }},
		{"leaks | leak lifetime p50", func(v VariantReport) []int64 { return v.Leaks }},
	} {
		fmt.Fprintf(&b, "\n| variant | %s | p90 | p99 | max (virtual ms) |\n|---|---|---|---|---|---|\n", t.head)
		for _, v := range r.Variants {
			l := t.of(v)
			q := quantiles(l)
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", v.Name, len(l), q[0], q[1], q[2], q[3])
		}
	}
	b.WriteString("\n![time to allocate per variant](latency.png)\n\n![used addresses over virtual time per variant](utilisation.png)\n" +
		"\n![CNI ADD latency per variant](add-latency.png)\n\n![leaked ports' lifetime per variant](leaks.png)\n")
	for _, v := range r.Variants {
		if len(v.Failing) > 0 {
			fmt.Fprintf(&b, "\n%s failed %d seeds; the first: `%s`\n", v.Name, len(v.Failing), v.Failing[0])
		}
	}
	return b.String()
}
