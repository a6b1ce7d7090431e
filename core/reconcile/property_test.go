package reconcile

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// world is a random cluster: manager allocations, informer pods and nodes, some overlapping.
type world struct {
	allocs []Allocation
	pods   []Pod
	nodes  []Node
}

func randomWorld(r *rand.Rand, cfg Config) world {
	var w world
	nNodes := r.IntN(5)
	for i := range nNodes {
		n := Node{Name: fmt.Sprintf("n%d", i), Ready: r.IntN(3) > 0}
		// NotReady for less or more than the grace.
		n.Since = t0.Add(-time.Duration(r.IntN(3)) * cfg.NodeGrace)
		w.nodes = append(w.nodes, n)
	}
	nodeName := func() string {
		// Some pods on nodes the informer does not have (deleted), some unscheduled.
		if k := r.IntN(nNodes + 2); k < nNodes+1 {
			return fmt.Sprintf("n%d", k)
		}
		return ""
	}
	for i := range r.IntN(40) {
		uid := fmt.Sprintf("u%02d", i)
		inManager, inInformer := r.IntN(4) > 0, r.IntN(3) > 0
		node := nodeName()
		if inManager {
			a := Allocation{UID: uid, Namespace: "ns", Name: uid}
			if r.IntN(2) == 0 {
				a.Node = node
			}
			w.allocs = append(w.allocs, a)
		}
		if inInformer {
			w.pods = append(w.pods, Pod{UID: uid, Node: node, Finished: r.IntN(6) == 0, Deleting: r.IntN(4) == 0})
		}
	}
	r.Shuffle(len(w.allocs), func(i, j int) { w.allocs[i], w.allocs[j] = w.allocs[j], w.allocs[i] })
	return w
}

// naiveLive is the safety rule written plainly: a pod the informer has is live unless it finished,
// or it is deleting while its node is deleted or NotReady past the grace.
func naiveLive(cfg Config, w world, now time.Time, uid string, allocNode string) bool {
	for _, p := range w.pods {
		if p.UID != uid {
			continue
		}
		if p.Finished {
			return false
		}
		node := p.Node
		if node == "" {
			node = allocNode
		}
		if !p.Deleting || node == "" {
			return true
		}
		for _, n := range w.nodes {
			if n.Name == node {
				return n.Ready || now.Sub(n.Since) < cfg.NodeGrace
			}
		}
		return false
	}
	return false
}

// TestPlanProperties runs two passes one period apart over random worlds, releasing what the first
// pass decided before the second, and checks: no live pod is ever released; every pod that is not
// live is released by the second pass, exactly once; nothing is released twice.
func TestPlanProperties(t *testing.T) {
	cfg := Config{OrphanGrace: 5 * time.Second, NodeGrace: 40 * time.Second}
	period := 30 * time.Second
	for seed := range uint64(5000) {
		r := rand.New(rand.NewPCG(seed, 7))
		w := randomWorld(r, cfg)
		released := map[string]int{}
		suspects := map[string]time.Time(nil)
		allocs := w.allocs
		for pass, now := range []time.Time{t0, t0.Add(period)} {
			out := Plan(cfg, Input{Allocations: allocs, Pods: w.pods, Nodes: w.nodes, Suspects: suspects, Now: now})
			for i, rel := range out.Releases {
				if i > 0 && out.Releases[i-1].UID >= rel.UID {
					t.Fatalf("seed %d pass %d: releases not in UID order: %v", seed, pass, out.Releases)
				}
				if naiveLive(cfg, w, now, rel.UID, rel.Node) {
					t.Fatalf("seed %d pass %d: released live pod %s (%s)", seed, pass, rel.UID, rel.Reason)
				}
				released[rel.UID]++
			}
			var next []Allocation
			for _, a := range allocs {
				if released[a.UID] == 0 {
					next = append(next, a)
				}
			}
			allocs, suspects = next, out.Suspects
		}
		for _, a := range w.allocs {
			live := naiveLive(cfg, w, t0.Add(period), a.UID, a.Node)
			if !live && released[a.UID] != 1 {
				t.Fatalf("seed %d: orphan %s released %d times within one period, want once", seed, a.UID, released[a.UID])
			}
			if live && released[a.UID] != 0 {
				t.Fatalf("seed %d: live pod %s released", seed, a.UID)
			}
		}
	}
}

// TestPlanDeterministic checks that the input's order does not change the output.
func TestPlanDeterministic(t *testing.T) {
	cfg := Config{OrphanGrace: 0, NodeGrace: time.Minute}
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 9))
		w := randomWorld(r, cfg)
		a := Plan(cfg, Input{Allocations: w.allocs, Pods: w.pods, Nodes: w.nodes, Now: t0})
		r.Shuffle(len(w.allocs), func(i, j int) { w.allocs[i], w.allocs[j] = w.allocs[j], w.allocs[i] })
		r.Shuffle(len(w.pods), func(i, j int) { w.pods[i], w.pods[j] = w.pods[j], w.pods[i] })
		b := Plan(cfg, Input{Allocations: w.allocs, Pods: w.pods, Nodes: w.nodes, Now: t0})
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("seed %d: order changed the plan:\n%v\n%v", seed, a, b)
		}
	}
}
