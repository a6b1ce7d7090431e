package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// simPod is the workload's view of one pod: what it wants and what the manager answered.
type simPod struct {
	uid, name, tenant, network string
	wantUp                     bool
	allocated                  bool // the manager acknowledged its allocation and it was not released since
	released                   bool // the manager acknowledged its release
	ips                        []netip.Addr
	node                       int  // the node it runs on, with agents
	syncing                    bool // a sync event is pending
	inAPI                      bool // with the monitor: its object was created in the API server
	delPending                 bool // the planted reuse-before-del's late DEL is scheduled
	gone                       bool // with the monitor: its object was deleted; the monitor releases it
	attempts                   int
	since                      int64 // virtual ms when the pod was created
	// lost: its node was removed, so no DEL runs; the node's release (or, with the monitor, the
	// pod GC and the monitor) frees its ports.
	lost bool
	// stale: its sandbox's namespace is gone (the node rebooted) and the runtime recreates it: the
	// old sandbox's DEL (oldDeleted once done), then an ADD of sandbox number sandbox.
	stale, oldDeleted bool
	sandbox           int
	// A StatefulSet's member (sim/statefulset.go): set is the StatefulSet's name ("" for a
	// Deployment's pod), ordinal its index, owner the sticky key the agent and the monitor must
	// derive from its owner reference, pred the pod of the same name before it (nil for the first),
	// and born the event (World.Steps) at which the agents or the monitor could first allocate it.
	set     string
	ordinal int
	owner   string
	pred    *simPod
	born    int
}

func (p *simPod) settled() bool {
	if p.wantUp {
		return p.allocated && !p.stale
	}
	return p.released
}

// workload creates, deletes and replaces pods through the manager, as the agents' CNI calls would,
// retrying every failure until it lands.
type workload struct {
	w      *World
	sys    *system
	rng    *rand.Rand
	check  *checker
	plant  Plant
	target int
	pods   map[string]*simPod
	order  []string          // uids in creation order: deterministic iteration
	byName map[string]string // tenant/name -> newest uid
	next   int
	stats  Stats
	nodes  *nodes // nil: the workload calls the manager directly
	kube   *kube  // nil: no API server and no monitor; the workload releases as the monitor would
	// awaiting are deleted pods whose release is the monitor's.
	awaiting map[string]*simPod
	// nets are the tenants setup creates, each with one network; nil means tenants.
	nets []tenantNet
	// latencies, when set, receives each acknowledged allocation's time to allocate (virtual ms).
	latencies *[]int64
	// ops is the network churn's operator (sim/netchurn.go); nil without it.
	ops *operator
	// sets are the StatefulSets (sim/statefulset.go), nil without Config.StatefulSets.
	sets []*statefulSet
}

// tenantNet is a tenant and the IPv4 subnet of its one network, "net".
type tenantNet struct{ name, cidr string }

// tenants are the fault runs' tenants: small networks, so that reuse and cooldown happen.
var tenants = []tenantNet{
	{"acme", "10.1.0.0/22"},
	{"umbrella", "10.2.0.0/22"},
}

// setup creates the tenants and networks through the manager; it retries until the manager serves.
func (wl *workload) setup() error {
	ctx := context.Background()
	nets := wl.nets
	if nets == nil {
		nets = tenants
	}
	for _, t := range nets {
		cmds := []alloc.Command{
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: t.name}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: t.name, Name: "net", Type: model.Overlay,
				IPv4: &model.Subnet{CIDR: netip.MustParsePrefix(t.cidr)}}},
			alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: t.name, DefaultNetwork: "net"}},
		}
		for _, c := range cmds {
			if _, err := wl.sys.mgr.Do(ctx, c); err != nil {
				return fmt.Errorf("setup %s: %w", c.Op(), err)
			}
		}
	}
	return nil
}

// live returns the Deployments' pods that want to be up (the StatefulSets' members are their
// controllers', sim/statefulset.go).
func (wl *workload) live() []*simPod {
	var out []*simPod
	for _, uid := range wl.order {
		if p := wl.pods[uid]; p.wantUp && p.set == "" {
			out = append(out, p)
		}
	}
	return out
}

