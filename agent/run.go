package agent

import (
	"context"
	"time"
)

// Intervals of the agent's background loops.
type Intervals struct {
	// Heartbeat is how often the node re-registers with the manager; 0 means 30 s.
	Heartbeat time.Duration
	// Peers is how long to wait before watching the node set again after a failed watch; 0 means
	// 5 s. A watch that succeeds is followed by the next one at once: it waits on the manager.
	Peers time.Duration
}

// Run keeps the node registered and the VXLAN peers programmed until ctx ends. Failures are logged
// and retried on the next tick; the first heartbeat and poll happen at once.
func (a *Agent) Run(ctx context.Context, iv Intervals) {
	if iv.Heartbeat <= 0 {
		iv.Heartbeat = 30 * time.Second
	}
	if iv.Peers <= 0 {
		iv.Peers = 5 * time.Second
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
	for ctx.Err() == nil {
		err := a.PollPeers(ctx)
		if err == nil || ctx.Err() != nil {
			continue
		}
		a.log.Warn("watching the node set failed; retrying", "err", err, "in", iv.Peers)
		select {
		case <-ctx.Done():
		case <-time.After(iv.Peers):
		}
	}
	<-done
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
