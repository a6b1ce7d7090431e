package sim

import (
	"fmt"
	"runtime/debug"

	"github.com/knitter-cni/knitter/core/alloc"
)

// ScaleConfig is a scale run: Nodes nodes, each with a real agent over the in-memory fakes,
// registering with the real manager over memstore; Pods pods created through CNI ADD on their
// nodes' agents (the manager allocating), then every one deleted through CNI DEL and released. No
// faults: it measures the system's and the simulator's cost, and checks the invariants at every
// acknowledgement and in full at the phase boundaries.
type ScaleConfig struct {
	Seed  uint64
	Nodes int
	Pods  int
	// Phase, when set, is called as each phase starts, with its name: "nodes", "create",
	// "check-created", "delete", "check-deleted", and "done" at the end. The CLI times the phases
	// with it; the run itself reads no clock.
	Phase func(name string)
	// KeepTrace keeps every trace line in ScaleResult.Trace.
	KeepTrace bool
	// PeerSync runs every agent's node watch (agent.PollPeers), as agent.Run does: each agent
	// learns the other nodes' VTEPs and programs them as flood entries of every VXLAN it uses.
	PeerSync bool
}

// Scale limits: the two tenants' networks are IPv4 /12s (1,048,574 addresses each), and the VTEPs
// count from 192.168.0.1 upwards.
const (
	MaxScalePods  = 1_000_000
	MaxScaleNodes = 60_000
)

// HeartbeatPeriod is how often each simulated agent re-registers in a scale run: the agent's
// default (agent.Intervals). Each node's heartbeats are offset by a seeded fraction of the period,
// as agents started at different times are.
const HeartbeatPeriod = 30_000

// scaleTenants are the scale run's tenants, sized for MaxScalePods.
var scaleTenants = []tenantNet{
	{"acme", "10.0.0.0/12"},
	{"umbrella", "10.16.0.0/12"},
}

// ScaleResult is a scale run's outcome.
type ScaleResult struct {
	Config ScaleConfig
	Kind   Kind
	Err    string
	Hash   string
	Stats  Stats
	// Heartbeats counts the agents' heartbeats; VirtualMillis is the virtual time the run took.
	Heartbeats int
	// With PeerSync: Polls counts the agents' node watches answered (PollPeers calls), Lists the
	// answers that carried the whole node set, and ListedNodes the nodes those answers carried.
	Polls, Lists, ListedNodes int
	// FloodDevices counts the VXLAN devices whose flood entries were checked once all pods were
	// created (every one must flood to exactly the other nodes).
	FloodDevices  int
	VirtualMillis int64
	Trace         []string
}

// Validate checks a scale configuration.
func (c ScaleConfig) Validate() error {
	if c.Nodes < 1 || c.Nodes > MaxScaleNodes {
		return fmt.Errorf("nodes: %d is out of range; give 1-%d", c.Nodes, MaxScaleNodes)
	}
	if c.Pods < 1 || c.Pods > MaxScalePods {
		return fmt.Errorf("pods: %d is out of range; give 1-%d (two /12 networks)", c.Pods, MaxScalePods)
	}
	return nil
}

// Repro is the command that reproduces the run.
func (c ScaleConfig) Repro() string {
	s := fmt.Sprintf("knitter-sim scale --seed %d --nodes %d --pods %d", c.Seed, c.Nodes, c.Pods)
	if c.PeerSync {
		s += " --peer-sync"
	}
	return s
}