// act is one workload step: create a pod, delete one, or replace one (delete and create a pod of
// the same name, as a Deployment's rollout or a StatefulSet's recreation does).
func (wl *workload) act() {
	live := wl.live()
	r := wl.rng.IntN(100)
	switch {
	case len(live) < wl.target && r < 50:
		var t string
		if wl.ops != nil {
			ts := wl.ops.podTenants()
			t = ts[wl.rng.IntN(len(ts))]
		} else {
			t = tenants[wl.rng.IntN(len(tenants))].name
		}
		wl.create(t, fmt.Sprintf("web-%d", wl.rng.IntN(wl.target*2)))
	case len(live) > 0 && r < 80:
		wl.delete(live[wl.rng.IntN(len(live))])
	case len(live) > 0:
		old := live[wl.rng.IntN(len(live))]
		wl.delete(old)
		wl.create(old.tenant, old.name)
	}
}

func (wl *workload) create(tenant, name string) {
	if old, ok := wl.byName[tenant+"/"+name]; ok && wl.kube != nil && wl.pods[old].wantUp {
		// The API server keeps names unique: a controller names a second pod differently.
		name = fmt.Sprintf("%s-%d", name, wl.next+1)
	}
	wl.start(wl.newPod(tenant, name, wl.rng))
}

// newPod is a pod that wants to be up, placed on a schedulable node drawn from rng.
func (wl *workload) newPod(tenant, name string, rng *rand.Rand) *simPod {
	wl.next++
	p := &simPod{uid: fmt.Sprintf("uid-%05d", wl.next), name: name, tenant: tenant, network: tenant + "/net", wantUp: true, since: wl.w.Now()}
	if wl.nodes != nil {
		live := wl.nodes.schedulable()
		p.node = live[rng.IntN(len(live))]
	}
	return p
}

// start begins a new pod's life: the workload tracks it and syncs it.
func (wl *workload) start(p *simPod) {
	tenant, name := p.tenant, p.name
	wl.pods[p.uid] = p
	wl.order = append(wl.order, p.uid)
	wl.byName[tenant+"/"+name] = p.uid
	wl.stats.Created++
	wl.w.Record("create %s %s/%s", p.uid, tenant, name)
	wl.schedule(p, 0)
}

func (wl *workload) delete(p *simPod) {
	p.wantUp = false
	wl.stats.Deleted++
	wl.w.Record("delete %s", p.uid)
	wl.schedule(p, int64(wl.rng.IntN(50)))
}

func (wl *workload) schedule(p *simPod, delay int64) {
	if p.syncing {
		return
	}
	p.syncing = true
	delay += wl.linkDelay(p)
	wl.w.After(delay, "sync "+p.uid, func() { p.syncing = false; wl.sync(p) })
}

