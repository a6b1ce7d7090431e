package agent

import (
	"context"
	"time"
)

// Intervals of the agent's background loops.
type Intervals struct {
	// Heartbeat is how often the node re-registers with the manager; 0 means 30 s.
	Heartbeat time.Duration
	// Peers is the longest wait before watching the node set again after failed watches; 0 means
	// 5 s. The first retry comes after minPeerRetry and each further failure doubles the wait up to
	// Peers, so a manager that restarts or fails over is watched again within milliseconds and a new
	// node is not missed for seconds. A watch that succeeds is followed by the next one at once: it
	// waits on the manager.
	Peers time.Duration
	// PeerBatch is the pause after a watch that brought a changed node set before the next watch;
	// 0 means DefaultPeerBatch, a negative value none. While nodes join faster than a round trip (a
	// cluster booting) every agent would otherwise fetch the whole set once per round trip; with
	// the pause each fetches it once per PeerBatch, and a joining node waits at most that much longer
	// in the peer gate.
	PeerBatch time.Duration
}

// DefaultPeerBatch is Intervals.PeerBatch's default.
const DefaultPeerBatch = 100 * time.Millisecond

// Run keeps the node registered and the VXLAN peers programmed until ctx ends. Failures are logged
// and retried on the next tick; the first heartbeat and poll happen at once.
func (a *Agent) Run(ctx context.Context, iv Intervals) {
	if iv.Heartbeat <= 0 {
		iv.Heartbeat = 30 * time.Second
	}
	if iv.Peers <= 0 {
		iv.Peers = 5 * time.Second
	}
	if iv.PeerBatch == 0 {
		iv.PeerBatch = DefaultPeerBatch
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		every(ctx, iv.Heartbeat, func() {
			if err := a.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat failed", "err", err)
			}
		})
	}()
	var retry time.Duration
	for ctx.Err() == nil {
		before := a.nodesRevision()
		err := a.PollPeers(ctx)
		if err == nil || ctx.Err() != nil {
			retry = 0
			if err == nil && iv.PeerBatch > 0 && a.nodesRevision() != before {
				select {
				case <-ctx.Done():
				case <-time.After(iv.PeerBatch):
				}
			}
			continue
		}
		retry = nextPeerRetry(retry, iv.Peers)
		a.log.Warn("watching the node set failed; retrying", "err", err, "in", retry)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	<-done
}

// minPeerRetry is the wait before the first retry of a failed node watch.
const minPeerRetry = 50 * time.Millisecond

// nextPeerRetry is the wait after another failed node watch, given the last wait (0 after a success):
// minPeerRetry, then doubling, never more than max.
func nextPeerRetry(last, max time.Duration) time.Duration {
	next := 2 * last
	if next < minPeerRetry {
		next = minPeerRetry
	}
	return min(next, max)
}

// every runs fn now and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
