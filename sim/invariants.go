package sim

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Violation is a broken invariant.
type Violation struct {
	Kind   Kind
	Name   string // the invariant
	Detail string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("%s invariant %s broken: %s", v.Kind, v.Name, v.Detail)
}

// checker holds what the invariants remember between steps.
type checker struct {
	w        *World
	sys      *system
	wl       *workload
	cooldown int64            // milliseconds the invariants expect
	freed    map[string]int64 // "network|ip" -> when the manager acknowledged its release
	failed   *Violation       // the first violation
	n        int              // steps checked
	// index, when set (a scale run), holds every acknowledged address and MAC: step checks
	// nothing per event, acked and released check uniqueness as they happen.
	index *ackIndex
	// probe, when set (an experiment's run), measures as the run goes.
	probe *probe
	// The sticky holds the StatefulSets' members left (sim/statefulset.go): stickyTTL is the
	// manager's sticky TTL in ms (0: none), holds each owner's, heldBy "network|ip" -> owner.
	stickyTTL int64
	holds     map[string]*stickyHold
	heldBy    map[string]string
}

func (c *checker) fail(kind Kind, name, format string, args ...any) {
	if c.failed == nil {
		c.failed = &Violation{Kind: kind, Name: name, Detail: fmt.Sprintf(format, args...)}
		c.w.Record("VIOLATION %s %s", name, c.failed.Detail)
	}
}

// allocated checks cooldown: no address handed out again before its cooldown ended. The networks
// are sized so that a free address outside cooldown always exists, so the core must never reuse a
// cooling one.
func (c *checker) allocated(p *simPod) {
	for _, ip := range p.ips {
		k := p.network + "|" + ip.String()
		if c.heldBy != nil && c.heldFor(p, k) {
			continue // its owner's hold, taken back
		}
		at, ok := c.freed[k]
		if c.probe != nil {
			c.probe.reused(at, ok)
		}
		if ok && c.w.Now() < at+c.cooldown {
			c.fail(Safety, "cooldown", "%s on %s given to %s at %dms, %dms after its release (cooldown %dms)",
				ip, p.network, p.uid, c.w.Now(), c.w.Now()-at, c.cooldown)
		}
	}
}

func (c *checker) released(p *simPod) {
	for _, ip := range p.ips {
		if c.stickyReleased(p) {
			break
		}
		c.freed[p.network+"|"+ip.String()] = c.w.Now()
	}
	if c.index != nil {
		c.index.remove(p.uid)
	}
}

// acked records an acknowledged allocation in the index, when there is one.
func (c *checker) acked(p *simPod, ports []model.Port) {
	if c.index != nil {
		c.index.add(c, p.uid, ports)
	}
}

// FullEvery is how often (in steps) memory-equals-store is checked.
const FullEvery = 8

// step checks the invariants that hold after every event. With an index (a scale run) it checks
// nothing itself: acked and released keep unique-address and unique-mac at O(1) a step, and full
// runs the scans at the phase boundaries.
func (c *checker) step() {
	if c.probe != nil {
		c.probe.step()
	}
	if c.failed != nil || c.index != nil {
		return
	}
	ports, ok := c.ports()
	if !ok {
		return // no manager serves: nothing to compare until one does
	}
	c.podsHaveTheirPorts(c.scanPorts(ports))
	c.releasedNodesHoldNothing(ports)
	c.checkNetworks(ports)
	// The manager's memory equals what a restart would load from the store. Restoring the store is
	// the costly part, so it runs on every FullEvery-th step and at the end of each phase.
	c.n++
	if c.n%FullEvery != 0 {
		return
	}
	c.sandboxesOwnTheirAddresses(ports)
	c.segmentsReach()
	c.storeMatches()
}

// ports returns every port the serving manager holds; ok is false when none serves.
func (c *checker) ports() (ports []model.Port, ok bool) {
	if c.sys.mgr == nil || c.sys.mgr.View(func(s *alloc.State) { ports = s.Ports(alloc.Admin, alloc.PortFilter{}) }) != nil {
		return nil, false
	}
	return ports, true
}

// scanPorts checks that no address or MAC is on two live ports of one network, and returns each
// pod's addresses in port order.
func (c *checker) scanPorts(ports []model.Port) map[string][]netip.Addr {
	ips := map[string]string{}
	macs := map[string]string{}
	byPod := map[string][]netip.Addr{}
	for _, p := range ports {
		for _, ip := range p.IPs {
			k := p.Network + "|" + ip.String()
			if other, dup := ips[k]; dup {
				c.fail(Safety, "unique-address", "%s on %s held by %s and %s", ip, p.Network, other, p.ID)
			}
			ips[k] = p.ID
			byPod[p.Pod.UID] = append(byPod[p.Pod.UID], ip)
		}
		k := p.Network + "|" + p.MAC.String()
		if other, dup := macs[k]; dup {
			c.fail(Safety, "unique-mac", "%s on %s held by %s and %s", p.MAC, p.Network, other, p.ID)
		}
		macs[k] = p.ID
	}
	return byPod
}

// podsHaveTheirPorts checks that every pod whose allocation was acknowledged and not released has
// exactly those addresses.
func (c *checker) podsHaveTheirPorts(byPod map[string][]netip.Addr) {
	for _, uid := range c.wl.order {
		p := c.wl.pods[uid]
		if p.allocated && !slices.Equal(byPod[uid], p.ips) {
			c.fail(Safety, "pod-has-its-ports", "%s was given %v; the manager now holds %v for it", uid, p.ips, byPod[uid])
		}
	}
}