// sync moves one pod towards what it wants: allocate or release, retried on any error.
func (wl *workload) sync(p *simPod) {
	if p.settled() {
		return
	}
	if p.wantUp && p.set != "" && wl.waitForNamesake(p) {
		p.syncing = true
		wl.w.After(100, "sync "+p.uid, func() { p.syncing = false; wl.sync(p) })
		return
	}
	ctx := context.Background()
	mgr := wl.sys.mgr
	var err error
	switch {
	case wl.kube != nil && p.wantUp && !p.inAPI:
		// The controller creates the object, scheduled; the kubelet's ADD follows a little later.
		if err = wl.kube.createPod(p, wl.nodes.list[p.node].name); err == nil {
			p.inAPI, p.born = true, wl.w.Steps()
			wl.w.Record("api create %s", p.uid)
			p.syncing = true
			wl.w.After(20+int64(wl.rng.IntN(200)), "kubelet "+p.uid, func() { p.syncing = false; wl.sync(p) })
			return
		}
	case wl.kube != nil && !p.wantUp:
		if p.gone {
			return // the monitor releases it
		}
		// The kubelet's CNI DEL, retried until it succeeds, then the object goes. A pod on a
		// deleted node (lost) gets no DEL, its node is gone: the pod GC deletes its object.
		if p.inAPI {
			if !p.lost {
				if err = wl.nodes.del(p); err != nil {
					break
				}
			}
			if err = wl.kube.deletePod(p); err != nil {
				break
			}
			p.gone = true
			wl.awaiting[p.uid] = p
			if p.lost {
				wl.w.Record("api gc %s", p.uid)
			} else {
				wl.w.Record("api delete %s", p.uid)
			}
			return
		}
		p.gone, p.released = true, true // never created: nothing to release
		wl.w.Record("never created %s", p.uid)
		return
	case mgr == nil:
		err = errors.New("no manager running")
	case p.lost:
		// Its node was removed: once the manager released the node, release what it still holds
		// of the pod (a pod allocated but never bound to the node), as the monitor's reconcile does.
		if !wl.nodes.list[p.node].released {
			p.syncing = true
			wl.w.After(200, "sync "+p.uid, func() { p.syncing = false; wl.sync(p) })
			return
		}
		_, err = mgr.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: p.uid})
		if err == nil {
			wl.released(p)
		}
	case p.wantUp && wl.nodes != nil:
		if p.stale && !p.oldDeleted {
			// The runtime recreates the sandbox: the old one's DEL first (its namespace is gone).
			if err = wl.nodes.del(p); err != nil {
				break
			}
			if wl.plant == PlantReleaseOnDEL {
				if _, err = mgr.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: p.uid}); err != nil {
					break
				}
				wl.w.Record("planted release on del %s", p.uid)
			}
			p.oldDeleted = true
			p.sandbox++
			wl.w.Record("recreate %s sandbox %d", p.uid, p.sandbox)
		}
		// The runtime's CNI ADD through the node's agent, which allocates at the manager.
		if err = wl.add(p); err == nil {
			p.stale, p.oldDeleted = false, false
			var pod model.Pod
			var found bool
			verr := mgr.View(func(s *alloc.State) { pod, found = s.Pod(p.uid) })
			if verr != nil {
				// No manager serves: the agent built the sandbox from its checkpoint of an earlier
				// allocation. The pod runs with the sandbox's addresses, which the manager must
				// hold once it serves again (pod-has-its-ports).
				wl.fromCheckpoint(p)
				break
			}
			if !found {
				err = fmt.Errorf("ADD succeeded but the manager shows no pod %s (%v)", p.uid, verr)
				wl.check.fail(Safety, "add-allocates", "%v", err)
				break
			}
			wl.gotPod(p, pod)
			if wl.kube != nil {
				wl.kube.sandboxReady(p)
			}
		}
	case p.wantUp:
		var res any
		res, err = mgr.Do(ctx, alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: alloc.PodRequest{
			Pod:      model.PodRef{UID: p.uid, Namespace: p.tenant, Name: p.name},
			Tenant:   p.tenant,
			Owner:    p.owner,
			Requests: []model.AttachRequest{{Network: "net", Interface: "eth0", DefaultRoute: true}},
		}})
		if err == nil {
			wl.gotPod(p, res.(model.Pod))
		}
	default:
		switch {
		case wl.nodes != nil && wl.plant == PlantReuseBeforeDEL:
			wl.lateDel(p, 500+int64(wl.rng.IntN(2500)))
		case wl.nodes != nil:
			// The runtime's CNI DEL first; the release is the monitor's, once the pod is gone.
			if err = wl.nodes.del(p); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
		uid := p.uid
		if wl.plant == PlantReleaseByName {
			uid = wl.byName[p.tenant+"/"+p.name]
		}
		_, err = mgr.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: uid})
		if err == nil {
			wl.released(p)
		}
	}
	if err != nil {
		p.attempts++
		wl.stats.Retries++
		wl.w.Record("retry %s: %v", p.uid, err)
		if wl.ops != nil && p.wantUp && wl.ops.failedAdd(p, err) {
			return // retried by the operator's rules for a pod whose network is missing
		}
		wl.schedule(p, 50+int64(wl.rng.IntN(400)))
		return
	}
	// A pod deleted while its allocation was in flight releases next.
	if !p.settled() {
		wl.schedule(p, int64(wl.rng.IntN(50)))
	}
}

