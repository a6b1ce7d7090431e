package etcdstore

import (
	"context"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

// ManagerStore adapts a Store to manager.Store.
type ManagerStore struct{ *Store }

var (
	_ manager.Store = ManagerStore{}
	_ manager.Term  = managerTerm{}
	_ manager.Slot  = managerSlot{}
	_ manager.Write = (*Pending)(nil)
)

// Campaign implements manager.Store.
func (s ManagerStore) Campaign(ctx context.Context, id string) (manager.Term, error) {
	t, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return managerTerm{t}, nil
}

// ManagerTerm returns t as a manager.Term.
func ManagerTerm(t *Term) manager.Term { return managerTerm{t} }

// managerTerm adapts a *Term to manager.Term; two of them are equal when they wrap the same term.
type managerTerm struct{ *Term }

func (t managerTerm) Reserve() (manager.Slot, error) {
	sl, err := t.Term.Reserve()
	if err != nil {
		return nil, err
	}
	return managerSlot{sl}, nil
}

type managerSlot struct{ *Slot }

func (s managerSlot) Submit(muts []alloc.Mutation) manager.Write { return s.Slot.Submit(muts) }
