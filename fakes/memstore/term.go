package memstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

// Campaign implements manager.Store: it returns at once when no live term leads (or when this
// client leads already), and otherwise waits until the leading term ends or ctx ends.
func (s *Store) Campaign(ctx context.Context, id string) (manager.Term, error) {
	if id == "" {
		return nil, fmt.Errorf("memstore: campaign: give a non-empty id")
	}
	b := s.b
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.mu.Lock()
		if b.down {
			b.mu.Unlock()
			return nil, fmt.Errorf("memstore: campaign: %w", ErrInjected)
		}
		cur := b.leader
		if cur == nil || cur.err != nil {
			b.terms++
			t := &Term{b: b, client: s, id: id, fence: b.terms, lost: make(chan struct{})}
			b.leader = t
			b.mu.Unlock()
			return t, nil
		}
		b.mu.Unlock()
		if cur.client == s {
			return cur, nil
		}
		select {
		case <-cur.lost:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Leader returns the id of the client whose term leads, or "" when none does.
func (s *Store) Leader() string {
	var id string
	s.b.with(func(b *backend) {
		if b.leader != nil && b.leader.err == nil {
			id = b.leader.id
		}
	})
	return id
}

// Term is one leadership of a memstore client.
type Term struct {
	b      *backend
	client *Store
	id     string
	fence  int64 // unique per term, as an etcd election key's create revision is
	lost   chan struct{}
	err    error // guarded by b.mu; set once, when lost is closed
}

// Fence returns the term's number: a new term never has an old one's.
func (t *Term) Fence() int64 { return t.fence }

func (t *Term) endLocked(b *backend, cause error) {
	if t.err != nil {
		return
	}
	if !errors.Is(cause, manager.ErrNotLeader) {
		// What the ended term refuses from now on did not land.
		cause = fmt.Errorf("%w: %w", manager.ErrNotLeader, cause)
	}
	t.err = cause
	close(t.lost)
}

// Load implements manager.Term.
func (t *Term) Load(ctx context.Context) ([]alloc.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	if b.down {
		return nil, fmt.Errorf("memstore: load: %w", ErrInjected)
	}
	return b.snapshot(), nil
}

// Reserve implements manager.Term.
func (t *Term) Reserve() (manager.Slot, error) {
	b := t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.err != nil && !b.unfenced {
		return nil, t.err
	}
	if b.queued >= b.queueSize {
		return nil, fmt.Errorf("memstore: %w (%d commands)", manager.ErrQueueFull, b.queueSize)
	}
	b.queued++
	return &slot{t: t}, nil
}

// Lost implements manager.Term.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Err implements manager.Term.
func (t *Term) Err() error {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return t.err
}

// Resign implements manager.Term. A failed resignation (FailResign, or ctx ended) still ends the
// term, and the next term is fenced apart from it, as on etcd.
func (t *Term) Resign(ctx context.Context) error {
	b := t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	t.endLocked(b, errResigned)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: resign: %w", err)
	}
	if b.failResign > 0 {
		b.failResign--
		return fmt.Errorf("memstore: resign: %w", ErrInjected)
	}
	return nil
}

type slot struct {
	t    *Term
	used bool
}

// Submit implements manager.Slot.
func (s *slot) Submit(muts []alloc.Mutation) manager.Write {
	b := s.t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	s.use(b)
	w := &write{term: s.t, muts: muts, done: make(chan struct{})}
	if s.t.err != nil && !b.unfenced {
		w.finish(s.t.err)
		return w
	}
	if b.slow {
		b.queued++ // a held write keeps its place until it lands
		b.held = append(b.held, w)
		b.cond.Broadcast()
		return w
	}
	w.finish(b.land(w))
	return w
}

// Cancel implements manager.Slot.
func (s *slot) Cancel() {
	b := s.t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !s.used {
		s.use(b)
	}
}

func (s *slot) use(b *backend) {
	if s.used {
		panic("memstore: a Slot was used twice")
	}
	s.used = true
	b.queued--
}

type write struct {
	term *Term
	muts []alloc.Mutation
	done chan struct{}
	err  error
}

func (w *write) finish(err error) {
	w.err = err
	close(w.done)
}

// Wait implements manager.Write.
func (w *write) Wait() error {
	<-w.done
	return w.err
}

// Done implements manager.Write.
func (w *write) Done() <-chan struct{} { return w.done }
