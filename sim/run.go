package sim

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Kind classifies a run's outcome.
type Kind string

// Outcomes. The CLI maps each failure to its own exit code.
const (
	OK       Kind = "ok"
	Crash    Kind = "crash"    // a panic in the simulator or a shell
	Safety   Kind = "safety"   // an invariant that must hold after every step broke
	Liveness Kind = "liveness" // the system did not converge after the faults stopped
)

// Config is one run.
type Config struct {
	Seed uint64
	// Nodes is the number of nodes, each with a real agent that pods' CNI ADD and DEL go through;
	// 0 means the workload calls the manager directly.
	Nodes int
	// Managers is the number of manager processes over the one store (0 means 1): one leads, the
	// others stand by and take over when it crashes or is cut off.
	Managers int
	// Pods is the number of live pods the workload aims for.
	Pods int
	// Duration is the virtual time of the fault phase; a liveness phase of LivenessBound follows.
	Duration time.Duration
	// Faults turns on manager crashes, store write failures, outages and lost terms.
	Faults bool
	// NodeChurn (with Nodes) adds nodes and removes them during the fault phase: a join starts a
	// new agent, a removal takes a node away without a drain (its pods are replaced elsewhere,
	// its ports released); with Faults it adds node reboots to the faults.
	NodeChurn bool
	// NetworkChurn has an operator create tenants with a network each (overlay, vlan or macvlan)
	// and delete them while and after pods use them, during the fault phase (sim/netchurn.go).
	NetworkChurn bool
	// NetFaults (with Faults) gives every link between the components a delay distribution and a
	// loss rate, and cuts seeded sets of links at once for a while (sim/netfaults.go).
	NetFaults bool
	// NodeDrain (with Nodes) drains nodes (cordon, evict through the normal DEL, remove) and
	// brings removed nodes back under their names during the fault phase (sim/drain.go).
	NodeDrain bool
	// StatefulSets adds a StatefulSet per tenant (sim/statefulset.go) whose members are scaled up
	// and down and replaced under their names, their allocations sticky to their ordinals.
	StatefulSets bool
	// Monitor puts the Kubernetes API server (fakes/fakekube) and the real monitor shell in the
	// world: pods are objects the kubelet model acts on, the monitor allocates and releases. Needs
	// Nodes > 0.
	Monitor bool
	// Plant is a bug planted on purpose ("" for none).
	Plant Plant
	// KeepTrace keeps every trace line in Result.Trace.
	KeepTrace bool
	// Series records Result.Latencies, Result.Used and Result.Measures (for experiments).
	Series bool
	// Knobs are the product settings experiments vary (sim/knobs.go).
	Knobs
}

// SampleEvery is the virtual interval at which a run with Series samples the manager's used
// addresses.
const SampleEvery = 500 * time.Millisecond

// DefaultConfig is the run the CLI and the test swarm use unless told otherwise.
func DefaultConfig(seed uint64) Config {
	return Config{Seed: seed, Nodes: 3, Pods: 40, Duration: 2 * time.Minute, Faults: true, NodeChurn: true}
}

// LivenessBound is how long, in virtual time, the system has to converge once faults stop.
const LivenessBound = time.Minute

// Stats counts what a run did.
type Stats struct {
	Events, Created, Deleted, Allocated, Released, Retries int
	Crashes, WriteFaults, LostTerms, Outages, AgentCrashes int
	WatchDrops, Conflicts, MonitorCrashes, Partitions      int
	// Failovers counts leaderships won by another manager than the one that led before.
	Failovers int
	// Node churn and node crashes: nodes joined and removed, nodes rebooted.
	NodesJoined, NodesRemoved, NodeReboots int
	// Network churn: networks created and deleted, tenants deleted, deletions the manager refused
	// while ports remained, and ADDs (or allocations) that failed because the pod's network was
	// missing.
	NetworksCreated, NetworksDeleted, TenantsDeleted, DeletesRefused, MissingNetworkAdds int
	// Network faults: messages lost, network partitions and the most in force at once.
	MessagesLost, NetPartitions, MaxOverlap int
	// StatefulSets: members whose first allocation took their owner's held addresses back, and
	// members allocated while their predecessor's release was still to come (no hold to take).
	StickyTaken, StickyRaced int
	// Node drains (Config.NodeDrain): nodes drained and removed, removed nodes that came back.
	NodesDrained, NodesReturned int
	// From the API server (fakes/fakekube), with the monitor: the write conflicts that happened (a
	// planted conflict not reached before the run ends is not one), the relists after dropped
	// watches, and the watch events delivered.
	Relists, Delivered int
	FinalPods          int
}

