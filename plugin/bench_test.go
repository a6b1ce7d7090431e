package plugin_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/model"
)

// BenchmarkLibcniAddDel measures what a runtime sees: libcni execs the plugin, which calls the agent
// on its socket; the pod has eth0 + 3 extra NICs allocated beforehand, on the in-memory dataplane so
// that only the plugin's and the agent's costs are counted.
func BenchmarkLibcniAddDel(b *testing.B) {
	w := agenttest.NewWorld(b)
	sock := w.Serve(b)
	list, err := libcniList(confList("1.1.0", sock, ""))
	if err != nil {
		b.Fatal(err)
	}
	rt := &runtime{cni: libcniConfig(b.TempDir()), list: list}
	reqs := []model.AttachRequest{
		{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true},
		{Network: agenttest.VLAN, Interface: "net1"}, {Network: agenttest.MACVLAN, Interface: "net2"},
		{Network: agenttest.Overlay, Interface: "net3"},
	}
	var adds, dels []time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("p%d", i)
		info := w.Pods.Put("acme", name, "", nil)
		w.Mgr.Allocate(b, info.Ref, reqs...)
		conf := rtConf(w, "c"+name, name)
		start := time.Now()
		if _, err := rt.cni.AddNetworkList(ctx, rt.list, conf); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := rt.cni.DelNetworkList(ctx, rt.list, conf); err != nil {
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
