package sim

import (
	"fmt"
	"slices"
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
	Plant    *string `json:"plant,omitempty"`
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
		if s.Plant != nil {
			p, err := ParsePlant(*s.Plant)
			if err != nil {
				return c, err
			}
			c.Plant = p
		}
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
				"retries": s.Retries, "manager crashes": s.Crashes, "partitions": s.Partitions, "watch drops": s.WatchDrops} {
				vr.Mean[k] += float64(n)
			}
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
	b.WriteString("\n| variant | allocations | time to allocate p50 | p90 | p99 | max (virtual ms) |\n|---|---|---|---|---|---|\n")
	for _, v := range r.Variants {
		l := slices.Clone(v.Latencies)
		slices.Sort(l)
		q := func(f float64) int64 {
			if len(l) == 0 {
				return 0
			}
			return l[int(f*float64(len(l)-1))]
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", v.Name, len(l), q(0.5), q(0.9), q(0.99), q(1))
	}
	b.WriteString("\n![time to allocate per variant](latency.png)\n\n![used addresses over virtual time per variant](utilisation.png)\n")
	for _, v := range r.Variants {
		if len(v.Failing) > 0 {
			fmt.Fprintf(&b, "\n%s failed %d seeds; the first: `%s`\n", v.Name, len(v.Failing), v.Failing[0])
		}
	}
	return b.String()
}