// Result is a run's outcome.
type Result struct {
	Config Config
	Kind   Kind
	Err    string // the violation or panic, empty when OK
	Hash   string // the trace hash
	Stats  Stats
	Trace  []string // with KeepTrace
	// With Series: each acknowledged allocation's time to allocate, in virtual ms from the pod's
	// creation to the manager's acknowledged allocation, in
	// the order they happened.
	Latencies []int64
	// With Series: the addresses the manager holds as used (all networks), every SampleEvery of
	// virtual time from 0; -1 where the manager was not serving.
	Used []int
	// With Series: what the knobs change (sim/knobs.go).
	Measures Measures
}

// Validate checks a configuration; a run of an invalid one reports a Crash with this error.
func (c Config) Validate() error {
	if c.Pods < 1 || c.Pods > 400 {
		return fmt.Errorf("pods: %d is out of range; give 1-400 (the networks are sized for that)", c.Pods)
	}
	if c.Nodes < 0 || c.Nodes > 250 {
		return fmt.Errorf("nodes: %d is out of range; give 0-250", c.Nodes)
	}
	if c.Managers < 0 || c.Managers > 3 {
		return fmt.Errorf("managers: %d is out of range; give 1-3", c.Managers)
	}
	if c.Monitor && c.Nodes == 0 {
		return fmt.Errorf("monitor: needs nodes; give --nodes 1 or more with --monitor")
	}
	if err := c.Knobs.validate(c.Monitor); err != nil {
		return err
	}
	if c.Duration <= 0 {
		return fmt.Errorf("duration: %s; give a positive virtual duration such as 2m", c.Duration)
	}
	return nil
}

// Repro is the command that reproduces the run.
func (c Config) Repro() string {
	s := fmt.Sprintf("knitter-sim run --seed %d --nodes %d --pods %d --duration %s --faults=%t", c.Seed, c.Nodes, c.Pods, c.Duration, c.Faults)
	if c.Managers > 1 {
		s += fmt.Sprintf(" --managers %d", c.Managers)
	}
	if c.Nodes > 0 {
		s += fmt.Sprintf(" --node-churn=%t", c.NodeChurn)
	}
	if c.NetworkChurn {
		s += " --network-churn"
	}
	if c.NetFaults {
		s += " --net-faults"
	}
	if c.Monitor {
		s += " --monitor"
	}
	if c.StatefulSets {
		s += " --statefulsets"
	}
	if c.NodeDrain {
		s += " --node-drain"
	}
	if c.Plant != PlantNone {
		s += " --plant " + string(c.Plant)
	}
	return s + c.Knobs.flags()
}

