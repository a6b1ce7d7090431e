package sim

import (
	"context"
	"math/rand/v2"
	"slices"
)

var contextBG = context.Background()

// faultProcess returns a scheduler of fault processes: every(name, mean, fn) runs fn with rng at
// exponentially distributed intervals of the given mean (virtual ms) until end, and not at all once
// *on is false (the liveness phase).
func faultProcess(w *World, rng *rand.Rand, end int64, on *bool) func(name string, mean int64, fn func(r *rand.Rand)) {
	return func(name string, mean int64, fn func(r *rand.Rand)) {
		var f func()
		next := func() int64 { return 1 + int64(rng.ExpFloat64()*float64(mean)) }
		f = func() {
			if !*on || w.Now() >= end {
				return
			}
			fn(rng)
			w.After(next(), name, f)
		}
		w.After(next(), name, f)
	}
}

// scheduleFaults plants the fault processes: each fires at seeded random intervals until end, and
// none fires once *on is false (the liveness phase).
func scheduleFaults(w *World, sys *system, wl *workload, plant Plant, churn bool, st *Stats, end int64, on *bool) {
	ns := wl.nodes
	rng := w.Rand("faults")
	every := faultProcess(w, rng, end, on)
	// The leader's process crashes and restarts after a while, knowing only what the store holds;
	// with several managers a standby takes over meanwhile.
	every("crash", 20_000, func(r *rand.Rand) {
		p := sys.crash()
		if p == nil {
			return
		}
		st.Crashes++
		w.Record("fault crash manager %d", p.gen)
		restartLater(w, sys, p, 200+int64(r.IntN(3000)))
	})
	// The store fails one of the next few writes; the term it belongs to ends.
	every("fail-write", 6_000, func(r *rand.Rand) {
		st.WriteFaults++
		n := 1 + r.IntN(5)
		sys.store.FailWrite(n)
		w.Record("fault fail-write %d", n)
	})
	// The store session expires: the leading term ends without the manager doing anything.
	every("lose-term", 12_000, func(*rand.Rand) {
		st.LostTerms++
		w.Record("fault lose-term %t", sys.store.LoseTerm())
	})
	// A partition: the leader loses its store session while the first node's agent still reaches
	// it; with one manager a new one starts as after a crash, with several a standby takes over. The
	// partition heals 2-5 s later.
	if ns != nil {
		every("partition", 25_000, func(r *rand.Rand) {
			if sys.zombie != nil {
				return
			}
			p := sys.partition()
			if p == nil {
				return
			}
			st.Partitions++
			w.Record("fault partition manager %d", p.gen)
			if len(sys.procs) == 1 {
				restartLater(w, sys, p, 200+int64(r.IntN(3000)))
			}
			w.After(2000+int64(r.IntN(3000)), "heal", func() { sys.heal(); w.Record("partition healed") })
		})
	}
	// An agent process crashes and starts again over its checkpoint store.
	if ns != nil {
		every("agent-crash", 15_000, func(r *rand.Rand) {
			live := ns.live()
			nd := ns.list[live[r.IntN(len(live))]]
			st.AgentCrashes++
			w.Record("fault agent-crash %s", nd.name)
			if err := nd.restart(plant == PlantLostCheckpoint); err != nil {
				panic(err)
			}
		})
	}
	// With node churn, a node crashes and boots: its pods' namespaces are gone, the runtime
	// recreates them. Drawn from a source of its own, so it shifts no other fault, and off without
	// churn, so runs without it keep their traces.
	if ns != nil && churn {
		rr := w.Rand("node-reboot")
		faultProcess(w, rr, end, on)("node-reboot", 30_000, func(r *rand.Rand) {
			live := ns.live()
			wl.rebootNode(live[r.IntN(len(live))], plant == PlantLostCheckpoint)
		})
	}
	// The store is down for a while: campaigns, loads and writes fail.
	every("outage", 15_000, func(r *rand.Rand) {
		st.Outages++
		sys.store.SetDown(true)
		d := 100 + int64(r.IntN(2000))
		w.Record("fault outage %dms", d)
		w.After(d, "outage-end", func() { sys.store.SetDown(false) })
	})
}

// restartLater starts slot p's process again after d ms, unless it runs by then.
func restartLater(w *World, sys *system, p *mgrProc, d int64) {
	w.After(d, "restart", func() {
		if p.mgr == nil {
			if err := sys.restart(p); err != nil {
				panic(err)
			}
			w.Record("restart manager %d", p.gen)
		}
	})
}

// scheduleNodeChurn adds and removes nodes at seeded intervals (mean 10 s) until end: a join with
// even odds while fewer than nodes+2 stand (always when one stands), otherwise a removal while more
// than one stands, unless it would leave no schedulable node (the others cordoned by a drain): new
// pods and the removed node's replacements need one.
func scheduleNodeChurn(w *World, wl *workload, nodes int, end int64) {
	rng := w.Rand("nodes")
	on := true
	every := faultProcess(w, rng, end, &on)
	every("node-churn", 10_000, func(r *rand.Rand) {
		live := wl.nodes.live()
		if len(live) < nodes+2 && (len(live) == 1 || r.IntN(2) == 0) {
			wl.joinNode()
			return
		}
		if len(live) > 1 {
			if i := live[r.IntN(len(live))]; slices.ContainsFunc(wl.nodes.schedulable(), func(j int) bool { return j != i }) {
				wl.removeNode(i)
			}
		}
	})
}
