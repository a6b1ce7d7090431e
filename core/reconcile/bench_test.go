package reconcile

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPlan50kPods is one pass over 50,000 manager pods (150,000 ports at three NICs each)
// against 50,000 informer pods on 500 nodes, 1% of them orphans.
func BenchmarkPlan50kPods(b *testing.B) {
	const n = 50000
	in := Input{Now: t0, Suspects: map[string]time.Time{}}
	for i := range 500 {
		in.Nodes = append(in.Nodes, Node{Name: fmt.Sprintf("node-%03d", i), Ready: true, Since: t0})
	}
	for i := range n {
		uid := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		node := fmt.Sprintf("node-%03d", i%500)
		in.Allocations = append(in.Allocations, Allocation{UID: uid, Namespace: "ns", Name: fmt.Sprintf("p-%d", i), Node: node})
		if i%100 != 0 {
			in.Pods = append(in.Pods, Pod{UID: uid, Node: node})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		out := Plan(Config{}, in)
		if len(out.Releases) != n/100 {
			b.Fatalf("released %d, want %d", len(out.Releases), n/100)
		}
	}
}
