package reconcile

import (
	"cmp"
	"slices"
	"time"
)

// Allocation is a pod the manager holds ports for.
type Allocation struct {
	UID       string
	Namespace string
	Name      string
	// Node is where the agent built the ports; "" while they are only allocated.
	Node string
}

// Pod is a pod the informer has.
type Pod struct {
	UID string
	// Node is spec.nodeName; "" while unscheduled.
	Node string
	// Finished is a pod in phase Succeeded or Failed: its sandbox never runs again.
	Finished bool
	// Deleting is a pod with a deletion timestamp: it waits for its kubelet to confirm.
	Deleting bool
}

// Node is a node the informer has.
type Node struct {
	Name  string
	Ready bool
	// Since is when the Ready condition last changed.
	Since time.Time
}

// Config tunes Plan.
type Config struct {
	// OrphanGrace is how long a manager pod must be missing from the informer before it is
	// released; it covers the informer's lag behind the API server. Keep it below the period of
	// the passes so that every orphan is released within one period of being seen.
	OrphanGrace time.Duration
	// NodeGrace is how long a node may be NotReady before the ports of its deleting pods are
	// released (their kubelet will not confirm the delete).
	NodeGrace time.Duration
}

// Input is one pass's view of the world. Slices need no order; Plan does not modify them.
type Input struct {
	Allocations []Allocation
	Pods        []Pod
	Nodes       []Node
	// Suspects are the orphans the previous pass saw, with when each was first seen missing.
	Suspects map[string]time.Time
	Now      time.Time
}

// Reason says why ports were released. The values are metric labels.
type Reason string

// Why a pass releases a pod's ports.
const (
	// ReasonPodGone: the pod object is gone (a delete the event path missed).
	ReasonPodGone Reason = "pod-gone"
	// ReasonPodFinished: the pod is Succeeded or Failed.
	ReasonPodFinished Reason = "pod-finished"
	// ReasonNodeGone: the pod is gone or deleting, and its node is deleted.
	ReasonNodeGone Reason = "node-gone"
	// ReasonNodeNotReady: the pod is gone or deleting, and its node has been NotReady past NodeGrace.
	ReasonNodeNotReady Reason = "node-not-ready"
)

// Release is a command: release pod UID's ports.
type Release struct {
	Allocation
	Reason Reason
}

// Output is what the caller must do, and the state to pass to the next pass.
type Output struct {
	// Releases in UID order.
	Releases []Release
	// Suspects to pass as the next Input.Suspects.
	Suspects map[string]time.Time
}

// Plan decides one pass. A pod the informer has that is neither finished nor deleting on a dead
// node is live, and its ports are never released.
func Plan(cfg Config, in Input) Output {
	pods := make(map[string]Pod, len(in.Pods))
	for _, p := range in.Pods {
		pods[p.UID] = p
	}
	nodes := make(map[string]Node, len(in.Nodes))
	for _, n := range in.Nodes {
		nodes[n.Name] = n
	}
	// dead says whether a node's pods can no longer be there, and why.
	dead := func(name string) (Reason, bool) {
		if name == "" {
			return "", false
		}
		n, ok := nodes[name]
		switch {
		case !ok:
			return ReasonNodeGone, true
		case !n.Ready && in.Now.Sub(n.Since) >= cfg.NodeGrace:
			return ReasonNodeNotReady, true
		}
		return "", false
	}
	out := Output{Suspects: map[string]time.Time{}}
	for _, a := range in.Allocations {
		p, live := pods[a.UID]
		if live {
			node := cmp.Or(p.Node, a.Node)
			if p.Finished {
				out.Releases = append(out.Releases, Release{a, ReasonPodFinished})
			} else if why, ok := dead(node); ok && p.Deleting {
				out.Releases = append(out.Releases, Release{a, why})
			}
			continue
		}
		first, seen := in.Suspects[a.UID]
		if !seen || first.After(in.Now) {
			first = in.Now
		}
		if in.Now.Sub(first) < cfg.OrphanGrace {
			out.Suspects[a.UID] = first
			continue
		}
		why, ok := dead(a.Node)
		if !ok {
			why = ReasonPodGone
		}
		out.Releases = append(out.Releases, Release{a, why})
	}
	slices.SortFunc(out.Releases, func(x, y Release) int { return cmp.Compare(x.UID, y.UID) })
	out.Releases = slices.CompactFunc(out.Releases, func(x, y Release) bool { return x.UID == y.UID })
	return out
}
