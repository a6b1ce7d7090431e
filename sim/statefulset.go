package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"

	kubeadapter "github.com/knitter-cni/knitter/adapters/kube"
)

// StatefulSets (Config.StatefulSets): each tenant runs one, "db", scaled between 0 and MaxReplicas
// members named db-0, db-1, ... A member is deleted and created again under its name (a new UID),
// as a StatefulSet's controller does after an eviction or a failed pod, and only once the pod of
// that name is gone: without the monitor once its DEL ran and its release was acknowledged, with
// it once its object is gone (the monitor's release may come later). Each member carries the
// StatefulSet as its controlling owner reference, from which the agent's pod source and the
// monitor derive the sticky owner "statefulset/<namespace>/<set>/<ordinal>" of its allocation.

// MaxReplicas bounds a simulated StatefulSet's size.
const MaxReplicas = 3

// statefulSet is one StatefulSet: its members by ordinal (len is the replicas; a replaced member's
// successor takes its place at once and waits for it to go) and the newest pod of each ordinal
// ever made.
type statefulSet struct {
	tenant, name string
	members      []*simPod
	newest       map[int]*simPod
}

// stsMeanAct is the mean virtual interval (ms) between two StatefulSet controller actions.
const stsMeanAct = 1_500

// scheduleStatefulSets starts the StatefulSets' controllers: until end, at seeded intervals of mean
// stsMeanAct, one of them scales up, scales down or replaces a member. Its draws come from sources
// of their own ("statefulset"), so the Deployments' workload is the same with and without them.
func scheduleStatefulSets(w *World, wl *workload, end int64) {
	for _, t := range tenants {
		wl.sets = append(wl.sets, &statefulSet{tenant: t.name, name: "db", newest: map[int]*simPod{}})
	}
	rng := w.Rand("statefulset")
	on := true
	faultProcess(w, rng, end, &on)("statefulset", stsMeanAct, func(r *rand.Rand) { wl.stsAct(r) })
}

// stsAct is one controller action: scale a StatefulSet up (the next ordinal), down (the highest
// ordinal goes), or replace a member (deleted, then created again under its name).
func (wl *workload) stsAct(r *rand.Rand) {
	set := wl.sets[r.IntN(len(wl.sets))]
	n := len(set.members)
	switch x := r.IntN(100); {
	case n < MaxReplicas && (n == 0 || x < 35):
		set.members = append(set.members, wl.member(set, n, r))
	case n > 0 && x < 55:
		old := set.members[n-1]
		set.members = set.members[:n-1]
		wl.w.Record("scale down %s/%s to %d", set.tenant, set.name, n-1)
		wl.deleteAfter(old, int64(r.IntN(50)))
	case n > 0:
		i := r.IntN(n)
		wl.deleteAfter(set.members[i], int64(r.IntN(50)))
		set.members[i] = wl.member(set, i, r)
	}
}

// member creates the pod of ordinal i of set, placed on a node drawn from r; it follows the newest
// pod of that name, which it waits for.
func (wl *workload) member(set *statefulSet, i int, r *rand.Rand) *simPod {
	p := wl.newPod(set.tenant, fmt.Sprintf("%s-%d", set.name, i), r)
	p.set, p.ordinal, p.pred = set.name, i, set.newest[i]
	p.owner = fmt.Sprintf("statefulset/%s/%s/%d", set.tenant, set.name, i)
	set.newest[i] = p
	wl.start(p)
	return p
}

// replaceMember is the controller's answer to a member deleted under it (its node was removed or
// drained): the same ordinal again, a new pod. Draws from the workload's source, as the
// Deployments' replacements do.
func (wl *workload) replaceMember(old *simPod) {
	for _, set := range wl.sets {
		if set.tenant == old.tenant && set.name == old.set && old.ordinal < len(set.members) && set.members[old.ordinal] == old {
			set.members[old.ordinal] = wl.member(set, old.ordinal, wl.rng)
		}
	}
}

// deleteAfter deletes p, its sync d ms later.
func (wl *workload) deleteAfter(p *simPod, d int64) {
	p.wantUp = false
	wl.stats.Deleted++
	wl.w.Record("delete %s", p.uid)
	wl.schedule(p, d)
}

// waitForNamesake reports whether p, a StatefulSet member without the API server, must wait for
// the pod of its name before it (its DEL and release not done yet); it marks p born (allocatable
// from now) when not.
func (wl *workload) waitForNamesake(p *simPod) bool {
	if p.pred != nil && wl.kube == nil && !p.pred.settled() {
		return true
	}
	if p.born == 0 {
		p.born = wl.w.Steps()
	}
	return false
}

// podObject is p's object in the API server, bound to node: with its StatefulSet as its
// controlling owner when it is a member.
func podObject(p *simPod, node string, created metav1.Time) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.tenant, Name: p.name, UID: k8stypes.UID(p.uid),
		CreationTimestamp: created}, Spec: corev1.PodSpec{NodeName: node}}
	if p.set != "" {
		yes := true
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: p.set,
			UID: k8stypes.UID("sts-" + p.tenant + "-" + p.set), Controller: &yes}}
	}
	return pod
}

