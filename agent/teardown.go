package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// Deferred teardown. With Options.DeferTeardown and a dataplane that is a Quiescer, DEL answers once
// the attachment's links are out of reach (Quiesce) and its checkpoint, kept and marked Teardown,
// says the links are still to be removed; the removal itself (Detach, which for the netlink
// dataplane waits for the kernel's unregister of the links) runs after the answer, in RunTeardowns.
// A teardown still pending is finished first by anything that could meet its links: an ADD of the
// same container, into the same namespace or of the same pod UID, a GC or reclaim of it, and the
// reclaim pass at start after a restart. finish is the only code that touches a Teardown
// checkpoint: it holds the container's teardown lock, so a teardown runs once, whoever asks.

// Quiescer is a Dataplane that can take a pod's links out of reach quickly, before Detach removes
// them. Only the netlink dataplane is one; the in-memory one is not, so the simulator's DEL stays
// one synchronous step.
type Quiescer interface {
	// Quiesce makes pod's links unreachable — no frame in or out, their MACs off the node's bridges
	// and parents — without removing them, and says whether it did: false (with a nil error) when it
	// cannot for this plan (a link type it does not quiesce, links it cannot prove are the plan's, a
	// namespace it cannot enter), and the caller then detaches synchronously as before.
	Quiesce(ctx context.Context, pod plan.Pod) (bool, error)
}

// deferDetach quiesces cp's links and marks its checkpoint Teardown; false means the caller detaches
// now. The caller holds the container's lock.
func (a *Agent) deferDetach(ctx context.Context, cp Checkpoint) (bool, error) {
	q, ok := a.dp.(Quiescer)
	if !a.deferTeardown || !ok {
		return false, nil
	}
	quiet, err := q.Quiesce(ctx, cp.Plan)
	if err != nil {
		a.log.Warn("taking a pod's links down failed; removing them before answering DEL", "container", cp.ContainerID, "err", err)
		return false, nil
	}
	if !quiet {
		return false, nil
	}
	cp.Teardown = true
	// Durable: after a crash the reclaim at start must find the teardown to finish it.
	if err := a.store.Save(cp, true); err != nil {
		return false, coded(wire.CodeIOFailure, err)
	}
	a.remember(cp)
	select {
	case a.teardowns <- struct{}{}:
	default: // RunTeardowns has been woken already
	}
	return true, nil
}

// finish removes the links of key's pending teardown and its checkpoint; nothing pending is success.
func (a *Agent) finish(ctx context.Context, key wire.Attachment) error {
	unlock := a.tdLocks.lock(key.ContainerID)
	defer unlock()
	cp, ok, err := a.store.Load(key)
	if err != nil {
		return coded(wire.CodeIOFailure, err)
	}
	if !ok || !cp.Teardown {
		return nil
	}
	if err := a.dp.Detach(ctx, cp.Plan); err != nil {
		return coded(wire.CodeDataplane, fmt.Errorf("removing the links of container %s (deleted, its teardown pending): %w", key.ContainerID, err))
	}
	if err := a.store.Remove(key); err != nil {
		return coded(wire.CodeIOFailure, err)
	}
	a.forget(key)
	return nil
}

// finishMeeting finishes every pending teardown an attachment of container id in namespace netns for
// pod uid could meet: the same container, namespace or pod. The caller holds id's container lock.
func (a *Agent) finishMeeting(ctx context.Context, id, netns, uid string) error {
	var errs []error
	for _, cp := range a.pending() {
		if cp.ContainerID == id || cp.Plan.Netns == netns || (uid != "" && cp.Plan.Pod.UID == uid) {
			if err := a.finish(ctx, cp.Key()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// pending returns the checkpoints whose teardown is pending, sorted.
func (a *Agent) pending() []Checkpoint {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Checkpoint
	for _, cp := range a.index {
		if cp.Teardown {
			out = append(out, cp)
		}
	}
	sortCheckpoints(out)
	return out
}

// FinishTeardowns finishes every pending teardown, going on past failures, and returns them joined.
func (a *Agent) FinishTeardowns(ctx context.Context) error {
	var errs []error
	for _, cp := range a.pending() {
		if err := a.finish(ctx, cp.Key()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Teardown retry waits of RunTeardowns after a failure: the first, doubling up to the last.
const (
	minTeardownRetry = 100 * time.Millisecond
	maxTeardownRetry = 30 * time.Second
)

// RunTeardowns finishes deferred teardowns as DELs defer them, until ctx ends: the real runtime's
// worker (knitter-agent runs it with Options.DeferTeardown). Failures are logged and retried with a
// back-off; the links stay down and the checkpoints stay until they succeed.
func (a *Agent) RunTeardowns(ctx context.Context) {
	var retry time.Duration
	for {
		err := a.FinishTeardowns(ctx)
		var wait <-chan time.Time
		if err != nil && ctx.Err() == nil {
			retry = min(max(2*retry, minTeardownRetry), maxTeardownRetry)
			a.log.Warn("removing the links of deleted pods failed; retrying", "err", err, "in", retry)
			wait = time.After(retry)
		} else {
			retry = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-a.teardowns:
		case <-wait:
		}
	}
}