// gotPod records an acknowledged allocation.
func (wl *workload) gotPod(p *simPod, pod model.Pod) {
	var ips []netip.Addr
	for _, port := range pod.Ports {
		ips = append(ips, port.IPs...)
	}
	if p.allocated && !slices.Equal(ips, p.ips) {
		wl.check.fail(Safety, "same-pod-same-addresses", "%s was given %v; allocated again (a retried or recreated sandbox's ADD) it got %v", p.uid, p.ips, ips)
	}
	p.ips = ips
	if !p.allocated && wl.latencies != nil {
		*wl.latencies = append(*wl.latencies, wl.w.Now()-p.since)
	}
	first := !p.allocated
	p.allocated = true
	if first {
		wl.check.stickyAllocated(p, pod.Owner)
	}
	wl.stats.Allocated++
	wl.check.allocated(p)
	wl.check.acked(p, pod.Ports)
	wl.w.Record("allocated %s %v", p.uid, p.ips)
}

// observeGone settles the deleted pods that never had an acknowledged allocation and that the
// manager does not hold: a pod created and deleted while the watch was down is never seen by the
// monitor, and there is nothing to release. (A pod with an acknowledged allocation settles only by
// the monitor's acknowledged release, in monitorReleased.)
func (wl *workload) observeGone() {
	if len(wl.awaiting) == 0 || !wl.sys.serving() {
		return
	}
	var done []*simPod
	_ = wl.sys.mgr.View(func(s *alloc.State) {
		for _, p := range wl.awaiting {
			if _, held := s.Pod(p.uid); !held && !p.allocated {
				done = append(done, p)
			}
		}
	})
	slices.SortFunc(done, func(a, b *simPod) int { return strings.Compare(a.uid, b.uid) })
	for _, p := range done {
		wl.monitorReleased(p.uid)
	}
}

// monitorReleased records a release the manager acknowledged to the monitor. Only a deleted pod's
// release counts: a live pod's missing ports are the invariants' business.
func (wl *workload) monitorReleased(uid string) {
	p, ok := wl.awaiting[uid]
	if !ok {
		return
	}
	delete(wl.awaiting, uid)
	wl.released(p)
}

// released records that the manager acknowledged p's release, keeping the checker's view in step.
func (wl *workload) released(p *simPod) {
	wasAllocated := p.allocated
	p.allocated, p.released = false, true
	wl.stats.Released++
	if wasAllocated {
		wl.check.released(p)
	} else {
		wl.check.stickyUnknown(p)
	}
	wl.w.Record("released %s", p.uid)
}

// lateDel is the planted reuse-before-del's DEL: it runs after the release, retried until it
// succeeds.
func (wl *workload) lateDel(p *simPod, after int64) {
	if p.delPending {
		return
	}
	p.delPending = true
	wl.w.After(after, "late-del "+p.uid, func() {
		p.delPending = false
		if err := wl.nodes.del(p); err != nil {
			wl.w.Record("late del %s: %v", p.uid, err)
			wl.lateDel(p, 200)
			return
		}
		wl.w.Record("late del %s", p.uid)
	})
}

// removeNode takes node i out of the cluster without a drain: its agent and dataplane are gone, no
// DEL runs for its sandboxes, the controllers replace its pods on other nodes (new pods, new
// UIDs), and its ports are released: without the monitor by the manager's ReleaseNode (DELETE
// /api/v1/nodes/NAME) right away; with it, the Node object is deleted, the pod GC deletes its pods'
// objects and the monitor releases them, after which the node's record is released too.
func (wl *workload) removeNode(i int) {
	nd := wl.nodes.list[i]
	nd.gone = true
	wl.nodes.changed()
	wl.stats.NodesRemoved++
	wl.w.Record("remove node %s", nd.name)
	if wl.kube != nil {
		if err := wl.kube.api.DeleteNode(nd.name); err != nil {
			panic(err) // the fake API server fails no node write
		}
	}
	for _, uid := range wl.order {
		p := wl.pods[uid]
		if p.node != i || p.settled() && !p.wantUp {
			continue
		}
		p.lost = true
		if p.wantUp {
			wl.delete(p)
			if p.set != "" {
				wl.replaceMember(p)
			} else {
				wl.create(p.tenant, p.name)
			}
		} else {
			wl.schedule(p, 0)
		}
	}
	wl.releaseNode(nd, 0)
}

