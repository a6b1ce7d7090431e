package sim

import (
	"context"
	"math/rand/v2"
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
func scheduleFaults(w *World, sys *system, ns *nodes, plant Plant, st *Stats, end int64, on *bool) {
	rng := w.Rand("faults")
	every := faultProcess(w, rng, end, on)
	// A manager process crashes and restarts after a while, knowing only what the store holds.
	every("crash", 20_000, func(r *rand.Rand) {
		if sys.mgr == nil {
			return
		}
		st.Crashes++
		sys.crash()
		w.Record("fault crash manager")
		w.After(200+int64(r.IntN(3000)), "restart", func() {
			if sys.mgr == nil {
				if err := sys.start(); err != nil {
					panic(err)
				}
				w.Record("restart manager %d", sys.gen)
			}
		})
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
	// A partition: the manager loses its store session while the first node's agent still reaches
	// it; a new manager starts as after a crash, and the partition heals 2-5 s later.
	if ns != nil {
		every("partition", 25_000, func(r *rand.Rand) {
			if sys.mgr == nil || sys.zombie != nil {
				return
			}
			st.Partitions++
			sys.partition()
			w.Record("fault partition manager %d", sys.gen)
			w.After(200+int64(r.IntN(3000)), "restart", func() {
				if sys.mgr == nil {
					if err := sys.start(); err != nil {
						panic(err)
					}
					w.Record("restart manager %d", sys.gen)
				}
			})
			w.After(2000+int64(r.IntN(3000)), "heal", func() { sys.heal(); w.Record("partition healed") })
		})
	}
	// An agent process crashes and starts again over its checkpoint store.
	if ns != nil {
		every("agent-crash", 15_000, func(r *rand.Rand) {
			nd := ns.list[r.IntN(len(ns.list))]
			st.AgentCrashes++
			w.Record("fault agent-crash %s", nd.name)
			if err := nd.restart(plant == PlantLostCheckpoint); err != nil {
				panic(err)
			}
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
