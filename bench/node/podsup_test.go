package nodebench

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// BenchmarkKnitterADDPodsUp times one pod's ADD and DEL through Knitter's whole node path (agent
// in this process) on a node that already runs 0, 50 or 200 pods of the same networks, to show
// how the cost of an ADD grows with the links on the node. The pods already up are added before
// timing, sequentially, and removed after; it reports ADD and DEL p50/p99, the p50 of the agent's
// and of the dataplane's share of the ADD and of what is outside the agent (exec), and the p50 of the floor's ADD and DEL on the same node
// (interleaved, untimed in ns/op): what the kernel's own cost does as links pile up.
func BenchmarkKnitterADDPodsUp(b *testing.B) {
	for _, up := range []int{0, 50, 200} {
		b.Run(strconv.Itoa(up), func(b *testing.B) {
			needRoot(b)
			w := newWorld(b)
			kn := newKnitterRig(b, w, agentNode, stateDir(b))
			// Checked first: the check wants a node with no pod on it.
			f, err := newFloor(kn.node, kn.cycle(b, "warm"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var pods []*pod
			for i := range up {
				p := newPod(b, w, fmt.Sprintf("up-%d", i))
				pods = append(pods, p)
				if err := kn.add(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			kn.resetTimers()
			var add, del, delGone, exec, floorAdd, floorDel samples
			b.ResetTimer()
			b.StopTimer()
			for i := range b.N {
				p := newPod(b, w, fmt.Sprintf("extra-%d", i))
				b.StartTimer()
				start := time.Now()
				if err := kn.add(ctx, p); err != nil {
					b.Fatal(err)
				}
				added := time.Now()
				if err := kn.del(ctx, p); err != nil {
					b.Fatal(err)
				}
				del.add(time.Since(added))
				b.StopTimer()
				if err := kn.settle(ctx); err != nil {
					b.Fatal(err)
				}
				delGone.add(time.Since(added))
				add.add(added.Sub(start))
				exec.add(added.Sub(start) - kn.served["add"].last())
				closePod(b, w, p)
				timeFloor(b, f, fmt.Sprintf("floor-%d", i), &floorAdd, &floorDel)
			}
			for _, p := range pods {
				if err := kn.del(ctx, p); err != nil {
					b.Fatal(err)
				}
				closePod(b, w, p)
			}
			if err := kn.settle(ctx); err != nil {
				b.Fatal(err)
			}
			if err := checkNodeClean(kn.node); err != nil {
				b.Fatal(err)
			}
			add.report(b, "ADD")
			del.report(b, "DEL")
			b.ReportMetric(ms(delGone.percentile(50)), "DEL-links-gone-p50-ms")
			b.ReportMetric(ms(kn.served["add"].percentile(50)), "ADD-agent-p50-ms")
			b.ReportMetric(ms(kn.attach.percentile(50)), "ADD-netlink-p50-ms")
			// Outside the agent's handler: libcni, the plugin process, the socket.
			b.ReportMetric(ms(exec.percentile(50)), "ADD-exec-p50-ms")
			b.ReportMetric(ms(floorAdd.percentile(50)), "floor-ADD-p50-ms")
			b.ReportMetric(ms(floorDel.percentile(50)), "floor-DEL-p50-ms")
		})
	}
}

// timeFloor adds and deletes one pod with the floor, untimed in b, and records how long each took.
func timeFloor(b *testing.B, f *floor, name string, add, del *samples) {
	b.Helper()
	ctx := context.Background()
	p := newPod(b, nil, name)
	defer closePod(b, nil, p)
	start := time.Now()
	if err := f.add(ctx, p); err != nil {
		b.Fatalf("floor ADD: %v", err)
	}
	added := time.Now()
	if err := f.del(ctx, p); err != nil {
		b.Fatalf("floor DEL: %v", err)
	}
	del.add(time.Since(added))
	add.add(added.Sub(start))
}
