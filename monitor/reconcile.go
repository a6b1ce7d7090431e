package monitor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/reconcile"
)

// Reconcile is the full pass: it lists the manager's ports a page at a time (with node != "" only
// that node's), folding each page into per-pod allocations, compares them with the informer caches through core/reconcile, releases the orphans,
// and queues every live pod the manager has no ports for. It needs synced informers.
func (m *Monitor) Reconcile(ctx context.Context, node string) (err error) {
	start := m.clock.Now()
	defer m.metrics.observeSync("reconcile", m.clock, start, &err)
	var in reconcile.Input
	portCount := map[string]int{}
	err = m.mgr.Ports(ctx, node, func(ports []model.Port) {
		for _, p := range ports {
			if portCount[p.Pod.UID] == 0 {
				in.Allocations = append(in.Allocations, reconcile.Allocation{UID: p.Pod.UID, Namespace: p.Pod.Namespace, Name: p.Pod.Name, Node: p.Node})
			}
			portCount[p.Pod.UID]++
		}
	})
	if err != nil {
		return fmt.Errorf("listing the manager's ports: %w", err)
	}
	m.informerInput(&in)
	in.Now = start
	m.mu.Lock()
	in.Suspects = maps.Clone(m.suspects)
	m.mu.Unlock()
	out := reconcile.Plan(reconcile.Config{OrphanGrace: m.cfg.OrphanGrace, NodeGrace: m.cfg.NodeGrace}, in)

	m.mu.Lock()
	if node == "" {
		m.suspects = out.Suspects
		// What the manager holds is now known; the informer's first list of pods costs no request.
		m.known = make(map[string]bool, len(in.Allocations))
		for _, a := range in.Allocations {
			m.known[a.UID] = true
		}
	} else {
		for _, a := range in.Allocations {
			delete(m.suspects, a.UID)
		}
		maps.Copy(m.suspects, out.Suspects)
	}
	m.mu.Unlock()

	for _, r := range out.Releases {
		if err := m.mgr.ReleasePod(ctx, r.UID); err != nil {
			return fmt.Errorf("releasing pod %s/%s (%s)'s ports: %w", r.Namespace, r.Name, r.UID, err)
		}
		m.mu.Lock()
		delete(m.known, r.UID)
		delete(m.warned, r.UID)
		delete(m.seen, r.UID)
		m.mu.Unlock()
		m.metrics.releases.WithLabelValues(string(r.Reason)).Inc()
		m.metrics.releasedPorts.WithLabelValues(string(r.Reason)).Add(float64(portCount[r.UID]))
		m.log.Info("released an orphan", "pod", r.Namespace+"/"+r.Name, "uid", r.UID, "node", r.Node, "reason", r.Reason)
	}
	if node == "" {
		m.queueUnallocated(in.Pods)
	}
	m.metrics.lastReconcile.Set(float64(start.Unix()))
	return nil
}

// informerInput fills core/reconcile's pods and nodes from the informer caches.
func (m *Monitor) informerInput(in *reconcile.Input) {
	pods, _ := m.pods.List(labels.Everything()) // a lister's List does not fail
	in.Pods = make([]reconcile.Pod, 0, len(pods))
	for _, p := range pods {
		if p.Spec.HostNetwork {
			continue
		}
		in.Pods = append(in.Pods, reconcile.Pod{UID: string(p.UID), Node: p.Spec.NodeName, Finished: finished(p), Deleting: p.DeletionTimestamp != nil})
	}
	nodes, _ := m.nodes.List(labels.Everything())
	in.Nodes = make([]reconcile.Node, 0, len(nodes))
	for _, n := range nodes {
		ready, since := nodeReady(n)
		in.Nodes = append(in.Nodes, reconcile.Node{Name: n.Name, Ready: ready, Since: since})
	}
}

// queueUnallocated queues the live pods the manager has no ports for: a sync that failed for good
// (an unknown network that may exist now), or an event the monitor never saw.
func (m *Monitor) queueUnallocated(pods []reconcile.Pod) {
	m.mu.Lock()
	var missing []string
	for _, p := range pods {
		if !p.Finished && !p.Deleting && !m.known[p.UID] {
			missing = append(missing, p.UID)
		}
	}
	m.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	want := make(map[string]bool, len(missing))
	for _, uid := range missing {
		want[uid] = true
	}
	all, _ := m.pods.List(labels.Everything())
	var keys []PodKey
	for _, p := range all {
		if want[string(p.UID)] {
			keys = append(keys, podKey(p))
		}
	}
	// The lister lists a map: queue in key order so that a step-driven run (the simulator) syncs
	// the pods in the same order every time.
	slices.SortFunc(keys, func(a, b PodKey) int { return strings.Compare(a.String()+"/"+a.UID, b.String()+"/"+b.UID) })
	for _, k := range keys {
		m.PodQueue.Add(k)
	}
}

// nodeReady reads a node's Ready condition and when it last changed. A node without the condition
// has not reported yet: it counts as not ready since it was created.
func nodeReady(n *corev1.Node) (bool, time.Time) {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
		}
	}
	return false, n.CreationTimestamp.Time
}