// Run runs one simulation. It never panics: a panic is reported as a Crash.
func Run(cfg Config) (res Result) {
	w := NewWorld(cfg.Seed)
	w.keepLog = cfg.KeepTrace
	res.Config = cfg
	defer func() {
		if r := recover(); r != nil {
			res.Kind, res.Err = Crash, fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
			w.Record("PANIC %v", r)
		}
		res.Hash, res.Trace = w.Hash(), w.log
		res.Stats.Events = w.Steps()
	}()
	if err := cfg.Validate(); err != nil {
		return fail(res, Crash, err)
	}
	acfg := alloc.DefaultConfig()
	cfg.Knobs.apply(&acfg)
	mcfg := acfg
	if cfg.Plant == PlantNoCooldown {
		mcfg.Cooldown = 0
	}
	if cfg.Plant == PlantNoSticky {
		mcfg.StickyTTL = 0
	}
	if cfg.Plant == PlantReuseBeforeDEL {
		// Cooldown off is a configuration the operator may choose; then only DEL-before-release
		// keeps an address off two sandboxes.
		acfg.Cooldown, mcfg.Cooldown = 0, 0
	}
	sys := newSystem(w, acfg, mcfg, cfg.Plant, cfg.Managers)
	wl := &workload{w: w, sys: sys, rng: w.Rand("workload"), plant: cfg.Plant, target: cfg.Pods,
		pods: map[string]*simPod{}, byName: map[string]string{}}
	chk := &checker{w: w, sys: sys, wl: wl, cooldown: acfg.Cooldown.Milliseconds(), freed: map[string]int64{},
		stickyTTL: acfg.StickyTTL.Milliseconds(), holds: map[string]*stickyHold{}, heldBy: map[string]string{}}
	wl.check = chk
	if cfg.Series {
		chk.probe = newProbe(w, wl, &res.Measures)
	}

	if err := sys.startAll(); err != nil {
		return fail(res, Crash, err)
	}
	if st := sys.lead(); !strings.HasPrefix(st, "activated") && !strings.HasPrefix(st, "1:activated") {
		return fail(res, Crash, fmt.Errorf("first manager did not activate: %s", st))
	}
	if err := wl.setup(); err != nil {
		return fail(res, Crash, err)
	}
	if cfg.NetFaults && cfg.Faults {
		sys.links = newLinks(w, &wl.stats, len(sys.procs))
	}
	var nics []string
	if cfg.NetworkChurn {
		wl.ops = newOperator(w, wl)
		nics = ChurnNICs
	}
	if cfg.Nodes > 0 {
		wrap := plantedClient(cfg.Plant)
		if sys.links != nil {
			wrap = sys.links.wrapLossy(wrap)
		}
		ns, err := newNodes(cfg.Nodes, sys, nics, wrap)
		if err != nil {
			return fail(res, Crash, err)
		}
		wl.nodes = ns
		sys.changed = func() { ns.retarget(sys) }
		var beat func()
		beat = func() {
			if sys.links != nil {
				sys.links.heartbeat(ns)
			} else {
				ns.heartbeat()
			}
			w.After(5000, "heartbeat", beat)
		}
		w.After(0, "heartbeat", beat)
		if cfg.Monitor {
			names := make([]string, len(ns.list))
			for i, nd := range ns.list {
				names[i] = nd.name
			}
			k, err := newKube(w, sys, names, &wl.stats, cfg.Knobs, chk.probe)
			if err != nil {
				return fail(res, Crash, err)
			}
			wl.kube, wl.awaiting = k, map[string]*simPod{}
			k.released = wl.monitorReleased
			var mstep, rec func()
			mstep = func() { k.step(contextBG); wl.observeGone(); w.After(100, "monitor", mstep) }
			rec = func() { k.reconcile(contextBG); w.After(cfg.reconcileEvery(), "reconcile", rec) }
			w.After(100, "monitor", mstep)
			w.After(cfg.reconcileEvery(), "reconcile", rec)
		}
	}

	end := cfg.Duration.Milliseconds()
	faultsOn := cfg.Faults
	// The shells' background loops, as scheduled steps.
	var lead, tick func()
	lead = func() { w.Record("lead %s", sys.lead()); w.After(250, "lead", lead) }
	tick = func() {
		if sys.serving() {
			w.Record("tick %v", sys.tick())
		}
		w.After(1000, "tick", tick)
	}
	w.After(250, "lead", lead)
	w.After(1000, "tick", tick)
	// The workload.
	wrng := w.Rand("workload-timing")
	var act func()
	act = func() {
		if w.Now() < end {
			wl.act()
			w.After(20+int64(wrng.IntN(200)), "act", act)
		}
	}
	w.After(0, "act", act)
	if cfg.NodeChurn && wl.nodes != nil {
		scheduleNodeChurn(w, wl, cfg.Nodes, end)
	}
	if wl.ops != nil {
		wl.ops.schedule(end)
	}
	if cfg.StatefulSets {
		scheduleStatefulSets(w, wl, end)
	}
	if cfg.NodeDrain && wl.nodes != nil {
		scheduleNodeDrain(w, wl, end)
	}
	// Faults.
	if faultsOn {
		scheduleFaults(w, sys, wl, cfg.Plant, cfg.NodeChurn, &wl.stats, end, &faultsOn)
		if wl.kube != nil {
			scheduleKubeFaults(w, wl.kube, &wl.stats, end, &faultsOn)
		}
		if sys.links != nil {
			sys.links.schedulePartitions(sys, wl.nodes, wl.kube != nil, end, &faultsOn)
		}
	}
	sample := func() {}
	if cfg.Series {
		wl.latencies = &res.Latencies
		every, next, last := SampleEvery.Milliseconds(), int64(0), usedAddresses(sys, wl)
		// Between two events the state is the one the earlier left; a sample at an event's time
		// sees that event's result.
		sample = func() {
			now, cur := w.Now(), usedAddresses(sys, wl)
			for ; next <= now; next += every {
				if next < now {
					res.Used = append(res.Used, last)
				} else {
					res.Used = append(res.Used, cur)
				}
			}
			last = cur
		}
	}
	for w.Step(end) {
		sample()
		chk.step()
		if chk.failed != nil {
			break
		}
	}
	if chk.failed == nil {
		chk.storeMatches()
	}
	// Liveness: faults off, heal, retry until everything settles or the bound passes.
	if chk.failed == nil {
		faultsOn = false
		sys.store.SetDown(false)
		sys.store.FailWrite(0)
		sys.heal()
		if sys.links != nil {
			sys.links.heal(sys)
		}
		if err := sys.startAll(); err != nil {
			return fail(res, Crash, err)
		}
		if wl.kube != nil && wl.kube.api.Dropped() {
			w.Record("relist %v", wl.kube.api.Relist())
		}
		if wl.ops != nil {
			wl.ops.finish()
		}
		w.Record("liveness phase")
		for _, uid := range wl.order {
			wl.schedule(wl.pods[uid], 0)
		}
		bound := w.Now() + LivenessBound.Milliseconds()
		for w.Step(bound) {
			sample()
			chk.step()
			if chk.failed != nil || sys.serving() && allSettled(wl) && wl.nodesSettled() && (wl.ops == nil || wl.ops.settled()) {
				break
			}
		}
		chk.final()
	}
	res.Stats = wl.stats
	res.Stats.Failovers = sys.failovers
	if wl.kube != nil {
		api := wl.kube.api
		res.Stats.Conflicts, res.Stats.Relists, res.Stats.Delivered = api.Conflicted, api.Relists, api.Delivered
	}
	if sys.serving() {
		_ = sys.mgr.View(func(s *alloc.State) { res.Stats.FinalPods = len(s.Pods()) })
	}
	if v := chk.failed; v != nil {
		res.Kind, res.Err = v.Kind, v.Error()
		return res
	}
	res.Kind = OK
	return res
}

// usedAddresses sums the used addresses of the workload's networks, -1 when the manager is down.
func usedAddresses(sys *system, wl *workload) int {
	if !sys.serving() {
		return -1
	}
	nets := wl.nets
	if nets == nil {
		nets = tenants
	}
	if wl.ops != nil {
		nets = append(slices.Clone(nets), wl.ops.tenantNets()...)
	}
	n := 0
	_ = sys.mgr.View(func(s *alloc.State) {
		for _, t := range nets {
			v4, v6, _ := s.PoolStats(t.name + "/net")
			n += int(v4.Used + v6.Used)
		}
	})
	return n
}

func allSettled(wl *workload) bool {
	for _, uid := range wl.order {
		if !wl.pods[uid].settled() {
			return false
		}
	}
	return true
}

func fail(res Result, k Kind, err error) Result {
	res.Kind, res.Err = k, err.Error()
	return res
}
