package agent_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/model"
)

// BenchmarkRestart200 times an agent restart on a node with 200 attachments (eth0 + 2 extra NICs
// each: the world's networks are /24s), up to the point where the agent serves: reading the
// checkpoints (agent.New), the restart reclaim pass and the first heartbeat — what knitter-agent
// does before it listens. The in-memory dataplane and pod source leave the kernel and the API
// server out; the checkpoints are on tmpfs (/dev/shm; the default /run/knitter is one) when it
// exists. ns/op is one restart; the restarted agent must still hold every attachment.
func BenchmarkRestart200(b *testing.B) {
	const pods = 200
	w := agenttest.NewWorld(b)
	if _, err := os.Stat("/dev/shm"); err == nil {
		dir, err := os.MkdirTemp("/dev/shm", "knitter-bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
		if w.Store, err = checkpoint.Open(dir); err != nil {
			b.Fatal(err)
		}
		w.Agent = w.NewAgent(b)
	}
	reqs := []model.AttachRequest{
		{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true},
		{Network: agenttest.VLAN, Interface: "net1"}, {Network: agenttest.MACVLAN, Interface: "net2"},
	}
	for i := range pods {
		name := fmt.Sprintf("p%d", i)
		info := w.Pods.Put("acme", name, "", nil)
		w.Mgr.Allocate(b, info.Ref, reqs...)
		if _, err := w.Agent.Add(ctx, w.AddRequest("c"+name, "acme", name)); err != nil {
			b.Fatal(err)
		}
	}
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		a := w.NewAgent(b)
		gone, err := a.Reclaim(ctx)
		if err != nil || len(gone) != 0 {
			b.Fatalf("restart reclaim removed %d attachments, err %v; every pod is still up", len(gone), err)
		}
		if err := a.Heartbeat(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if n := len(a.Checkpoints()); n != pods {
			b.Fatalf("restarted agent holds %d attachments, want %d", n, pods)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "restart-ms")
}
