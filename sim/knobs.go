package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Knobs are the product settings an experiment varies; the zero value is the product's defaults.
type Knobs struct {
	// Cooldown is the manager's cooldown (0: alloc's default, 30 s); NoCooldown turns it off. The
	// invariants expect what the manager is given.
	Cooldown   time.Duration
	NoCooldown bool
	// AllocateAtAdd runs the monitor without pre-allocation (monitor.Config.AllocateAtAdd): the
	// agent allocates at CNI ADD. Needs Monitor.
	AllocateAtAdd bool
	// ReconcileEvery is the monitor's reconcile period (0: DefaultReconcile). Needs Monitor.
	ReconcileEvery time.Duration
	// Strategy is the manager's allocation strategy (alloc.Config.Strategy; "" is lowest-free).
	Strategy string
}

// DefaultReconcile is the simulated monitor's reconcile period unless Knobs.ReconcileEvery says
// otherwise.
const DefaultReconcile = 5 * time.Second

// ReuseWindow is the window Measures.EarlyReuses counts in: alloc's default cooldown, whatever the
// run's cooldown is.
var ReuseWindow = alloc.DefaultConfig().Cooldown

func (k Knobs) validate(monitor bool) error {
	switch {
	case k.Strategy != "" && k.Strategy != alloc.StrategyLowestFree && k.Strategy != alloc.StrategyNextFit:
		return fmt.Errorf("strategy: %q is not a strategy; give %s or %s", k.Strategy, alloc.StrategyLowestFree, alloc.StrategyNextFit)
	case k.Cooldown < 0 || k.Cooldown > 10*time.Minute:
		return fmt.Errorf("cooldown: %s is out of range; give 0s (off) to 10m", k.Cooldown)
	case k.AllocateAtAdd && !monitor:
		return fmt.Errorf("preallocate: pre-allocation is the monitor's; give monitor: true (--monitor) with preallocate: false")
	case k.ReconcileEvery != 0 && !monitor:
		return fmt.Errorf("reconcile: the reconcile is the monitor's; give monitor: true (--monitor) with reconcile")
	case k.ReconcileEvery < 0 || k.ReconcileEvery != 0 && (k.ReconcileEvery < 100*time.Millisecond || k.ReconcileEvery > 15*time.Second):
		return fmt.Errorf("reconcile: %s is out of range; give 100ms to 15s (a leak lives up to two periods and the orphan grace, 5s, and must be gone within the liveness bound, %s)", k.ReconcileEvery, LivenessBound)
	}
	return nil
}

// flags are the knobs as knitter-sim run flags, for Repro ("" for the defaults).
func (k Knobs) flags() string {
	s := ""
	if k.NoCooldown {
		s += " --cooldown 0s"
	} else if k.Cooldown != 0 {
		s += " --cooldown " + k.Cooldown.String()
	}
	if k.AllocateAtAdd {
		s += " --preallocate=false"
	}
	if k.ReconcileEvery != 0 {
		s += " --reconcile " + k.ReconcileEvery.String()
	}
	if k.Strategy != "" {
		s += " --strategy " + k.Strategy
	}
	return s
}

// apply sets the allocation tunables the knobs change.
func (k Knobs) apply(c *alloc.Config) {
	c.Strategy = k.Strategy
	switch {
	case k.NoCooldown:
		c.Cooldown = 0
	case k.Cooldown != 0:
		c.Cooldown = k.Cooldown
	}
}

// reconcileEvery is the monitor's reconcile period in virtual ms.
func (k Knobs) reconcileEvery() int64 {
	if k.ReconcileEvery == 0 {
		return DefaultReconcile.Milliseconds()
	}
	return k.ReconcileEvery.Milliseconds()
}

// Measures are what a run measured for experiments, beyond Stats.
type Measures struct {
	// EarlyReuses counts acknowledged allocations of an address within ReuseWindow after its
	// acknowledged release on the same network.
	EarlyReuses int `json:"early_reuses"`
	// AddLatencies are, for each successful CNI ADD (with nodes), the virtual ms from the
	// kubelet's first ADD attempt of the sandbox to the one that succeeded; AddsAllocating counts
	// the successful ADDs that found no allocation at the manager, so the agent made it.
	AddLatencies   []int64 `json:"add_latencies"`
	AddsAllocating int     `json:"adds_allocating"`
	// Leaks are, for each deleted pod whose ports the monitor's event path missed and its
	// reconcile released (with the monitor), the virtual ms from the pod object's deletion to that
	// release: how long the leaked ports lived.
	Leaks []int64 `json:"leaks"`
	// Fragments and Spread are, averaged over the samples every SampleEvery while the manager
	// serves, the runs of consecutive used addresses and the addresses from the lowest used to the
	// highest, summed over the workload's networks: how scattered the used addresses are.
	Fragments float64 `json:"fragments"`
	Spread    float64 `json:"spread"`
	samples   int
	// Released counts, with the monitor, the deleted pods with ports whose release it acknowledged
	// (by either path).
	Released int `json:"released"`
}

