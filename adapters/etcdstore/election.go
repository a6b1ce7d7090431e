package etcdstore

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/knitter-cni/knitter/core/model"
)

// closedChan is what Lost returns when there is no term: not leading is already "lost".
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Campaign blocks until this Store leads, then starts a term whose writes are fenced on the election
// key. id names this manager to the others (Leader returns it; standbys redirect to it). If the Store
// already leads, Campaign returns its live term at once. If ctx ends first, the campaign is withdrawn
// and ctx's error returned. After Campaign returns, Load sees every write of every earlier leader.
func (s *Store) Campaign(ctx context.Context, id string) (*Term, error) {
	if id == "" {
		return nil, model.Invalid("id", "give this manager a non-empty id, e.g. its host name or advertised URL")
	}
	s.campaignMu.Lock()
	defer s.campaignMu.Unlock()
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if t := s.currentTerm(); t != nil && t.ended() == nil {
		return t, nil
	}
	sess, err := s.liveSession(ctx)
	if err != nil {
		return nil, err
	}
	// Stop waiting when the session dies (the campaign can no longer win) or the Store closes.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sess.Ctx(), cancel)()
	defer context.AfterFunc(s.ctx, cancel)()

	el := concurrency.NewElection(sess, s.electionPrefix)
	if err := el.Campaign(cctx, id); err != nil {
		switch {
		case s.ctx.Err() != nil:
			err = ErrClosed
		case sess.Ctx().Err() != nil:
			err = fmt.Errorf("etcdstore: campaign: %w", errSessionLost)
		default:
			err = fmt.Errorf("etcdstore: campaign for %q under %s: %w", id, s.electionPrefix, err)
		}
		// A campaign interrupted while its put was in flight leaves the candidacy key behind, and
		// that key would later win the election for a Store that no longer campaigns. Revoking the
		// session's lease removes every key it holds.
		s.dropSession(sess)
		return nil, err
	}
	t := newTerm(s, sess, el)
	s.mu.Lock()
	s.term = t
	s.mu.Unlock()
	go t.watch()
	if s.ctx.Err() != nil { // Close ran while we campaigned and did not see this term.
		t.end(ErrClosed)
		return nil, ErrClosed
	}
	return t, nil
}

// liveSession returns the Store's session, replacing it when it has died. The lease is granted
// under ctx, but kept alive under the client's context, so that the session outlives the call.
func (s *Store) liveSession(ctx context.Context) (*concurrency.Session, error) {
	s.mu.Lock()
	sess := s.session
	s.mu.Unlock()
	if sess != nil && sess.Ctx().Err() == nil {
		return sess, nil
	}
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	lease, err := s.client.Grant(ctx, int64(s.cfg.sessionTTLSeconds()))
	if err != nil {
		return nil, fmt.Errorf("etcdstore: grant the election lease: %w", err)
	}
	sess, err = concurrency.NewSession(s.client, concurrency.WithLease(lease.ID), concurrency.WithTTL(s.cfg.sessionTTLSeconds()))
	if err != nil {
		return nil, fmt.Errorf("etcdstore: keep the election lease alive: %w", err)
	}
	s.mu.Lock()
	s.session = sess
	s.mu.Unlock()
	return sess, nil
}

// dropSession forgets sess, so that the next Campaign starts with a fresh lease and a new election
// key, and revokes it, which deletes every key it holds. If the revoke fails, the lease expires after
// its TTL instead.
func (s *Store) dropSession(sess *concurrency.Session) {
	s.forgetSession(sess)
	_ = sess.Close()
}

// forgetSession stops the next Campaign from reusing sess.
func (s *Store) forgetSession(sess *concurrency.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == sess {
		s.session = nil
	}
}

// Leader returns the id of the manager that leads now, or ErrNoLeader. Standbys use it to redirect.
func (s *Store) Leader(ctx context.Context) (string, error) {
	// The leader is the oldest key of the election, which is what concurrency.Election.Leader
	// reads too; that method needs a session, and a standby that only asks should not hold one.
	resp, err := s.client.Get(ctx, s.electionPrefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("etcdstore: read the leader under %s: %w", s.electionPrefix, err)
	}
	if len(resp.Kvs) == 0 {
		return "", ErrNoLeader
	}
	return string(resp.Kvs[0].Value), nil
}

// Resign resigns the current term (see Term.Resign). Writes still queued fail with ErrNotLeader; to
// have them written, wait for them before resigning. Resign without a term does nothing.
func (s *Store) Resign(ctx context.Context) error {
	t := s.currentTerm()
	if t == nil {
		return nil
	}
	return t.Resign(ctx)
}

// Lost returns a channel that is closed when the current term ends: the session was lost, a fenced
// write found another leader, a write failed, or Resign or Close was called. Before the first
// Campaign, and after a term ended, it returns a closed channel. Call it again after each Campaign.
func (s *Store) Lost() <-chan struct{} {
	t := s.currentTerm()
	if t == nil {
		return closedChan
	}
	return t.lost
}

func (s *Store) currentTerm() *Term {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term
}
