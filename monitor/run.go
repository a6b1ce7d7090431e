package monitor

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Run serves until ctx ends: a first reconcile (which tells the monitor what the manager holds, so
// the informers' initial list costs no manager request per pod), then workers on the queues and a
// reconcile every period. The informers must be started and synced.
func (m *Monitor) Run(ctx context.Context, workers int, period time.Duration) {
	defer m.PodQueue.ShutDown()
	defer m.NodeQueue.ShutDown()
	// Retry the first pass until the manager answers: releasing without it would be blind.
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := m.Reconcile(ctx, ""); err != nil {
			m.log.Warn("first reconcile failed; retrying", "err", err)
			return
		}
		m.log.Info("first reconcile done")
		m.startWorkers(ctx, workers, period)
		<-ctx.Done()
	}, 2*time.Second)
}

func (m *Monitor) startWorkers(ctx context.Context, workers int, period time.Duration) {
	for range max(workers, 1) {
		go wait.UntilWithContext(ctx, m.podWorker, time.Second)
	}
	go wait.UntilWithContext(ctx, m.nodeWorker, time.Second)
	go wait.JitterUntilWithContext(ctx, func(ctx context.Context) {
		if err := m.Reconcile(ctx, ""); err != nil {
			m.log.Warn("reconcile failed; the next period retries", "err", err)
		}
	}, period, 0.1, false)
	go func() {
		<-ctx.Done()
		m.PodQueue.ShutDown()
		m.NodeQueue.ShutDown()
	}()
}

func (m *Monitor) podWorker(ctx context.Context) {
	for m.ProcessNextPod(ctx) {
	}
}

// ProcessNextPod runs SyncPod on the next key of PodQueue, requeueing it with backoff when it
// fails; false once the queue shuts down. It blocks while the queue is empty.
func (m *Monitor) ProcessNextPod(ctx context.Context) bool {
	k, quit := m.PodQueue.Get()
	if quit {
		return false
	}
	defer m.PodQueue.Done(k)
	if err := m.SyncPod(ctx, k); err != nil {
		m.log.Debug("pod sync failed; retrying with backoff", "pod", k.String(), "uid", k.UID, "err", err)
		m.PodQueue.AddRateLimited(k)
		return true
	}
	m.PodQueue.Forget(k)
	return true
}

func (m *Monitor) nodeWorker(ctx context.Context) {
	for {
		name, quit := m.NodeQueue.Get()
		if quit {
			return
		}
		after, err := m.SyncNode(ctx, name)
		switch {
		case err != nil:
			m.log.Warn("node sync failed; retrying with backoff", "node", name, "err", err)
			m.NodeQueue.AddRateLimited(name)
		case after > 0:
			m.NodeQueue.Forget(name)
			m.NodeQueue.AddAfter(name, after)
		default:
			m.NodeQueue.Forget(name)
		}
		m.NodeQueue.Done(name)
	}
}