// probe gathers a run's Measures as the run goes; it only observes.
type probe struct {
	w    *World
	wl   *workload
	m    *Measures
	from map[string]int64 // uid -> the first ADD attempt of its sandbox
	gone map[string]int64 // uid -> when its deletion was first seen awaiting the monitor's release
	next int64            // the next fragmentation sample's virtual time
}

func newProbe(w *World, wl *workload, m *Measures) *probe {
	return &probe{w: w, wl: wl, m: m, from: map[string]int64{}, gone: map[string]int64{}}
}

// step runs after every event.
func (pr *probe) step() {
	for uid := range pr.wl.awaiting {
		if _, ok := pr.gone[uid]; !ok {
			pr.gone[uid] = pr.w.Now()
		}
	}
	if pr.w.Now() < pr.next || !pr.wl.sys.serving() {
		return
	}
	for pr.next <= pr.w.Now() {
		pr.next += SampleEvery.Milliseconds()
	}
	byNet := map[string][]netip.Addr{}
	_ = pr.wl.sys.mgr.View(func(s *alloc.State) {
		for _, p := range s.Ports(alloc.System, alloc.PortFilter{}) {
			byNet[p.Network] = append(byNet[p.Network], p.IPs...)
		}
	})
	frags, spread := 0, 0
	for _, ips := range byNet {
		slices.SortFunc(ips, netip.Addr.Compare)
		for i, a := range ips {
			if i == 0 || ips[i-1].Next() != a {
				frags++
			}
		}
		if len(ips) > 0 && ips[0].Is4() {
			lo, hi := ips[0].As4(), ips[len(ips)-1].As4()
			spread += int(binary.BigEndian.Uint32(hi[:])-binary.BigEndian.Uint32(lo[:])) + 1
		}
	}
	m := pr.m
	m.Fragments = (m.Fragments*float64(m.samples) + float64(frags)) / float64(m.samples+1)
	m.Spread = (m.Spread*float64(m.samples) + float64(spread)) / float64(m.samples+1)
	m.samples++
}

// reused is told of every address an acknowledged allocation gives, with its last release (ok
// false if none).
func (pr *probe) reused(at int64, ok bool) {
	if ok && pr.w.Now() < at+ReuseWindow.Milliseconds() {
		pr.m.EarlyReuses++
	}
}

// add is the runtime's CNI ADD of p's sandbox through its node's agent, timed.
func (wl *workload) add(p *simPod) error {
	var pr *probe
	if wl.check != nil {
		pr = wl.check.probe
	}
	if pr == nil {
		return wl.nodes.add(p)
	}
	if _, ok := pr.from[p.uid]; !ok {
		pr.from[p.uid] = wl.w.Now()
	}
	held := false
	if wl.sys.mgr != nil {
		_ = wl.sys.mgr.View(func(s *alloc.State) { _, held = s.Pod(p.uid) })
	}
	err := wl.nodes.add(p)
	if err == nil {
		pr.m.AddLatencies = append(pr.m.AddLatencies, wl.w.Now()-pr.from[p.uid])
		delete(pr.from, p.uid)
		if !held {
			pr.m.AddsAllocating++
		}
	}
	return err
}

// monitorRelease is told of every release the manager acknowledged to the monitor, before the
// workload settles the pod; byReconcile says the reconcile made it.
func (pr *probe) monitorRelease(uid string, byReconcile bool) {
	p, ok := pr.wl.awaiting[uid]
	at, seen := pr.gone[uid]
	delete(pr.gone, uid)
	if !ok || !seen || !p.allocated {
		return
	}
	pr.m.Released++
	if byReconcile {
		pr.m.Leaks = append(pr.m.Leaks, pr.w.Now()-at)
	}
}

// quantiles returns the p50, p90, p99 and max of v (zeros for none).
func quantiles(v []int64) [4]int64 {
	l := slices.Clone(v)
	slices.Sort(l)
	var q [4]int64
	if len(l) == 0 {
		return q
	}
	for i, f := range []float64{0.5, 0.9, 0.99, 1} {
		q[i] = l[int(f*float64(len(l)-1))]
	}
	return q
}
