package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
)

// Why an attachment was reclaimed; the values label the reclaim metric.
const (
	// ReclaimNetnsGone is an attachment whose sandbox network namespace no longer exists.
	ReclaimNetnsGone = "netns_gone"
	// ReclaimPodGone is an attachment whose pod the pod source no longer has under the pod's UID:
	// deleted, or deleted and created again.
	ReclaimPodGone = "pod_gone"
)

// Reclaimed is one attachment Reclaim removed.
type Reclaimed struct {
	Attachment wire.Attachment
	Pod        model.PodRef
	// Reason is ReclaimNetnsGone or ReclaimPodGone.
	Reason string
}

// Reclaim removes the attachments no DEL will ever come for: those whose sandbox network namespace
// is gone (the pod died while nobody called DEL, or the agent was down), and those whose pod the pod
// source no longer has under the pod's UID. Behind a meta-plugin a DEL can be lost for good (Multus
// drops its record on an error it misreads, and forwards GC only to its first delegate), so the agent
// cannot rely on DEL or GC alone.
//
// Each pass first finishes the deferred teardowns still pending (teardown.go): after a restart,
// the one at start removes the links of DELs answered before it.
//
// Reclaim is one pass; the caller runs it at start and then on a period. A pod that cannot be looked
// up (the source is unreachable) keeps its attachment until a later pass. It goes on past failures
// and returns what it removed and every failure.
func (a *Agent) Reclaim(ctx context.Context) ([]Reclaimed, error) {
	var out []Reclaimed
	var errs []error
	known := map[string]bool{} // pod UID -> still there, so a pod of several attachments is read once
	// Deleted attachments whose teardown is pending (a restart cut RunTeardowns short, or it is
	// failing): finished here too, so that they never depend on the worker alone.
	if err := a.FinishTeardowns(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, cp := range a.Checkpoints() {
		if cp.Teardown {
			continue // failed above; the next pass retries
		}
		reason, err := a.orphaned(ctx, cp, known)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if reason == "" {
			continue
		}
		removed, err := a.reclaim(ctx, cp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !removed {
			continue
		}
		a.metrics.reclaimed(reason)
		a.log.Info("reclaimed an attachment no DEL came for", "reason", reason, "container", cp.ContainerID,
			"ifname", cp.IfName, "pod", cp.Plan.Pod.Namespace+"/"+cp.Plan.Pod.Name, "uid", cp.Plan.Pod.UID, "netns", cp.Plan.Netns)
		out = append(out, Reclaimed{Attachment: cp.Key(), Pod: cp.Plan.Pod, Reason: reason})
	}
	return out, errors.Join(errs...)
}

// orphaned says why cp has no owner any more, or "" if it has one (or that cannot be known now).
func (a *Agent) orphaned(ctx context.Context, cp Checkpoint, known map[string]bool) (string, error) {
	if !a.netnsExists(cp.Plan.Netns) {
		return ReclaimNetnsGone, nil
	}
	ref := cp.Plan.Pod
	if ref.UID == "" || ref.Namespace == "" || ref.Name == "" {
		return "", nil // nothing to look the pod up by
	}
	there, ok := known[ref.UID]
	if !ok {
		_, err := a.pods.Pod(ctx, PodKey{Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID})
		switch {
		case err == nil:
			there = true
		case model.CodeOf(err) == model.CodeNotFound && !transient(err):
			there = false
		default:
			return "", fmt.Errorf("looking up pod %s/%s (UID %s) of container %s: %w; its attachment is kept until the pod can be read",
				ref.Namespace, ref.Name, ref.UID, cp.ContainerID, err)
		}
		known[ref.UID] = there
	}
	if there {
		return "", nil
	}
	return ReclaimPodGone, nil
}

// reclaim detaches cp under its container's lock, unless the attachment changed since it was judged
// (a DEL came meanwhile, or another sandbox took the container ID). removed is false then.
func (a *Agent) reclaim(ctx context.Context, cp Checkpoint) (removed bool, err error) {
	unlock := a.locks.lock(cp.ContainerID)
	defer unlock()
	now, ok, err := a.store.Load(cp.Key())
	if err != nil {
		return false, coded(wire.CodeIOFailure, err)
	}
	if !ok || now.Teardown || now.Plan.Netns != cp.Plan.Netns || now.Plan.Pod.UID != cp.Plan.Pod.UID {
		return false, nil
	}
	if err := a.detach(ctx, cp.Key()); err != nil {
		return false, fmt.Errorf("reclaiming container %s: %w", cp.ContainerID, err)
	}
	return true, nil
}
