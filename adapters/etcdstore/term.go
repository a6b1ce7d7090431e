package etcdstore

import (
	"context"
	"fmt"
	"sync"

	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/knitter-cni/knitter/core/alloc"
)

// Term is one continuous leadership of a Store: from a successful Campaign until the first sign that
// another manager may lead. Writes carry the term they were reserved in, so a command computed in an
// old term is never written in a newer one, and a failure of one term's write ends only that term.
type Term struct {
	s *Store
	// key and rev are the fence: the election key and its create revision. A later holder of the
	// election necessarily has a different key or revision.
	key      string
	rev      int64
	session  *concurrency.Session
	election *concurrency.Election

	// next and last are the writer's: the sequence number of the term's next transaction, and the
	// last one dispatched. Only the writer goroutine touches them.
	next int64
	last *txn

	lost  chan struct{}
	once  sync.Once
	cause error // written before lost is closed, read only after
}

func newTerm(s *Store, sess *concurrency.Session, el *concurrency.Election) *Term {
	return &Term{s: s, key: el.Key(), rev: el.Rev(), session: sess, election: el, lost: make(chan struct{})}
}

// end ends the term for cause; only the first cause is kept.
func (t *Term) end(cause error) {
	t.once.Do(func() {
		t.cause = cause
		close(t.lost)
	})
}

// ended returns nil while the term is live, and the reason it ended after.
func (t *Term) ended() error {
	select {
	case <-t.lost:
		return t.cause
	default:
		return nil
	}
}

// watch ends the term when its session dies: the lease expired, was revoked, or could not be kept
// alive for its TTL. It returns when the term ends for any reason.
func (t *Term) watch() {
	select {
	case <-t.session.Done():
		t.end(errSessionLost)
	case <-t.lost:
	}
}

// Err returns nil while the term lives, and an error matching ErrNotLeader, wrapping the reason,
// after it ended.
func (t *Term) Err() error {
	if cause := t.ended(); cause != nil {
		return notLeader(cause)
	}
	return nil
}

// Lost returns a channel that is closed when the term ends: the session was lost, a fenced write
// found another leader, a write failed, or Resign or Close was called.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Fence returns the election key and create revision every write of the term is conditioned on.
func (t *Term) Fence() (key string, rev int64) { return t.key, t.rev }

// Load is the Store's Load, refused once the term has ended: records loaded into a dead term's
// activation could be overtaken by the next leader's writes.
func (t *Term) Load(ctx context.Context) ([]alloc.Record, error) {
	if err := t.Err(); err != nil {
		return nil, err
	}
	recs, err := t.s.Load(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.Err(); err != nil {
		return nil, err
	}
	return recs, nil
}

// Reserve takes one place in the write queue for this term without waiting: it fails at once with
// an error matching ErrQueueFull when Config.QueueSize commands are reserved or queued, and with
// ErrNotLeader once the term has ended.
func (t *Term) Reserve() (*Slot, error) {
	if err := t.Err(); err != nil {
		return nil, err
	}
	select {
	case t.s.slots <- struct{}{}:
		return &Slot{t: t}, nil
	case <-t.s.stop:
		return nil, ErrClosed
	default:
		return nil, fmt.Errorf("%w (%d commands); retry shortly", ErrQueueFull, t.s.cfg.QueueSize)
	}
}

// Resign ends the term and deletes its election key, so that a standby takes over without waiting
// for the session TTL. Writes still queued fail with ErrNotLeader. If the key cannot be deleted
// (etcd unreachable, ctx ended), the session is dropped as well: the next Campaign then gets a new
// lease, hence a new election key and create revision, so that no transaction of this term that etcd
// applies late can pass the next term's fence.
func (t *Term) Resign(ctx context.Context) error {
	t.s.campaignMu.Lock()
	defer t.s.campaignMu.Unlock()
	t.end(errResigned)
	// Election.Resign deletes the key only if it still has this term's revision, so it cannot remove
	// a newer leader's key.
	if err := t.election.Resign(ctx); err != nil {
		t.s.forgetSession(t.session)
		go t.session.Close() // revoking may wait for etcd; the writer and the caller need not
		return fmt.Errorf("etcdstore: resign (the session is dropped, and its key expires with the lease): %w", err)
	}
	return nil
}