// Scale runs one scale run on the caller's goroutine. It never panics: a panic is a Crash.
func Scale(cfg ScaleConfig) (res ScaleResult) {
	w := NewWorld(cfg.Seed)
	w.keepLog = cfg.KeepTrace
	res.Config = cfg
	phase := func(name string) {
		w.Record("phase %s", name)
		if cfg.Phase != nil {
			cfg.Phase(name)
		}
	}
	var wl *workload
	var heartbeats int
	defer func() {
		if r := recover(); r != nil {
			res.Kind, res.Err = Crash, fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
			w.Record("PANIC %v", r)
		}
		if wl != nil {
			res.Stats = wl.stats
		}
		res.Heartbeats, res.VirtualMillis = heartbeats, w.Now()
		res.Hash, res.Trace = w.Hash(), w.log
		res.Stats.Events = w.Steps()
		phase("done")
	}()
	if err := cfg.Validate(); err != nil {
		res.Kind, res.Err = Crash, err.Error()
		return res
	}
	acfg := alloc.DefaultConfig()
	sys := newSystem(w, acfg, acfg, PlantNone)
	wl = &workload{w: w, sys: sys, rng: w.Rand("workload"), target: cfg.Pods, nets: scaleTenants,
		pods: make(map[string]*simPod, cfg.Pods), byName: make(map[string]string, cfg.Pods), order: make([]string, 0, cfg.Pods)}
	chk := &checker{w: w, sys: sys, wl: wl, cooldown: acfg.Cooldown.Milliseconds(), freed: make(map[string]int64, cfg.Pods), index: newAckIndex()}
	wl.check = chk
	failed := func() bool { return chk.failed != nil }
	result := func() ScaleResult {
		if v := chk.failed; v != nil {
			res.Kind, res.Err = v.Kind, v.Error()
		} else {
			res.Kind = OK
		}
		return res
	}
	if err := sys.start(); err != nil {
		return failScale(res, err)
	}
	if st := sys.lead(); st != "activated" {
		return failScale(res, fmt.Errorf("first manager did not activate: %s", st))
	}
	if err := wl.setup(); err != nil {
		return failScale(res, err)
	}

	phase("nodes")
	ns, err := newNodes(cfg.Nodes, sys, nil, nil)
	if err != nil {
		return failScale(res, err)
	}
	wl.nodes = ns
	sys.changed = func() { ns.retarget(sys) }
	// Every agent registers in the first second, then heartbeats on its own period.
	hrng := w.Rand("heartbeat")
	var peers *peerSync
	if cfg.PeerSync {
		peers = newPeerSync(w, ns, &res)
	}
	for i, nd := range ns.list {
		a := nd.agent
		var beat func()
		beat = func() {
			heartbeats++
			if err := a.Heartbeat(contextBG); err != nil {
				w.Record("heartbeat %v", err)
			} else if peers != nil {
				peers.registered(i)
			}
			w.After(HeartbeatPeriod, "heartbeat", beat)
		}
		w.After(hrng.Int64N(1000), "heartbeat", beat)
	}
	var lead, tick func()
	lead = func() { w.Record("lead %s", sys.lead()); w.After(250, "lead", lead) }
	tick = func() {
		if sys.serving() {
			w.Record("tick %v", sys.mgr.Tick(contextBG))
		}
		w.After(1000, "tick", tick)
	}
	w.After(250, "lead", lead)
	w.After(1000, "tick", tick)

	// Create: one pod every 0-1 ms of virtual time (2,000 a second) from the second second on, on
	// a seeded node and tenant; its sync is the node's CNI ADD, retried on error.
	phase("create")
	wrng := w.Rand("workload-timing")
	created := 0
	var create func()
	create = func() {
		created++
		wl.create(wl.nets[wl.rng.IntN(len(wl.nets))].name, fmt.Sprintf("pod-%d", created))
		if created < cfg.Pods {
			w.After(wrng.Int64N(2), "create", create)
		}
	}
	w.After(1000, "create", create)
	// A bound that a system keeping up never meets: the arrivals' virtual time plus the liveness bound.
	bound := func() int64 { return w.Now() + 1000 + int64(cfg.Pods) + LivenessBound.Milliseconds() }
	until := bound()
	for w.Step(until) {
		chk.step()
		if failed() || created == cfg.Pods && wl.stats.Allocated >= cfg.Pods {
			break
		}
	}
	if failed() {
		return result()
	}
	phase("check-created")
	if !allSettled(wl) {
		chk.fail(Liveness, "pods-converge", "%d of %d pods are allocated at %dms", wl.stats.Allocated, cfg.Pods, w.Now())
		return result()
	}
	chk.full(true)
	var held int
	_ = sys.mgr.View(func(s *alloc.State) { held = len(s.Pods()) })
	if held != cfg.Pods {
		chk.fail(Safety, "pods-converge", "the manager holds %d pods after creating %d", held, cfg.Pods)
	}
	if n := ns.attached(); n != cfg.Pods {
		chk.fail(Safety, "sandboxes-match-pods", "%d sandboxes hold links after creating %d pods", n, cfg.Pods)
	}
	if peers != nil {
		peers.check(chk)
	}
	if failed() {
		return result()
	}

	// Delete every pod, in a seeded order, one every 0-1 ms: the node's CNI DEL, then the release.
	phase("delete")
	order := wl.rng.Perm(len(wl.order))
	deleted := 0
	var del func()
	del = func() {
		wl.delete(wl.pods[wl.order[order[deleted]]])
		deleted++
		if deleted < len(order) {
			w.After(wrng.Int64N(2), "delete", del)
		}
	}
	w.After(0, "delete", del)
	until = bound()
	for w.Step(until) {
		chk.step()
		if failed() || deleted == len(order) && wl.stats.Released >= cfg.Pods {
			break
		}
	}
	if failed() {
		return result()
	}
	phase("check-deleted")
	chk.full(false) // final checks memory equals store
	chk.final()
	if n := len(chk.index.byPod); n != 0 && !failed() {
		chk.fail(Safety, "index-matches-manager", "%d pods are still indexed after every release", n)
	}
	if sys.serving() {
		_ = sys.mgr.View(func(s *alloc.State) { wl.stats.FinalPods = len(s.Pods()) })
	}
	return result()
}

func failScale(res ScaleResult, err error) ScaleResult {
	res.Kind, res.Err = Crash, err.Error()
	return res
}
