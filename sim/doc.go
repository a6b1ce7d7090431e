// Package sim is knitter's deterministic simulator: one seed drives a virtual clock, one event queue
// and every random choice, all on one goroutine, while the real manager shell (manager.Manager) runs
// over the in-memory store (fakes/memstore) under a seeded workload and seeded faults. Invariants are
// checked after every event; a run ends with a liveness phase (faults off) that requires every pod to
// converge and no port to leak. The trace hash covers every event, so the same seed must give the
// same hash.
package sim
