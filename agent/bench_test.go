package agent_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/model"
)

// BenchmarkAddDel measures the agent's own work for a pod with eth0 + 3 extra NICs whose ports the
// monitor allocated beforehand: pod lookup, manager reads, plan, two checkpoint writes, bind, and
// the DEL — on the in-memory dataplane, so that the dataplane's cost is left out. The checkpoints go
// to the test's temp directory (a disk) and, where /dev/shm exists, to tmpfs, to show what the
// fsyncs cost. The agent is current (it has applied the node set), so no ADD waits in the peer gate.
func BenchmarkAddDel(b *testing.B) {
	b.Run("disk", func(b *testing.B) { benchAddDel(b, agenttest.NewWorld(b)) })
	if _, err := os.Stat("/dev/shm"); err != nil {
		return
	}
	b.Run("tmpfs", func(b *testing.B) {
		w := agenttest.NewWorld(b)
		dir, err := os.MkdirTemp("/dev/shm", "knitter-bench")
		if err != nil {
			b.Skip(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
		if w.Store, err = checkpoint.Open(dir); err != nil {
			b.Fatal(err)
		}
		w.Agent = w.NewAgent(b)
		benchAddDel(b, w)
	})
}

func benchAddDel(b *testing.B, w *agenttest.World) {
	reqs := []model.AttachRequest{
		{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true},
		{Network: agenttest.VLAN, Interface: "net1"}, {Network: agenttest.MACVLAN, Interface: "net2"},
		{Network: agenttest.Overlay, Interface: "net3"},
	}
	// Learn the node set and report it applied, as the watch loop does, so that the peer gate
	// finds this agent current (a settled node) and the first timed ADD does not wait in it for
	// PeerGateWait.
	for range 2 {
		if err := w.Agent.PollPeers(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var adds, dels []time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("p%d", i)
		info := w.Pods.Put("acme", name, "", nil)
		w.Mgr.Allocate(b, info.Ref, reqs...)
		id := "c" + name
		start := time.Now()
		if _, err := w.Agent.Add(ctx, w.AddRequest(id, "acme", name)); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := w.Agent.Del(ctx, w.Request(id)); err != nil {
			b.Fatal(err)
		}
		adds, dels = append(adds, mid.Sub(start)), append(dels, time.Since(mid))
		w.Mgr.Release(b, info.Ref.UID)
	}
	report(b, "add", adds)
	report(b, "del", dels)
}

func report(b *testing.B, what string, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, what+"-p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, what+"-p99-ms")
}
