package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/fakemanager"
)

// Network churn (Config.NetworkChurn): an operator creates tenants, each with one network "net"
// (its default: an overlay with the VNI the manager picks, a vlan on trunk eth1, or a macvlan on
// eth2), and deletes them while and after pods use them, through the manager's commands as the
// workload's setup runs them. The product refuses to delete a network that has ports and a tenant
// that has networks or ports (core/alloc: DeleteNetwork, DeleteTenant), so a deletion drains
// first: the tenant's pods are deleted and the deletion is retried until the manager takes it.
// Between a network's deletion and its recreation (or its tenant's deletion) pods may still be
// created in the tenant, as a controller nobody scaled down makes them: their ADD fails (the
// network does not exist) and is retried as the kubelet retries a sandbox, until the network is
// back or the tenant's pods are deleted.

// ChurnNICs are the NICs a node has with network churn: eth0 carries the VTEP, eth1 is the vlan
// trunk and eth2 the macvlan parent, each one wire across the nodes.
var ChurnNICs = []string{"eth0", "eth1", "eth2"}

// churnVLANs are the VLAN ids the operator picks from: fewer than the slots, so that a VLAN id
// comes back to another tenant once its network is deleted.
var churnVLANs = []uint16{100, 101}

// slotState is where a churned tenant is in its life.
type slotState int

const (
	slotAbsent   slotState = iota // no tenant
	slotCreating                  // the tenant and its network are being created
	slotUp                        // the tenant and its network exist; pods are created in it
	slotDraining                  // its pods are being deleted, then its network
	slotNetGone                   // the tenant exists without its network; late pods fail ADD
	slotDeleting                  // its pods are being deleted, then the tenant
)

var slotNames = [...]string{"absent", "creating", "up", "draining", "network gone", "deleting"}

// churnSlot is one tenant the operator creates and deletes, always under the same name and
// subnet.
type churnSlot struct {
	tenant string
	cidr   netip.Prefix
	state  slotState
	// net is the network as the manager created it (its VNI, VLAN), while it exists.
	net model.Network
	// wanted is the network the operator is creating (redrawn after a segment conflict).
	wanted model.Network
}

// operator is the network churn's actor.
type operator struct {
	w     *World
	wl    *workload
	rng   *rand.Rand
	slots []*churnSlot
	// deleted are the networks the manager acknowledged deleting and that do not exist again yet,
	// by key, with the network as it was.
	deleted map[string]model.Network
	on      bool // new decisions are made (the fault phase)
}

