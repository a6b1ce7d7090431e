package etcdstore

import (
	"context"
	"fmt"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Pending is one submitted command on its way to etcd.
type Pending struct {
	term  *term
	muts  []alloc.Mutation
	ops   int // mutations, counted against Config.MaxTxnOps
	bytes int // estimated request bytes, counted against Config.MaxTxnBytes
	done  chan struct{}
	err   error // written before done is closed, read only after
}

// opOverhead approximates the per-operation framing of a transaction request.
const opOverhead = 16

// Submit queues one command's mutations, to be written atomically after every command queued
// before it, and returns at once unless the queue is full. It fails with ErrNotLeader without a
// live term, and with a *model.Error for a key the store cannot hold. ctx bounds only the wait for
// queue space. The caller must not change muts afterwards. See the package documentation for why
// the caller submits while it still holds its core lock.
func (s *Store) Submit(ctx context.Context, muts []alloc.Mutation) (*Pending, error) {
	if err := checkMutations(muts); err != nil {
		return nil, err
	}
	t := s.currentTerm()
	if t == nil {
		return nil, ErrNotLeader
	}
	if cause := t.ended(); cause != nil {
		return nil, notLeader(cause)
	}
	p := &Pending{term: t, muts: muts, ops: len(muts), done: make(chan struct{})}
	for _, m := range muts {
		p.bytes += len(s.cfg.Prefix) + len(m.Key) + len(m.Value) + opOverhead
	}
	if len(muts) == 0 {
		close(p.done) // nothing to make durable
		return p, nil
	}
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.queueClosed {
		return nil, ErrClosed
	}
	select {
	case s.queue <- p:
		return p, nil
	case <-s.stop:
		return nil, ErrClosed
	case <-t.lost:
		return nil, notLeader(t.cause)
	case <-ctx.Done():
		return nil, fmt.Errorf("etcdstore: the write queue (%d commands) stayed full: %w", s.cfg.QueueSize, ctx.Err())
	}
}

// Wait blocks until the command is durable (nil) or has failed, or ctx ends. An error that matches
// ErrNotLeader means the command was not written. Any other write error means etcd may or may not
// have applied it; the term has ended either way. If ctx ends first, the command is not withdrawn —
// commands queued after it may depend on it — and may still be written.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("etcdstore: stopped waiting for a queued write, which may still land: %w", ctx.Err())
	}
}

// Apply is Submit followed by Wait: it returns when the command is durable or has failed. Its place
// in the write order is the moment it enters the queue, so concurrent Apply calls are ordered only
// among themselves as the queue receives them.
func (s *Store) Apply(ctx context.Context, muts []alloc.Mutation) error {
	p, err := s.Submit(ctx, muts)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}
