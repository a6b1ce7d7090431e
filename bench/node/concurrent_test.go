package nodebench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// concurrentPods is how many pods BenchmarkConcurrentPods adds at once, as a node does when a
// deployment scales up.
const concurrentPods = 8

// concurrently runs f for every pod at once and returns every error, each naming its pod; d gets
// each call's duration.
func concurrently(pods []*pod, d *samples, f func(*pod) error) error {
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Go(func() {
			start := time.Now()
			if err := f(p); err != nil {
				errs[i] = fmt.Errorf("pod %s: %w", p.name, err)
			}
			d.add(time.Since(start))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rate is pods per second over the wall time the rounds took.
type rate struct {
	pods int
	wall time.Duration
}

func (r *rate) add(pods int, wall time.Duration) { r.pods, r.wall = r.pods+pods, r.wall+wall }

func (r *rate) perSecond() float64 {
	if r.wall == 0 {
		return 0
	}
	return float64(r.pods) / r.wall.Seconds()
}

// concurrentRound makes concurrentPods pods (untimed), ADDs them all at once, checks that each has
// its interfaces, DELs them all at once, checks that nothing is left, and adds the rounds' wall
// times to adds and dels. timeAdds brackets the ADDs with b's timer.
func concurrentRound(b *testing.B, m *measured, node *netNS, round int, adds, dels *rate, timeAdds bool) {
	ctx := context.Background()
	pods := make([]*pod, concurrentPods)
	for i := range pods {
		pods[i] = newPod(b, m.w, fmt.Sprintf("%s-%d-%d", m.name, round, i))
	}
	if timeAdds {
		b.StartTimer()
	}
	start := time.Now()
	err := concurrently(pods, &m.add, func(p *pod) error { return m.rig.add(ctx, p) })
	adds.add(len(pods), time.Since(start))
	b.StopTimer()
	if err != nil {
		b.Fatalf("%s ADD: %v", m.name, err)
	}
	for _, p := range pods {
		if err := checkLinkCount(p.ns, len(podNICs)); err != nil {
			b.Fatalf("%s pod %s after ADD: %v", m.name, p.name, err)
		}
	}
	start = time.Now()
	err = concurrently(pods, &m.del, func(p *pod) error { return m.rig.del(ctx, p) })
	dels.add(len(pods), time.Since(start))
	if err != nil {
		b.Fatalf("%s DEL: %v", m.name, err)
	}
	if err := settle(ctx, m.rig); err != nil {
		b.Fatalf("%s DELs' teardowns: %v", m.name, err)
	}
	for _, p := range pods {
		if err := checkPodEmpty(p.ns); err != nil {
			b.Fatalf("%s pod %s: %v", m.name, p.name, err)
		}
		closePod(b, m.w, p)
	}
	if err := checkNodeClean(node); err != nil {
		b.Fatalf("%s: %v", m.name, err)
	}
}

// BenchmarkConcurrentPods adds concurrentPods pods at once (each eth0 + 3 extra NICs, ports
// allocated beforehand) through Knitter's whole node path with the agent in this process, then
// deletes them at once, and reports pod ADDs and DELs per second of wall time and each call's p50
// and p99 under that load, with the p50 of the agent's share of an ADD and of its netlink work.
// Rounds of the reference plugins doing the same, through libcni, are
// interleaved (when the plugins are built) and reported alongside. Making namespaces, allocating
// and checking are not timed; ns/op is one round of Knitter's ADDs. With $KNITTER_BENCH_SAMPLES set
// it appends each rig's ADD and DEL durations to that file (see writeSamples).
func BenchmarkConcurrentPods(b *testing.B) {
	needRoot(b)
	w := newWorld(b)
	kn := newKnitterRig(b, w, agentNode, stateDir(b))
	kn.cycle(b, "warm")
	runs := []*measured{{name: "knitter", rig: kn, w: w}}
	nodes := []*netNS{kn.node}
	if dir := refBinDir(); missingRefPlugins(dir) != "" {
		b.Log(missingRefPlugins(dir) + "; measuring without the reference")
	} else {
		ref := newRefRig(b, dir)
		ref.cycle(b, "ref-warm")
		runs = append(runs, &measured{name: "ref", rig: ref})
		nodes = append(nodes, ref.node)
	}
	adds, dels := make([]rate, len(runs)), make([]rate, len(runs))
	kn.resetTimers()
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		for j, m := range runs {
			concurrentRound(b, m, nodes[j], i, &adds[j], &dels[j], j == 0)
		}
	}
	var series []namedSamples
	for j, m := range runs {
		b.ReportMetric(adds[j].perSecond(), m.name+"-pod-ADDs/s")
		b.ReportMetric(dels[j].perSecond(), m.name+"-pod-DELs/s")
		m.add.report(b, m.name+"-ADD")
		series = append(series, namedSamples{m.name + "-ADD", &m.add}, namedSamples{m.name + "-DEL", &m.del})
	}
	writeSamples(b, series...)
	b.ReportMetric(ms(kn.served["add"].percentile(50)), "knitter-ADD-agent-p50-ms")
	b.ReportMetric(ms(kn.attach.percentile(50)), "knitter-ADD-netlink-p50-ms")
	if len(runs) == 2 && adds[1].perSecond() > 0 {
		b.ReportMetric(adds[0].perSecond()/adds[1].perSecond(), "knitter/ref-ADDs/s")
	}
}

// checkLinkCount reports a pod that does not have lo and n interfaces, up: the quick check of
// the many pods of a concurrent run (the single-pod tests read each attribute back).
func checkLinkCount(pod *netNS, n int) error {
	links, err := pod.H.LinkList()
	if err != nil {
		return fmt.Errorf("list pod links: %w", err)
	}
	if len(links) != n+1 {
		return fmt.Errorf("the pod has %v, want lo and %d interfaces", names(links), n)
	}
	for _, l := range links {
		// lo is the runtime's (its loopback plugin sets it up), not the rig's.
		if l.Attrs().Name != "lo" && l.Attrs().Flags&net.FlagUp == 0 {
			return fmt.Errorf("%s is down", l.Attrs().Name)
		}
	}
	return nil
}