// agentOwner is the sticky owner the agent's pod source (adapters/kube.PodSource) reads from p's
// object.
func agentOwner(p *simPod) string {
	if p.set == "" {
		return ""
	}
	return kubeadapter.StickyOwner(podObject(p, "", metav1.Time{}))
}

// stickyHold is what the invariants know of a sticky hold at the manager: the addresses a released
// member left for its owner, when (virtual ms) and at which event the release was acknowledged.
type stickyHold struct {
	uid  string // the member whose release left it
	ips  []netip.Addr
	at   int64
	step int
}

// stickySlack is how much earlier than its release plus the sticky TTL a hold may end: the
// manager's state clock moves at its ticks (every second), and a hold ends at that clock plus the
// TTL.
const stickySlack = 2_000

// stickyReleased records the hold a member's acknowledged release leaves (called for a pod whose
// allocation was acknowledged): its addresses are held for its owner, not cooling; a hold the
// owner had before ends into cooldown (the newer addresses win) or was taken by a member not yet
// seen allocated.
func (c *checker) stickyReleased(p *simPod) bool {
	if p.owner == "" || c.stickyTTL == 0 {
		return false
	}
	if old := c.holds[p.owner]; old != nil {
		// The older hold ends into cooldown, unless a member whose allocation the workload has not
		// seen acknowledged yet took it: another owner's pod may have it only after the cooldown,
		// and the owner's own members at any time.
		for _, ip := range old.ips {
			c.freed[p.network+"|"+ip.String()] = c.w.Now()
		}
	}
	for _, ip := range p.ips {
		k := p.network + "|" + ip.String()
		c.heldBy[k] = p.owner
		delete(c.freed, k)
	}
	c.holds[p.owner] = &stickyHold{uid: p.uid, ips: slices.Clone(p.ips), at: c.w.Now(), step: c.w.Steps()}
	return true
}

// stickyUnknown is told of the acknowledged release of a member whose allocation was never
// acknowledged: the manager may have given it its owner's hold and left a hold the invariants do
// not know, so they forget the owner's.
func (c *checker) stickyUnknown(p *simPod) {
	if h := c.holds[p.owner]; p.owner != "" && h != nil {
		for _, ip := range h.ips {
			delete(c.heldBy, p.network+"|"+ip.String())
		}
		delete(c.holds, p.owner)
	}
}

// stickyAllocated checks a member's first acknowledged allocation (sticky-address): the manager
// holds it under the owner its object names, and if its owner's hold was left by the release of
// the pod of its name before it, acknowledged before the member could be allocated (and the TTL
// has not run out), the member got the held addresses. A hold left after the member could be
// allocated may have come after its allocation, so the manager keeps it for the next member; a
// hold an older pod left may have gone to a member in between whose allocation the workload never
// saw acknowledged (it was deleted first).
func (c *checker) stickyAllocated(p *simPod, owner string) {
	if p.set == "" {
		return
	}
	if owner != p.owner {
		c.fail(Safety, "sticky-address", "%s (%s/%s) is held at the manager under owner %q; its object's owner reference makes it %q", p.uid, p.tenant, p.name, owner, p.owner)
		return
	}
	h := c.holds[p.owner]
	switch {
	case h == nil:
	case c.w.Now() >= h.at+c.stickyTTL-stickySlack:
		delete(c.holds, p.owner) // the hold may have expired
	case slices.Equal(p.ips, h.ips):
		delete(c.holds, p.owner)
		c.wl.stats.StickyTaken++
	case h.step < p.born && p.pred != nil && h.uid == p.pred.uid:
		c.fail(Safety, "sticky-address", "%s (%s/%s) was given %v; its owner %s has held %v since %dms, released before the pod was created",
			p.uid, p.tenant, p.name, p.ips, p.owner, h.ips, h.at)
	default:
		c.wl.stats.StickyRaced++
	}
}

// heldFor checks an address handed to p against the holds: one held for another owner must not be
// given out before its hold can have ended. It reports whether the address came back to its own
// owner (no cooldown applies).
func (c *checker) heldFor(p *simPod, k string) bool {
	o, ok := c.heldBy[k]
	if !ok {
		return false
	}
	delete(c.heldBy, k)
	if o == p.owner {
		return true
	}
	if h := c.holds[o]; h != nil && c.w.Now() < h.at+c.stickyTTL-stickySlack && slices.ContainsFunc(h.ips, func(a netip.Addr) bool { return p.network+"|"+a.String() == k }) {
		c.fail(Safety, "sticky-address", "%s given to %s at %dms is held for %s since %dms", k, p.uid, c.w.Now(), o, h.at)
	}
	return false
}
