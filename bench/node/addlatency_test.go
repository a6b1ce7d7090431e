package nodebench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// podRig is one way of building the benchmark pod: Knitter, the reference plugins or the floor.
type podRig interface {
	add(ctx context.Context, p *pod) error
	del(ctx context.Context, p *pod) error
}

// settler is a rig whose DEL can answer before the pod's links are removed (Knitter's deferred
// teardown); settle returns once they are.
type settler interface {
	settle(ctx context.Context) error
}

// settle waits for r's answered DELs to be done, when r defers any.
func settle(ctx context.Context, r podRig) error {
	if s, ok := r.(settler); ok {
		return s.settle(ctx)
	}
	return nil
}

// measured is a rig in an interleaved run with the ADD and DEL durations it took. w is the world
// that allocates its pods' ports beforehand (nil: the rig allocates, or needs no allocation).
type measured struct {
	name     string
	rig      podRig
	w        *world
	add, del samples
}

// stateDir is where an in-process agent keeps its checkpoints: a new directory in
// $KNITTER_BENCH_STATE_DIR when set (a disk path such as /var/tmp shows the fsyncs' cost), else in
// /dev/shm, a tmpfs as the agent's default /run/knitter/agent is; the test's temp directory when
// there is no /dev/shm.
func stateDir(tb testing.TB) string {
	tb.Helper()
	parent := os.Getenv("KNITTER_BENCH_STATE_DIR")
	if parent == "" {
		if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
			return tb.TempDir()
		}
		parent = "/dev/shm"
	}
	dir, err := os.MkdirTemp(parent, "knitter-bench-state")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// BenchmarkKnitterADD times a pod's CNI ADD and DEL (eth0 + 3 extra NICs, ports allocated