func newOperator(w *World, wl *workload) *operator {
	op := &operator{w: w, wl: wl, rng: w.Rand("networks"), deleted: map[string]model.Network{}, on: true}
	for i := range 2 {
		op.slots = append(op.slots, &churnSlot{tenant: fmt.Sprintf("churn%d", i+1),
			cidr: netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/22", 16+4*i))})
	}
	return op
}

// tenantNets are the churned tenants as tenantNet, for the samples.
func (op *operator) tenantNets() []tenantNet {
	var out []tenantNet
	for _, s := range op.slots {
		out = append(out, tenantNet{s.tenant, s.cidr.String()})
	}
	return out
}

// podTenants are the tenants a new pod may be created in: the workload's own and the churned ones
// that exist and are not being deleted (with their network or, late pods, without).
func (op *operator) podTenants() []string {
	var out []string
	for _, t := range tenants {
		out = append(out, t.name)
	}
	for _, s := range op.slots {
		if s.state == slotUp || s.state == slotNetGone {
			out = append(out, s.tenant)
		}
	}
	return out
}

// schedule starts the operator: a decision at seeded intervals (mean 4 s) until end.
func (op *operator) schedule(end int64) {
	faultProcess(op.w, op.rng, end, &op.on)("net-churn", 3_000, func(r *rand.Rand) {
		s := op.slots[r.IntN(len(op.slots))]
		switch s.state {
		case slotAbsent:
			op.create(s, true)
		case slotUp:
			op.drain(s, slotDraining)
		case slotNetGone:
			if r.IntN(2) == 0 {
				op.create(s, false)
			} else {
				op.drain(s, slotDeleting)
			}
		}
	})
}

// draw picks the network to create in s: an overlay, a vlan of churnVLANs or a macvlan.
func (op *operator) draw(s *churnSlot) model.Network {
	n := model.Network{Tenant: s.tenant, Name: "net", IPv4: &model.Subnet{CIDR: s.cidr}}
	switch op.rng.IntN(3) {
	case 0:
		n.Type = model.Overlay
	case 1:
		n.Type, n.PhysicalNetwork, n.VLAN = model.VLAN, "eth1", churnVLANs[op.rng.IntN(len(churnVLANs))]
	default:
		n.Type, n.PhysicalNetwork = model.MACVLAN, "eth2"
	}
	return n
}

// create creates s's tenant (with withTenant) and its network, each step retried until it lands.
func (op *operator) create(s *churnSlot, withTenant bool) {
	s.state = slotCreating
	s.wanted = op.draw(s)
	op.w.Record("net-churn create %s (tenant %t) %s", s.tenant, withTenant, describeNet(s.wanted))
	op.createStep(s)
}

func describeNet(n model.Network) string {
	switch n.Type {
	case model.VLAN:
		return fmt.Sprintf("vlan %s.%d", n.PhysicalNetwork, n.VLAN)
	case model.MACVLAN:
		return "macvlan " + n.PhysicalNetwork
	}
	if n.VNI != 0 {
		return fmt.Sprintf("overlay vni %d", n.VNI)
	}
	return "overlay"
}

// createStep makes what of s does not exist yet: the tenant (granted eth1 and eth2), the network,
// the tenant's default network. What the manager already holds (an earlier attempt landed) is
// skipped, as an operator's tool that reads before it writes does.
func (op *operator) createStep(s *churnSlot) {
	mgr := op.wl.sys.mgr
	if mgr == nil {
		op.retry(s, "create", errors.New("no manager running"), op.createStep)
		return
	}
	var t model.Tenant
	var hasT, hasN bool
	var n model.Network
	if err := mgr.View(func(st *alloc.State) {
		t, hasT = st.Tenant(s.tenant)
		n, hasN = st.Network(s.tenant, "net")
	}); err != nil {
		op.retry(s, "create", err, op.createStep)
		return
	}
	ctx := context.Background()
	var cmd alloc.Command
	switch {
	case !hasT:
		cmd = alloc.CreateTenantCmd{Tenant: model.Tenant{Name: s.tenant, PhysicalNetworks: []string{"eth1", "eth2"}}}
	case !hasN:
		cmd = alloc.CreateNetworkCmd{Network: s.wanted}
	case t.DefaultNetwork != "net":
		t.DefaultNetwork = "net"
		cmd = alloc.UpdateTenantCmd{Tenant: t}
	default:
		s.net, s.state = n, slotUp
		delete(op.deleted, n.Key())
		op.w.Record("net-churn up %s %s", s.tenant, describeNet(n))
		// Pods created while the network was gone can be added now; nudge them.
		for _, p := range op.wl.live() {
			if p.tenant == s.tenant && !p.allocated {
				op.wl.schedule(p, 0)
			}
		}
		return
	}
	_, err := mgr.Do(ctx, cmd)
	if err != nil && errors.Is(err, model.ErrConflict) {
		if _, ok := cmd.(alloc.CreateNetworkCmd); ok {
			// Another tenant's network has that VLAN or the macvlan parent: pick again.
			old := s.wanted
			s.wanted = op.draw(s)
			err = fmt.Errorf("%s refused (%v); trying %s", describeNet(old), err, describeNet(s.wanted))
		}
	}
	if err != nil {
		op.retry(s, "create", err, op.createStep)
		return
	}
	if _, ok := cmd.(alloc.CreateNetworkCmd); ok {
		op.wl.stats.NetworksCreated++
	}
	op.w.Record("net-churn %s %s", cmd.Op(), s.tenant)
	op.createStep(s)
}

// retry runs step again 50-450 ms later.
func (op *operator) retry(s *churnSlot, what string, err error, step func(*churnSlot)) {
	op.w.Record("net-churn %s %s: %v", what, s.tenant, err)
	op.w.After(50+int64(op.rng.IntN(400)), "net-churn "+s.tenant, func() { step(s) })
}

// drain deletes s's pods, then its network (to) or its tenant (slotDeleting): the deletion is
// tried at once, while pods may still hold ports, and retried until the manager takes it.
func (op *operator) drain(s *churnSlot, to slotState) {
	s.state = to
	op.w.Record("net-churn %s %s", slotNames[to], s.tenant)
	for _, p := range op.wl.live() {
		if p.tenant == s.tenant {
			op.wl.delete(p)
		}
	}
	op.deleteStep(s)
}

func (op *operator) deleteStep(s *churnSlot) {
	mgr := op.wl.sys.mgr
	if mgr == nil {
		op.retry(s, "delete", errors.New("no manager running"), op.deleteStep)
		return
	}
	var cmd alloc.Command = alloc.DeleteNetworkCmd{Tenant: s.tenant, Name: "net"}
	if s.state == slotDeleting {
		cmd = alloc.DeleteTenantCmd{Name: s.tenant}
	}
	// What the manager holds of the tenant now, to judge its answer by.
	var ports int
	var exists bool
	if err := mgr.View(func(st *alloc.State) {
		if s.state == slotDeleting {
			_, exists = st.Tenant(s.tenant)
		} else {
			_, exists = st.Network(s.tenant, "net")
		}
		for _, p := range st.Ports(alloc.Admin, alloc.PortFilter{}) {
			if strings.HasPrefix(p.Network, s.tenant+"/") {
				ports++
			}
		}
	}); err != nil {
		op.retry(s, "delete", err, op.deleteStep)
		return
	}
	var err error
	if exists {
		_, err = mgr.Do(context.Background(), cmd)
	}
	switch {
	case err == nil:
		if ports > 0 {
			op.wl.check.fail(Safety, "in-use-not-deleted", "the manager took %s of %s while it held %d ports on it", cmd.Op(), s.tenant, ports)
			return
		}
	case errors.Is(err, model.ErrConflict) && ports == 0:
		op.wl.check.fail(Safety, "in-use-not-deleted", "the manager refused %s of %s, which holds no port: %v", cmd.Op(), s.tenant, err)
		return
	default:
		if errors.Is(err, model.ErrConflict) {
			op.wl.stats.DeletesRefused++
		}
		op.retry(s, "delete", err, op.deleteStep)
		return
	}
	if s.state == slotDeleting {
		s.state = slotAbsent
		op.wl.stats.TenantsDeleted++
		op.w.Record("net-churn deleted tenant %s", s.tenant)
		return
	}
	op.deleted[s.net.Key()] = s.net
	op.wl.stats.NetworksDeleted++
	op.wl.check.networkDeleted(s.net.Key())
	s.state = slotNetGone
	op.w.Record("net-churn deleted network %s (%s)", s.net.Key(), describeNet(s.net))
}

// finish is the liveness phase's start: no new decisions; a tenant without its network gets it
// back, so that its late pods can be added (the operator finishes the rollout).
func (op *operator) finish() {
	op.on = false
	for _, s := range op.slots {
		if s.state == slotNetGone {
			op.create(s, false)
		}
	}
}

// settled reports whether every slot is at rest (up, absent) and the manager holds what the
// operator made.
func (op *operator) settled() bool {
	for _, s := range op.slots {
		if s.state != slotUp && s.state != slotAbsent {
			return false
		}
	}
	return true
}

// checkNetworks is the network churn's per-step invariant: no port on a network that does not
// exist (no-port-on-deleted-network), and no two networks of one VNI or one physical network and
// VLAN (segment-unique).
func (c *checker) checkNetworks(ports []model.Port) {
	op := c.wl.ops
	if op == nil || c.failed != nil {
		return
	}
	_ = c.sys.mgr.View(func(s *alloc.State) {
		for _, p := range ports {
			t, name, _ := strings.Cut(p.Network, "/")
			if _, ok := s.Network(t, name); !ok {
				c.fail(Safety, "no-port-on-deleted-network", "%s (pod %s) is on %s, which does not exist", p.ID, p.Pod.UID, p.Network)
				return
			}
		}
		vnis, segs := map[uint32]string{}, map[string]string{}
		for _, n := range s.Networks(alloc.Admin, "") {
			k := ""
			switch n.Type {
			case model.Overlay:
				if o, dup := vnis[n.VNI]; dup {
					c.fail(Safety, "segment-unique", "VNI %d is %s's and %s's", n.VNI, o, n.Key())
					return
				}
				vnis[n.VNI] = n.Key()
				continue
			case model.VLAN, model.MACVLAN:
				k = fmt.Sprintf("%s.%d", n.PhysicalNetwork, n.VLAN)
			default:
				continue
			}
			if o, dup := segs[k]; dup {
				c.fail(Safety, "segment-unique", "segment %s is %s's and %s's", k, o, n.Key())
				return
			}
			segs[k] = n.Key()
		}
	})
}

// networkDeleted forgets the cooldowns of a deleted network, as the manager does (DeleteNetwork
// drops them with the network): a network created again under the name is a new address pool.
func (c *checker) networkDeleted(key string) {
	for k := range c.freed {
		if strings.HasPrefix(k, key+"|") {
			delete(c.freed, k)
		}
	}
}

// networksMatch checks, at the end, that the manager holds exactly the churned tenants the
// operator left up, each with its network as created.
func (c *checker) networksMatch() {
	op := c.wl.ops
	if op == nil || c.failed != nil {
		return
	}
	_ = c.sys.mgr.View(func(st *alloc.State) {
		for _, s := range op.slots {
			_, hasT := st.Tenant(s.tenant)
			n, hasN := st.Network(s.tenant, "net")
			switch {
			case s.state == slotAbsent && (hasT || hasN):
				c.fail(Liveness, "networks-match", "tenant %s was deleted; the manager holds it (network %t)", s.tenant, hasN)
			case s.state == slotUp && (!hasN || n.VNI != s.net.VNI || n.Type != s.net.Type || n.VLAN != s.net.VLAN):
				c.fail(Liveness, "networks-match", "tenant %s's network is %s as created; the manager holds %+v (found %t)", s.tenant, describeNet(s.net), n, hasN)
			}
		}
	})
}

// failedAdd is told of every failed attempt to bring p up. When p's network does not exist at the
// serving manager, the attempt must have failed cleanly — the manager holds no ports for p and its
// sandbox no links (failed-add-leaves-nothing) — and the kubelet retries the sandbox after a back
// off of 0.5-1.5 s; failedAdd then returns true. Otherwise it returns false (the usual retry).
func (op *operator) failedAdd(p *simPod, err error) bool {
	mgr := op.wl.sys.mgr
	if mgr == nil || p.allocated || op.wl.kube != nil && !p.inAPI {
		return false // no manager to judge by, or the API server's answer (no ADD was made)
	}
	t, name, _ := strings.Cut(p.network, "/")
	var hasNet, held bool
	if mgr.View(func(s *alloc.State) {
		_, hasNet = s.Network(t, name)
		_, held = s.Pod(p.uid)
	}) != nil || hasNet {
		return false
	}
	if held {
		op.wl.check.fail(Safety, "failed-add-leaves-nothing", "%s asked for %s, which does not exist, and the manager holds ports for it (%v)", p.uid, p.network, err)
		return true
	}
	if ns := op.wl.nodes; ns != nil {
		nd := ns.list[p.node]
		if path, ok := nd.netns[sandboxID(p)]; ok && len(nd.dp.Links(path)) > 0 {
			links := nd.dp.Links(path)
			op.wl.check.fail(Safety, "failed-add-leaves-nothing", "%s's ADD failed (%s does not exist: %v) and left %d links in its sandbox on %s", p.uid, p.network, err, len(links), nd.name)
			return true
		}
	}
	op.wl.stats.MissingNetworkAdds++
	p.syncing = true
	op.w.After(500+int64(op.rng.IntN(1000)), "kubelet-backoff "+p.uid, func() { p.syncing = false; op.wl.sync(p) })
	return true
}

// segmentsReach is, with network churn and nodes, the reachability invariant (pods-reach) checked
// during the run, on every FullEvery-th step: a network deleted and created again under its name
// (with another VNI, VLAN or type), or a VNI or VLAN that a deleted network held and another now
// has, must leave no sandbox on the old segment: each port reaches its network's ports on its node
// and no port of another network.
func (c *checker) segmentsReach() {
	if c.wl.ops == nil || c.wl.nodes == nil || c.failed != nil {
		return
	}
	if err := checkReach(c.sys.mgr, c.wl.nodes.standing(), false); err != nil {
		c.fail(Safety, "pods-reach", "%v", err)
	}
}

// plantedClient is the wrapper of the agents' manager clients a plant calls for, nil for none.
func plantedClient(p Plant) func(*fakemanager.Client) agent.ManagerClient {
	if p != PlantStaleNetwork {
		return nil
	}
	return func(c *fakemanager.Client) agent.ManagerClient {
		return &staleNetClient{Client: c, seen: map[string]model.Network{}}
	}
}

// staleNetClient is the planted stale-network: a client that answers each network, in a bind's
// answer or read by name, as it was the first time it saw it.
type staleNetClient struct {
	*fakemanager.Client
	seen map[string]model.Network
}

func (c *staleNetClient) remember(n model.Network) model.Network {
	if old, ok := c.seen[n.Key()]; ok {
		return old
	}
	c.seen[n.Key()] = n
	return n
}

func (c *staleNetClient) BindPod(ctx context.Context, uid, node string) (agent.Binding, error) {
	b, err := c.Client.BindPod(ctx, uid, node)
	for k, n := range b.Networks {
		b.Networks[k] = c.remember(n)
	}
	return b, err
}

func (c *staleNetClient) Network(ctx context.Context, tenant, name string) (model.Network, error) {
	n, err := c.Client.Network(ctx, tenant, name)
	if err != nil {
		return n, err
	}
	return c.remember(n), nil
}
