// Package etcdstore makes knitter-manager's state durable in etcd: it loads the core's records at
// start, writes each command's mutations atomically, and runs the leader election that decides which
// manager may write.
//
// # Keys
//
// Every record lives under Config.Prefix ("/knitter/" by default) at its relative key. The relative
// subtree "leader/" is reserved for the election; Apply refuses keys in it and Load skips it.
//
// # Leadership and fencing
//
// Campaign blocks until this Store's etcd session (a lease kept alive by the client) holds the
// election on Prefix+"leader", and returns the Term that starts. Every write of the term is one etcd
// transaction whose condition is that the term's election key still exists with the create revision
// it had when the term began, so once another manager has won — which requires this key to be gone —
// no write of the old term can land, however late it arrives. A term ends, and its Lost channel
// closes, when the session expires or is revoked, when a fenced write finds the key gone, when a
// write fails, on Resign and on Close. After that every write of it fails with ErrNotLeader; the next
// Campaign starts a new term, into which the caller must Load its state again, because the end of a
// term may have left the last commands of the old one unwritten. A failed write, and a Resign that
// could not delete the key, also drop the session, so that the next term has a new election key and
// a transaction etcd applies late still fails its fence.
//
// A manager that dies without Close leaves its lease behind until the TTL runs out (etcd restores
// leases when it restarts, so this holds for the embedded server too): the next Campaign, by a
// standby or by the restarted manager, waits up to Config.SessionTTL.
//
// # Group commit and ordering
//
// One writer goroutine owns a bounded queue of Config.QueueSize commands. Term.Reserve takes a place
// in it without waiting (a full queue is ErrQueueFull at once), and Slot.Submit puts one command's
// mutations there, also without waiting; the writer takes everything queued, up to Config.MaxBatch
// commands, and writes it in as few transactions as etcd's limits allow (Config.MaxTxnOps operations
// and Config.MaxTxnBytes bytes each). A command is never split across transactions, so it lands
// whole or not at all; a command larger than the limits goes alone. Commands are written in the order
// they entered the queue, and the store always holds a prefix of that sequence. Up to
// Config.MaxInflight transactions of a term are in flight at once; each is conditioned on the term's
// write sequence key (see writer.go), so none can land before the one before it, and the first
// failure ends the term and fails every later transaction of it.
//
// The order that matters is the order in which the core produced the commands, since a later command
// may overwrite or delete what an earlier one wrote. The caller therefore reserves and submits while
// it still holds the lock under which the core computed the mutations, and waits after releasing it:
//
//	mu.Lock()
//	slot, err := term.Reserve()       // never waits; on ErrQueueFull, refuse before touching the core
//	muts, err := core.Allocate(...)
//	p := slot.Submit(muts)            // never waits: enqueues only
//	mu.Unlock()
//	err = p.Wait()                    // the command is durable when this returns nil
//
// Wait takes no context: each transaction is bounded by Config.WriteTimeout, and a failure ends the
// term, which fails the commands queued behind it at once. A caller that goes away cannot withdraw a
// command that the core has already applied, and must not end the term.
//
// Store.Submit and Store.Apply write in the current term and wait for queue space under a context;
// they are for callers whose commands do not depend on one another.
package etcdstore