// beforehand) on Knitter's whole node path — libcni, the knitter-plugin process, the unix socket,
// the agent in this process, netlink — interleaved with the same pod built by the reference plugins
// through libcni and by the floor, so that all three see the same machine. Each iteration is one pod
// per rig in a fresh namespace, the rigs taking turns at going first; making namespaces and
// allocating ports is not timed, and ns/op is Knitter's ADD + DEL alone. The first pod of each rig,
// which also creates the node's bridges, runs before timing and is checked by reading netlink back.
//
// Besides each rig's p50 and p99, it reports the p50 of the parts of Knitter's ADD and DEL:
// "exec" (libcni, the plugin process and the socket: everything outside the agent's handler) and
// "agent" (the handler), of which "netlink" is the dataplane and "manager" the calls to the manager
// (the rest is mostly the checkpoint writes). Where /dev/shm exists, a second agent keeping its
// checkpoints on tmpfs takes its turns too ("knitter-tmpfs"): the difference in the agent's share
// is what the checkpoints' fsyncs cost. It also reports the p50 of a STATUS call through libcni —
// what a call costs that does no work in the agent — and the ratios reference/knitter and
// knitter/floor. With $KNITTER_BENCH_SAMPLES set it appends every rig's ADD and DEL durations to
// that file (see writeSamples).
func BenchmarkKnitterADD(b *testing.B) {
	needRoot(b)
	w := newWorld(b)
	kn := newKnitterRig(b, w, agentNode, stateDir(b))
	f, err := newFloor(kn.node, kn.cycle(b, "warm"))
	if err != nil {
		b.Fatal(err)
	}
	floorCycle(b, f, "floor-warm")
	knitter, floor := &measured{name: "knitter", rig: kn, w: w}, &measured{name: "floor", rig: f}
	runs := []*measured{knitter, floor}
	// The same agent with its checkpoints on tmpfs, where fsync costs nothing: the difference is
	// what the checkpoints' fsyncs cost.
	var tmpfs *knitterRig
	if shm, err := os.MkdirTemp("/dev/shm", "knitter-bench-state"); err != nil {
		b.Logf("no tmpfs at /dev/shm (%v); measuring without the tmpfs-checkpoint run", err)
	} else {
		b.Cleanup(func() { _ = os.RemoveAll(shm) })
		tmpfs = newKnitterRig(b, w, agentNode+"-tmpfs", shm)
		kn.current(b) // the first agent learns the second node, as its watch loop would
		tmpfs.cycle(b, "tmpfs-warm")
		tmpfs.resetTimers()
		runs = append(runs, &measured{name: "knitter-tmpfs", rig: tmpfs, w: w})
	}
	var ref *measured
	if dir := refBinDir(); missingRefPlugins(dir) != "" {
		b.Log(missingRefPlugins(dir) + "; measuring without the reference")
	} else {
		r := newRefRig(b, dir)
		r.cycle(b, "ref-warm")
		ref = &measured{name: "ref", rig: r}
		runs = append(runs, ref)
	}
	kn.resetTimers()
	gates := kn.mgr.gates.Load()
	var exec, execDel, status, mgr, delGone samples
	var mgrCalls int64
	ctx := context.Background()
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		for j := range runs {
			m := runs[(i+j)%len(runs)]
			p := newPod(b, m.w, fmt.Sprintf("%s-%d", m.name, i))
			if m == knitter {
				b.StartTimer()
			}
			spent, calls := kn.mgr.spent(), kn.mgr.calls.Load()
			start := time.Now()
			if err := m.rig.add(ctx, p); err != nil {
				b.Fatalf("%s ADD: %v", m.name, err)
			}
			added := time.Now()
			mgrAdd := kn.mgr.spent() - spent
			if m == knitter {
				mgrCalls += kn.mgr.calls.Load() - calls
			}
			if err := m.rig.del(ctx, p); err != nil {
				b.Fatalf("%s DEL: %v", m.name, err)
			}
			end := time.Now()
			b.StopTimer()
			if m == knitter {
				// Untimed in ns/op: the links' removal after the answer, waited for here so that the
				// next pod's ADD does not run beside it.
				if err := settle(ctx, m.rig); err != nil {
					b.Fatalf("%s DEL's teardown: %v", m.name, err)
				}
				delGone.add(time.Since(added))
			}
			m.add.add(added.Sub(start))
			m.del.add(end.Sub(added))
			if m == knitter {
				exec.add(added.Sub(start) - kn.served["add"].last())
				mgr.add(mgrAdd)
				execDel.add(end.Sub(added) - kn.served["del"].last())
			}
			closePod(b, m.w, p)
		}
		start := time.Now()
		if err := kn.cni.GetStatusNetworkList(ctx, kn.list); err != nil {
			b.Fatalf("STATUS: %v", err)
		}
		status.add(time.Since(start))
	}
	var series []namedSamples
	for _, m := range runs {
		m.add.report(b, m.name+"-ADD")
		m.del.report(b, m.name+"-DEL")
		series = append(series, namedSamples{m.name + "-ADD", &m.add}, namedSamples{m.name + "-DEL", &m.del})
	}
	writeSamples(b, series...)
	b.ReportMetric(ms(status.percentile(50)), "knitter-STATUS-p50-ms")
	// Peer-gate calls during the timed ADDs: 0 when this node is current, as in a settled cluster.
	b.ReportMetric(float64(kn.mgr.gates.Load()-gates), "knitter-ADD-gate-calls")
	b.ReportMetric(ms(exec.percentile(50)), "knitter-ADD-exec-p50-ms")
	b.ReportMetric(ms(kn.served["add"].percentile(50)), "knitter-ADD-agent-p50-ms")
	b.ReportMetric(ms(kn.attach.percentile(50)), "knitter-ADD-netlink-p50-ms")
	b.ReportMetric(ms(mgr.percentile(50)), "knitter-ADD-manager-p50-ms")
	// Round trips to the manager per timed ADD.
	b.ReportMetric(float64(mgrCalls)/float64(b.N), "knitter-ADD-manager-calls")
	b.ReportMetric(ms(execDel.percentile(50)), "knitter-DEL-exec-p50-ms")
	b.ReportMetric(ms(kn.served["del"].percentile(50)), "knitter-DEL-agent-p50-ms")
	// The dataplane's removal of the links, after the answer (RunTeardowns), and its quiesce before it.
	b.ReportMetric(ms(kn.detach.percentile(50)), "knitter-DEL-netlink-p50-ms")
	b.ReportMetric(ms(kn.quiesce.percentile(50)), "knitter-DEL-quiesce-p50-ms")
	// From the DEL's start until its links are removed: the DEL before its teardown was deferred.
	b.ReportMetric(ms(delGone.percentile(50)), "knitter-DEL-links-gone-p50-ms")
	if tmpfs != nil {
		b.ReportMetric(ms(tmpfs.served["add"].percentile(50)), "knitter-tmpfs-ADD-agent-p50-ms")
	}
	if ref != nil {
		reportRatio(b, "ref/knitter-ADD-p50", &ref.add, &knitter.add, 50)
		reportRatio(b, "ref/knitter-ADD-p99", &ref.add, &knitter.add, 99)
		reportRatio(b, "ref/knitter-DEL-p50", &ref.del, &knitter.del, 50)
	}
	reportRatio(b, "knitter/floor-ADD-p50", &knitter.add, &floor.add, 50)
	reportRatio(b, "knitter/floor-DEL-p50", &knitter.del, &floor.del, 50)
}
