package etcdstore

import (
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/manager"
)

// ErrNotLeader is returned by writes when this Store does not hold a live leadership term: it never
// campaigned, or its term ended. A write that fails with it did not land. errors.Is matches it; the
// returned error also wraps the reason the term ended, when there is one.
// It matches manager.ErrNotLeader too.
var ErrNotLeader = fmt.Errorf("etcdstore: campaign, then reload the state with Load before writing: %w", manager.ErrNotLeader)

// ErrQueueFull is returned by Term.Reserve when the write queue is full. It matches
// manager.ErrQueueFull too.
var ErrQueueFull = fmt.Errorf("etcdstore: %w", manager.ErrQueueFull)

// ErrNoLeader is returned by Leader when no manager holds the election.
var ErrNoLeader = errors.New("etcdstore: no manager is the leader now; retry shortly")

// ErrClosed is returned by every method once Close has been called.
var ErrClosed = errors.New("etcdstore: the store is closed")

// errSessionLost ends a term whose etcd lease expired, was revoked or could no longer be kept alive.
var errSessionLost = errors.New("etcdstore: the etcd session (lease) was lost, so another manager may lead")

// errFenced ends a term whose write found the election key gone or re-created.
var errFenced = errors.New("etcdstore: the election key of this term is gone, so another manager may lead")

// errResigned ends a term on Resign.
var errResigned = errors.New("etcdstore: this manager resigned")

// notLeader returns ErrNotLeader wrapping the reason the term ended.
func notLeader(cause error) error {
	if cause == nil {
		return ErrNotLeader
	}
	return fmt.Errorf("%w: %w", ErrNotLeader, cause)
}
