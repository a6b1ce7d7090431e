// Package alloc is knitter-manager's state machine: tenants, networks, IP groups, nodes, and every
// pod's ports, with all the rules of allocation.
//
// It is pure in the way etcd's raft is: a command goes in (CreateNetwork, AllocatePod, Tick, ...), and
// the result comes out together with the ordered list of Mutations the caller must persist before it
// answers. State never does I/O, reads no clock and uses no randomness; time arrives only through
// Tick. Replaying the same commands gives the same state and the same mutations, byte for byte.
//
// Restore rebuilds a State from the records the mutations produced, so a manager that restarts (or a
// standby that takes over) continues exactly where the store left off.
package alloc