// full runs, at a scale run's phase boundary, every check the per-event path leaves out: the
// unique-address and unique-mac scan over all ports, every acknowledged pod's ports, the sandboxes'
// addresses, the index against the manager, and (with store) memory equals store.
func (c *checker) full(store bool) {
	if c.failed != nil {
		return
	}
	ports, ok := c.ports()
	if !ok {
		c.fail(Liveness, "manager-serves", "no manager serves at a phase boundary")
		return
	}
	c.podsHaveTheirPorts(c.scanPorts(ports))
	c.sandboxesOwnTheirAddresses(ports)
	if c.index != nil {
		c.index.matches(c, ports)
	}
	if store {
		c.storeMatches()
	}
}

// storeMatches checks that the serving manager's memory equals what a restart would load.
func (c *checker) storeMatches() {
	live, ok := c.sys.live()
	if !ok {
		return
	}
	stored, err := c.sys.stored()
	if err != nil {
		c.fail(Safety, "store-restores", "restoring the store failed: %v", err)
		return
	}
	if live != stored {
		c.fail(Safety, "memory-equals-store", "the serving manager and the store differ:\n%s", diff(live, stored))
	}
}

// final checks convergence after the liveness phase: every pod settled, and the manager holds
// exactly the ports of the pods that want to be up.
func (c *checker) final() {
	if c.failed != nil {
		return
	}
	if !c.sys.serving() {
		c.fail(Liveness, "manager-serves", "no manager serves after the liveness phase")
		return
	}
	c.storeMatches()
	var unsettled []string
	want := map[string]bool{}
	for _, uid := range c.wl.order {
		p := c.wl.pods[uid]
		if !p.settled() {
			unsettled = append(unsettled, uid)
		}
		if p.wantUp {
			want[uid] = true
		}
	}
	if len(unsettled) > 0 {
		c.fail(Liveness, "pods-converge", "%d pods did not converge: %v", len(unsettled), head(unsettled, 10))
		return
	}
	var pods []string
	_ = c.sys.mgr.View(func(s *alloc.State) { pods = s.Pods() })
	var leaked []string
	for _, uid := range pods {
		if !want[uid] {
			leaked = append(leaked, uid)
		}
	}
	if len(leaked) > 0 {
		c.fail(Liveness, "no-leaked-port", "%d pods that were deleted still hold ports: %v", len(leaked), head(leaked, 10))
	}
	if ns := c.wl.nodes; ns != nil {
		if n := ns.attached(); n != len(want) {
			c.fail(Liveness, "sandboxes-match-pods", "%d sandboxes hold links on the nodes; %d pods want to be up", n, len(want))
		}
	}
	if len(pods) != len(want) {
		c.fail(Liveness, "pods-converge", "the manager holds %d pods; %d want to be up", len(pods), len(want))
	}
	if ns := c.wl.nodes; ns != nil && c.failed == nil {
		// The agents here do not watch the node set: ports on two nodes need not reach each other.
		// A removed node's dataplane went with it.
		if err := checkReach(c.sys.mgr, ns.standing(), false); err != nil {
			c.fail(Safety, "pods-reach", "%v", err)
		}
	}
	c.nodesMatch()
	c.networksMatch()
}

// releasedNodesHoldNothing checks that no port is bound to a removed node whose release the
// manager acknowledged (its agent is gone; nodes-match checks at the end that it is not
// registered).
func (c *checker) releasedNodesHoldNothing(ports []model.Port) {
	ns := c.wl.nodes
	if ns == nil || ns.released == 0 {
		return
	}
	for _, p := range ports {
		if i, ok := ns.byName[p.Node]; ok && ns.list[i].released {
			c.fail(Safety, "removed-node-holds-nothing", "%s (pod %s) is bound to %s, which the manager released", p.ID, p.Pod.UID, p.Node)
			return
		}
	}
}

// nodesMatch checks, at the end, that the manager registers exactly the nodes not removed.
func (c *checker) nodesMatch() {
	ns := c.wl.nodes
	if ns == nil || c.failed != nil {
		return
	}
	var reg []string
	_ = c.sys.mgr.View(func(s *alloc.State) {
		for _, n := range s.Nodes() {
			reg = append(reg, n.Name)
		}
	})
	var want []string
	for _, i := range ns.live() {
		want = append(want, ns.list[i].name)
	}
	slices.Sort(want)
	if !slices.Equal(reg, want) {
		c.fail(Liveness, "nodes-match", "the manager registers %v; the nodes not removed are %v", reg, want)
	}
}

func head(xs []string, n int) []string { return xs[:min(n, len(xs))] }

// diff returns the first differing lines of two descriptions.
func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  memory: %s\n  store:  %s", i+1, x, y)
		}
	}
	return "(equal)"
}

// sandboxesOwnTheirAddresses checks that no address on a sandbox's links is held at the manager by
// another pod: an address reused before the old sandbox's DEL would be on two pods' interfaces. The
// networks' subnets do not overlap, so an address names its network.
func (c *checker) sandboxesOwnTheirAddresses(ports []model.Port) {
	if c.wl.nodes == nil || c.failed != nil {
		return
	}
	owner := make(map[netip.Addr]string, len(ports))
	for _, p := range ports {
		for _, ip := range p.IPs {
			owner[ip] = p.Pod.UID
		}
	}
	for _, nd := range c.wl.nodes.list {
		if nd.gone {
			continue // its namespaces went with it
		}
		ids := slices.Sorted(maps.Keys(nd.netns))
		for _, id := range ids {
			uid := sandboxUID(id)
			for _, l := range nd.dp.Links(nd.netns[id]) {
				for _, a := range l.Addrs {
					if o, held := owner[a.Addr()]; held && o != uid {
						c.fail(Safety, "sandbox-owns-its-addresses", "%s on %s carries %s, which the manager gave to %s",
							uid, nd.name, a.Addr(), o)
						return
					}
				}
			}
		}
	}
}
