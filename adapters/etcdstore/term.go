package etcdstore

import (
	"sync"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// term is one continuous leadership of this Store: from a successful Campaign until the first sign
// that another manager may lead. Writes carry the term they were submitted in, so a command computed
// in an old term is never written in a newer one.
type term struct {
	// key and rev are the fence: the election key and its create revision. A later holder of the
	// election necessarily has a different key or revision.
	key      string
	rev      int64
	session  *concurrency.Session
	election *concurrency.Election

	lost  chan struct{}
	once  sync.Once
	cause error // written before lost is closed, read only after
}

func newTerm(sess *concurrency.Session, el *concurrency.Election) *term {
	return &term{key: el.Key(), rev: el.Rev(), session: sess, election: el, lost: make(chan struct{})}
}

// end ends the term for cause; only the first cause is kept.
func (t *term) end(cause error) {
	t.once.Do(func() {
		t.cause = cause
		close(t.lost)
	})
}

// ended returns nil while the term is live, and the reason it ended after.
func (t *term) ended() error {
	select {
	case <-t.lost:
		return t.cause
	default:
		return nil
	}
}

// watch ends the term when its session dies: the lease expired, was revoked, or could not be kept
// alive for its TTL. It returns when the term ends for any reason.
func (t *term) watch() {
	select {
	case <-t.session.Done():
		t.end(errSessionLost)
	case <-t.lost:
	}
}
