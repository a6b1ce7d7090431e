// Package manager is knitter-manager's shell around core/alloc: it serialises commands into the
// state machine, hands their mutations to the store in the same order, answers only when they are
// durable, and keeps the in-memory state equal to what the store holds — when a write fails it drops
// the state and serves nothing until it has reloaded it. It also turns bearer tokens into actors.
//
// It holds no allocation rule: every decision is core/alloc's. The store, clock and metrics registry
// are ports, so the same Manager runs over etcd in production and over fakes in tests and the
// simulator.
package manager
