package sim

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/knitter-cni/knitter/fakes/fakecheckpoints"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// Node drains and returns (Config.NodeDrain). At seeded intervals (mean drainMean, from a source
// of its own, "node-drain") during the fault phase, either a removed node comes back under its old
// name (with even odds, when one was released and its pods are settled), or a schedulable node is
// drained, if more than one is schedulable and no drain runs: cordoned (no new pod goes to it),
// every pod on it deleted through the normal path (the CNI DEL, then the release; with the monitor
// its object deleted and the monitor releasing it) and replaced elsewhere by its controller, and
// once every one of them settled, the node removed (as removeNode does; it holds nothing by then).
// A returning node is a reinstall (a new dataplane and an empty checkpoint store) or, with even
// odds, the same machine booting again (its pods' namespaces gone, its agent over what its
// checkpoint store wrote durably); either way a new agent registers it again.

// drainMean is the mean virtual interval (ms) between two drain-or-return decisions.
const drainMean = 15_000

func scheduleNodeDrain(w *World, wl *workload, end int64) {
	on := true
	faultProcess(w, w.Rand("node-drain"), end, &on)("node-drain", drainMean, func(r *rand.Rand) {
		ns := wl.nodes
		var back []int
		for i, nd := range ns.list {
			if nd.gone && nd.released && len(wl.lostOn(nd)) == 0 {
				back = append(back, i)
			}
		}
		if len(back) > 0 && r.IntN(2) == 0 {
			wl.returnNode(back[r.IntN(len(back))], r.IntN(2) == 0)
			return
		}
		sched := ns.schedulable()
		if len(sched) > 1 && !slices.ContainsFunc(ns.list, func(nd *node) bool { return nd.cordoned && !nd.gone }) {
			wl.drainNode(sched[r.IntN(len(sched))])
		}
	})
}

// drainNode cordons node i and evicts its pods; the node is removed once they settled.
func (wl *workload) drainNode(i int) {
	nd := wl.nodes.list[i]
	nd.cordoned = true
	wl.nodes.changed()
	wl.stats.NodesDrained++
	wl.w.Record("drain node %s", nd.name)
	for _, uid := range wl.order {
		p := wl.pods[uid]
		if p.node != i || !p.wantUp {
			continue
		}
		wl.delete(p)
		if p.set != "" {
			wl.replaceMember(p)
		} else {
			wl.create(p.tenant, p.name)
		}
	}
	wl.drained(i)
}

// drained removes node i once every pod on it settled (unless node churn removed it meanwhile).
func (wl *workload) drained(i int) {
	nd := wl.nodes.list[i]
	if nd.gone {
		nd.cordoned = false
		wl.nodes.changed()
		return
	}
	for _, uid := range wl.order {
		if p := wl.pods[uid]; p.node == i && !p.settled() {
			wl.w.After(200, "drain "+nd.name, func() { wl.drained(i) })
			return
		}
	}
	wl.w.Record("drained node %s", nd.name)
	nd.cordoned = false
	wl.nodes.changed()
	wl.removeNode(i)
}

// returnNode brings removed node i back under its name: reinstalled (a new dataplane and
// checkpoint store) or, with !reinstall, booted again over its durable checkpoints.
func (wl *workload) returnNode(i int, reinstall bool) {
	ns := wl.nodes
	nd := ns.list[i]
	for _, id := range slices.Sorted(maps.Keys(nd.netns)) {
		nd.dp.Gone(nd.netns[id])
	}
	if reinstall {
		dp := fakedp.New()
		for _, nic := range ns.nics {
			dp.AddNIC(nic, 1500)
		}
		nd.dp, nd.store, nd.netns = dp, fakecheckpoints.New(), map[string]string{}
		nd.opts.NetnsExists = func(p string) bool { return dp.Links(p) != nil }
	}
	if err := nd.restart(false); err != nil {
		panic(err)
	}
	nd.gone, nd.released, nd.cordoned = false, false, false
	ns.changed()
	ns.released--
	wl.stats.NodesReturned++
	if wl.kube != nil {
		if err := wl.kube.putNode(nd.name); err != nil {
			panic(err)
		}
	}
	ns.retarget(wl.sys)
	wl.w.Record("return node %s reinstalled %t: %v", nd.name, reinstall, nd.agent.Heartbeat(context.Background()))
}
