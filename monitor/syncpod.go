package monitor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Why the event path releases a pod's ports. The values are metric labels, next to reconcile's.
const (
	ReasonDeleted  = "pod-deleted"  // the pod object is gone
	ReasonReplaced = "pod-replaced" // a pod of the same name and another UID took its place
	ReasonFinished = "pod-finished" // the pod is Succeeded or Failed
)

// Warning event reasons.
const (
	EventInvalidNetworks  = "InvalidNetworks"
	EventAllocationFailed = "AllocationFailed"
)

// SyncPod makes the manager agree with the informer about one pod UID: a pod that exists (even
// unscheduled) gets its ports; a pod that is gone, finished, or replaced by a namesake with another
// UID has them released. It is level-triggered and idempotent. An error means "retry later" (the
// manager or the API server did not answer); a pod whose request is wrong gets a Warning event
// instead, once per distinct message, and is not retried until it changes or the reconcile comes by.
func (m *Monitor) SyncPod(ctx context.Context, k PodKey) (err error) {
	defer m.metrics.observeSync("pod", m.clock, m.clock.Now(), &err)
	pod, err := m.pods.Pods(k.Namespace).Get(k.Name)
	switch {
	case apierrors.IsNotFound(err):
		return m.release(ctx, k.UID, ReasonDeleted)
	case err != nil:
		return fmt.Errorf("reading pod %s from the informer: %w", k, err)
	case string(pod.UID) != k.UID:
		return m.release(ctx, k.UID, ReasonReplaced)
	case finished(pod):
		return m.release(ctx, k.UID, ReasonFinished)
	case pod.Spec.HostNetwork:
		return nil
	}
	if err := m.ensureAllocated(ctx, pod); err != nil {
		return err
	}
	return m.ensureStatus(ctx, pod)
}

// finished reports whether the pod's sandbox will never run again.
func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// ensureAllocated calls the manager's idempotent AllocatePod unless the monitor knows the pod has
// its ports.
func (m *Monitor) ensureAllocated(ctx context.Context, pod *corev1.Pod) error {
	uid := string(pod.UID)
	if m.isKnown(uid) {
		m.mu.Lock()
		delete(m.seen, uid) // the informer's first list after a start: pods allocated long ago
		m.mu.Unlock()
		return nil
	}
	key := podKey(pod)
	if m.cfg.AllocateAtAdd {
		// The agent allocates at ADD; the monitor learns the pod has ports once it does.
		_, err := m.mgr.Pod(ctx, uid)
		switch {
		case model.CodeOf(err) == model.CodeNotFound:
			return nil // the pod's status update after its ADD brings it back
		case err != nil:
			return fmt.Errorf("reading pod %s's ports: %w", key, err)
		}
		m.mu.Lock()
		m.known[uid] = true
		delete(m.seen, uid)
		m.mu.Unlock()
		return nil
	}
	res, err := m.resolve(ctx, pod)
	if err != nil {
		if transient(err) {
			return err
		}
		m.warn(pod, EventInvalidNetworks, err) // podnet's message already names the pod
		return nil
	}
	if len(res.Requests) == 0 {
		return nil // only other plugins' attachments: nothing of Knitter's to allocate
	}
	req := alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: pod.Namespace, Name: pod.Name},
		Tenant: res.Tenant, Owner: StickyOwner(pod), Requests: res.Requests}
	_, created, err := m.mgr.AllocatePod(ctx, req)
	if err != nil {
		err = fmt.Errorf("allocating pod %s's ports: %w", key, err)
		if transient(err) {
			return err
		}
		m.warn(pod, EventAllocationFailed, err)
		return nil
	}
	now := m.clock.Now()
	m.mu.Lock()
	m.known[uid] = true
	delete(m.warned, uid)
	seen, wasSeen := m.seen[uid]
	delete(m.seen, uid)
	m.mu.Unlock()
	if created {
		m.metrics.allocationLag.Observe(now.Sub(pod.CreationTimestamp.Time).Seconds())
		if wasSeen {
			m.metrics.observedLag.Observe(now.Sub(seen).Seconds())
		}
		m.log.Debug("allocated", "pod", key.String(), "uid", uid)
	}
	return nil
}

// release frees a pod UID's ports.
func (m *Monitor) release(ctx context.Context, uid, reason string) error {
	if err := m.mgr.ReleasePod(ctx, uid); err != nil {
		return fmt.Errorf("releasing pod %s's ports: %w", uid, err)
	}
	m.mu.Lock()
	had := m.known[uid]
	delete(m.known, uid)
	delete(m.warned, uid)
	delete(m.seen, uid)
	m.mu.Unlock()
	if had {
		m.metrics.releases.WithLabelValues(reason).Inc()
		m.log.Debug("released", "uid", uid, "reason", reason)
	}
	return nil
}

func (m *Monitor) isKnown(uid string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.known[uid]
}

// warn records a Warning event on the pod unless the same message was the last one sent for it:
// a pod retried by the queue or the reconcile does not flood its events.
func (m *Monitor) warn(pod *corev1.Pod, reason string, err error) {
	msg := err.Error()
	uid := string(pod.UID)
	m.mu.Lock()
	same := m.warned[uid] == msg
	m.warned[uid] = msg
	m.mu.Unlock()
	m.log.Warn("pod not allocated", "pod", podKey(pod).String(), "reason", reason, "err", msg)
	if !same {
		m.metrics.warnings.WithLabelValues(reason).Inc()
		m.rec.Event(pod, corev1.EventTypeWarning, reason, msg)
	}
}
