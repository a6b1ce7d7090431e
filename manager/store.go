package manager

import (
	"context"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Store is where the manager's state is durable.
type Store interface {
	// Load returns every record.
	Load(ctx context.Context) ([]alloc.Record, error)
	// Submit queues one command's mutations, to be applied atomically after everything submitted
	// before. It must not block on I/O: the manager calls it while holding its lock, which is what
	// makes the store's order the state machine's order.
	Submit(ctx context.Context, muts []alloc.Mutation) (Waiter, error)
}

// Waiter reports when a submitted write is durable.
type Waiter interface {
	Wait(ctx context.Context) error
}