// releaseNode asks the manager to forget nd and release the pods bound to it, retried until it
// lands; with the monitor, once the monitor has released the node's pods. Pods of nd the manager
// no longer holds are released at that instant.
func (wl *workload) releaseNode(nd *node, after int64) {
	wl.w.After(after, "release-node "+nd.name, func() {
		if wl.kube != nil && len(wl.lostOn(nd)) > 0 {
			wl.releaseNode(nd, 500)
			return
		}
		mgr := wl.sys.mgr
		if mgr == nil {
			wl.releaseNode(nd, 200)
			return
		}
		if err := wl.releaseNodeCmd(mgr, nd); err != nil && !errors.Is(err, model.ErrNotFound) {
			wl.w.Record("release node %s: %v", nd.name, err)
			wl.releaseNode(nd, 50+int64(wl.rng.IntN(400)))
			return
		}
		nd.released = true
		wl.nodes.released++
		wl.w.Record("released node %s", nd.name)
		lost := wl.lostOn(nd)
		held := make([]bool, len(lost))
		_ = mgr.View(func(s *alloc.State) {
			for i, p := range lost {
				_, held[i] = s.Pod(p.uid)
			}
		})
		// Those it no longer holds are released now; the others are synced again (first all of
		// the one, then the other, as a step of the world must stay one order).
		for i, p := range lost {
			if !held[i] {
				wl.released(p)
			}
		}
		for i, p := range lost {
			if held[i] {
				wl.schedule(p, 0)
			}
		}
	})
}

// lostOn returns the pods of the removed node nd not settled yet, in the workload's order.
func (wl *workload) lostOn(nd *node) []*simPod {
	var out []*simPod
	for _, uid := range wl.order {
		if p := wl.pods[uid]; p.lost && wl.nodes.list[p.node] == nd && !p.settled() {
			out = append(out, p)
		}
	}
	return out
}

// joinNode adds a node with a new agent, registered at once (and by its heartbeats after).
func (wl *workload) joinNode() {
	nd, err := wl.nodes.join(wl.sys)
	if err != nil {
		panic(err)
	}
	wl.stats.NodesJoined++
	if wl.kube != nil {
		if err := wl.kube.putNode(nd.name); err != nil {
			panic(err)
		}
	}
	wl.w.Record("join node %s: %v", nd.name, nd.agent.Heartbeat(context.Background()))
}

// rebootNode is a node crash: its pods' namespaces are gone, its agent starts again over its
// durable checkpoints (over none with lose), and the runtime recreates the sandboxes of the pods
// that want to be up.
func (wl *workload) rebootNode(i int, lose bool) {
	nd := wl.nodes.list[i]
	wl.stats.NodeReboots++
	wl.w.Record("fault node-reboot %s", nd.name)
	if err := nd.reboot(lose); err != nil {
		panic(err)
	}
	for _, uid := range wl.order {
		if p := wl.pods[uid]; p.node == i && p.wantUp {
			p.stale, p.oldDeleted = true, false
			wl.schedule(p, 100+int64(wl.rng.IntN(400)))
		}
	}
}

// nodesSettled reports whether every removed node was released and every other one is
// registered at the serving manager.
func (wl *workload) nodesSettled() bool {
	if wl.nodes == nil {
		return true
	}
	ok := true
	_ = wl.sys.mgr.View(func(s *alloc.State) {
		for _, nd := range wl.nodes.list {
			if _, reg := s.Node(nd.name); nd.gone != !reg || nd.gone && !nd.released {
				ok = false
			}
		}
	})
	return ok
}

// fromCheckpoint records a successful ADD that no serving manager can confirm: the pod runs with
// the addresses on its sandbox, the same as an earlier acknowledgement gave it if there was one.
func (wl *workload) fromCheckpoint(p *simPod) {
	ips := wl.nodes.sandboxAddrs(p)
	if p.allocated && !slices.Equal(ips, p.ips) {
		wl.check.fail(Safety, "same-pod-same-addresses", "%s was given %v; its recreated sandbox carries %v", p.uid, p.ips, ips)
		return
	}
	first := !p.allocated
	p.ips, p.allocated = ips, true
	if first && p.set != "" {
		wl.check.stickyAllocated(p, p.owner) // the checkpoint has no owner; the addresses count
	}
	wl.check.allocated(p)
	wl.w.Record("added from checkpoint %s %v", p.uid, ips)
}
