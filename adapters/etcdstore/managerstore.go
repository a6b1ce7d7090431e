package etcdstore

import (
	"context"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

// ManagerStore adapts a Store to manager.Store.
type ManagerStore struct{ *Store }

var _ manager.Store = ManagerStore{}

// Submit implements manager.Store. A refused submission returns a nil Waiter, never a nil *Pending
// inside a non-nil interface.
func (s ManagerStore) Submit(ctx context.Context, muts []alloc.Mutation) (manager.Waiter, error) {
	p, err := s.Store.Submit(ctx, muts)
	if err != nil {
		return nil, err
	}
	return p, nil
}
