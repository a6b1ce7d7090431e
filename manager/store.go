package manager

import (
	"context"
	"errors"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Store is where the manager's state is durable, and who may write it. Only the holder of a live
// Term may write; a store elects at most one holder at a time among all the managers that share it.
type Store interface {
	// Campaign blocks until this manager leads and returns the term that it leads in, or returns
	// ctx's error. If this store client already leads, it returns that live term. id names this
	// manager to the others.
	Campaign(ctx context.Context, id string) (Term, error)
}

// Term is one continuous leadership: from a successful Campaign until the first sign that another
// manager may lead. Every write belongs to the term it was reserved in; once the term has ended, no
// write of it can land, however late. An activation of the Manager lives in exactly one term.
type Term interface {
	// Load returns every record, sorted by key, as of a moment inside this term: every write of
	// every earlier term that was acknowledged is in it. It fails with ErrNotLeader once the term
	// has ended.
	Load(ctx context.Context) ([]alloc.Record, error)
	// Reserve takes one place in the term's write queue without waiting. A full queue fails at once
	// with ErrQueueFull; an ended term with ErrNotLeader. Every Slot is used exactly once: Submit or
	// Cancel.
	Reserve() (Slot, error)
	// Lost returns a channel that is closed when the term ends: the store lost the leadership, a
	// write failed, or Resign was called.
	Lost() <-chan struct{}
	// Err is nil while the term lives, and the reason it ended after.
	Err() error
	// Resign ends the term and lets another manager lead at once. Writes still queued fail with
	// ErrNotLeader. If the store cannot confirm the resignation, it still ends the term and makes
	// sure the next term is fenced apart from this one.
	Resign(ctx context.Context) error
}

// Slot is a reserved place in a term's write queue.
type Slot interface {
	// Submit fills the slot with one command's mutations, to be written atomically after every
	// command submitted before in the term. It never blocks. The caller must not change muts
	// afterwards.
	Submit(muts []alloc.Mutation) Write
	// Cancel gives the slot back unused.
	Cancel()
}

// Write is a submitted command on its way to the store.
type Write interface {
	// Wait blocks until the command is durable (nil) or has failed. It is bounded by the store's
	// own write timeout, never by a caller's context: a command the manager has applied in memory
	// must learn its outcome, whoever asked for it. An error that matches ErrNotLeader means the
	// command did not land; any error means the term has ended.
	Wait() error
	// Done returns a channel closed when the outcome is known, so that Wait returns at once. A
	// caller that must not block (the simulator, driving a slow store step by step) polls it.
	Done() <-chan struct{}
}

// ErrNotLeader is matched (errors.Is) by the errors of a term that has ended, and of a Store that
// does not lead.
var ErrNotLeader = errors.New("not the leader: the store term has ended")

// ErrQueueFull is matched by Reserve's error when the term's write queue is full.
var ErrQueueFull = errors.New("the store's write queue is full")
