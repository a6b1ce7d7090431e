package etcdstore

import (
	"context"
	"fmt"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Slot is a reserved place in the write queue; Submit or Cancel uses it up.
type Slot struct {
	t    *Term
	used bool
}

// Pending is one submitted command on its way to etcd.
type Pending struct {
	term  *Term
	muts  []alloc.Mutation
	ops   int // mutations, counted against Config.MaxTxnOps
	bytes int // estimated request bytes, counted against Config.MaxTxnBytes
	done  chan struct{}
	err   error // written before done is closed, read only after
}

// opOverhead approximates the per-operation framing of a transaction request.
const opOverhead = 16

// Submit fills the slot with one command's mutations, to be written atomically after every command
// submitted before it, and never blocks. A command the term cannot write (the term has ended, the
// store is closed, a key the store cannot hold) fails at once; a key the store cannot hold also ends
// the term, since the caller has already applied the command in memory. The caller must not change
// muts afterwards. See the package documentation for why the caller submits while it still holds its
// core lock.
func (sl *Slot) Submit(muts []alloc.Mutation) *Pending {
	if sl.used {
		panic("etcdstore: a Slot was used twice")
	}
	sl.used = true
	t := sl.t
	p := t.s.newPending(t, muts)
	switch err := checkMutations(muts); {
	case err != nil:
		t.end(err)
		t.s.release()
		p.fail(err)
		return p
	case t.ended() != nil:
		t.s.release()
		p.fail(notLeader(t.cause))
		return p
	}
	t.s.enqueue(p)
	return p
}

// Cancel gives the slot back unused. Cancel after Submit does nothing.
func (sl *Slot) Cancel() {
	if !sl.used {
		sl.used = true
		sl.t.s.release()
	}
}

func (s *Store) newPending(t *Term, muts []alloc.Mutation) *Pending {
	p := &Pending{term: t, muts: muts, ops: len(muts), done: make(chan struct{})}
	for _, m := range muts {
		p.bytes += len(s.cfg.Prefix) + len(m.Key) + len(m.Value) + opOverhead
	}
	return p
}

func (p *Pending) fail(err error) {
	p.err = err
	close(p.done)
}

// release frees one reserved place in the queue.
func (s *Store) release() { <-s.slots }

// enqueue hands p, whose place is reserved, to the writer. It never blocks: the queue has room for
// every reserved place.
func (s *Store) enqueue(p *Pending) {
	if len(p.muts) == 0 {
		s.release()
		close(p.done) // nothing to make durable
		return
	}
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.queueClosed {
		s.release()
		p.fail(ErrClosed)
		return
	}
	s.queue <- p
}

// Submit queues one command's mutations in the current term, waiting for queue space while ctx
// lives. It fails with ErrNotLeader without a live term, and with a *model.Error for a key the store
// cannot hold (which, unlike Slot.Submit, leaves the term alone). Callers that must not wait for
// queue space use Term.Reserve and Slot.Submit.
func (s *Store) Submit(ctx context.Context, muts []alloc.Mutation) (*Pending, error) {
	if err := checkMutations(muts); err != nil {
		return nil, err
	}
	t := s.currentTerm()
	if t == nil {
		return nil, ErrNotLeader
	}
	if err := t.Err(); err != nil {
		return nil, err
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.stop:
		return nil, ErrClosed
	case <-t.lost:
		return nil, notLeader(t.cause)
	case <-ctx.Done():
		return nil, fmt.Errorf("etcdstore: the write queue (%d commands) stayed full: %w", s.cfg.QueueSize, ctx.Err())
	}
	p := (&Slot{t: t}).Submit(muts)
	select {
	case <-p.done:
		if p.err != nil {
			return nil, p.err
		}
	default:
	}
	return p, nil
}

// Wait blocks until the command is durable (nil) or has failed. It needs no context: the writer
// bounds every transaction by Config.WriteTimeout, and a failure ends the term, which fails every
// later command of it at once. An error that matches ErrNotLeader means the command was not written.
// Any other error means etcd may or may not have applied it; the term has ended either way.
func (p *Pending) Wait() error {
	<-p.done
	return p.err
}

// Done returns a channel closed when the command is durable or has failed; Wait then returns at once.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Apply is Submit followed by Wait: it returns when the command is durable or has failed. Its place
// in the write order is the moment it enters the queue, so concurrent Apply calls are ordered only
// among themselves as the queue receives them.
func (s *Store) Apply(ctx context.Context, muts []alloc.Mutation) error {
	p, err := s.Submit(ctx, muts)
	if err != nil {
		return err
	}
	return p.Wait()
}
