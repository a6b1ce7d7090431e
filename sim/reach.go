package sim

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/fakedp"
	"github.com/knitter-cni/knitter/manager"
)

// hostsOf are nodes as fakedp.Reach sees them.
func hostsOf(nodes []*node) []fakedp.Host {
	hosts := make([]fakedp.Host, len(nodes))
	for i, nd := range nodes {
		hosts[i] = fakedp.Host{Name: nd.name, VTEP: nd.opts.Node.VTEP, DP: nd.dp}
	}
	return hosts
}

func (c *Cluster) plainNodes() []*node {
	out := make([]*node, len(c.nodes))
	for i, nd := range c.nodes {
		out[i] = nd.node
	}
	return out
}

// Reach computes whether an echo from the sandbox netns on node to dst is answered now
// (fakedp.Reach over every node's dataplane).
func (c *Cluster) Reach(node, netns string, dst netip.Addr) error {
	return fakedp.Reach(hostsOf(c.plainNodes()), node, netns, dst)
}

// reachEnd is one port of a pod the manager holds, in the sandbox an agent built for it.
type reachEnd struct {
	ep      fakedp.Endpoint
	network string // "tenant/name"
	ips     []netip.Addr
	pod     string
}

// CheckReach is the reachability invariant: every port the manager holds whose sandbox stands
// (a ready checkpoint on its node, the namespace still there) reaches every other such port of its
// network, address by address, and is answered by that port's interface; and no echo from a
// sandbox is answered by a port of a network the sandbox has no port on. It says nothing while no manager serves (then nobody says
// which pods should be up). A VNI or VLAN mix-up anywhere breaks it.
func (c *Cluster) CheckReach() error {
	m := c.Manager()
	if m == nil {
		return nil
	}
	err := checkReach(m, c.plainNodes(), true)
	if err != nil {
		c.w.Record("reach invariant broken: %v", err)
	}
	return err
}

// checkReach is CheckReach over nodes and the manager m; with across false, ports of an overlay
// network on two nodes need not reach each other (their agents do not watch the node set, so their
// VXLAN devices flood to nobody), but must still not reach another network's. Ports of an underlay
// network (vlan, macvlan: a NIC name is one wire across the nodes) must reach each other across
// nodes either way.
func checkReach(m *manager.Manager, nodes []*node, across bool) error {
	pods := map[string]model.Pod{}
	underlay := map[string]bool{}
	if err := m.View(func(s *alloc.State) {
		for _, uid := range s.Pods() {
			if p, ok := s.Pod(uid); ok {
				pods[uid] = p
			}
		}
		for _, n := range s.Networks(alloc.Admin, "") {
			underlay[n.Key()] = n.Type == model.VLAN || n.Type == model.MACVLAN
		}
	}); err != nil {
		return nil
	}
	var ends []reachEnd
	for _, nd := range nodes {
		cps, err := nd.store.List()
		if err != nil {
			return fmt.Errorf("the checkpoints of %s: %w", nd.name, err)
		}
		for _, cp := range cps {
			pod, held := pods[cp.Plan.Pod.UID]
			if !cp.Ready || !held || nd.dp.Links(cp.Plan.Netns) == nil {
				continue
			}
			for _, port := range pod.Ports {
				if _, ok := nd.dp.Link(cp.Plan.Netns, port.Interface); ok && len(port.IPs) > 0 {
					ends = append(ends, reachEnd{ep: fakedp.Endpoint{Host: nd.name, Netns: cp.Plan.Netns, Interface: port.Interface},
						network: port.Network, ips: port.IPs, pod: pod.Namespace + "/" + pod.Name})
				}
			}
		}
	}
	// on are the networks each sandbox has a port on.
	on := map[[2]string]map[string]bool{}
	for _, e := range ends {
		k := [2]string{e.ep.Host, e.ep.Netns}
		if on[k] == nil {
			on[k] = map[string]bool{}
		}
		on[k][e.network] = true
	}
	net := fakedp.Snapshot(hostsOf(nodes))
	var errs []error
	for _, a := range ends {
		for _, b := range ends {
			if a.ep.Host == b.ep.Host && a.ep.Netns == b.ep.Netns {
				continue
			}
			should := a.network == b.network && (across || underlay[a.network] || a.ep.Host == b.ep.Host)
			for _, ip := range b.ips {
				who, err := net.Reach(a.ep.Host, a.ep.Netns, ip)
				switch {
				case should && hasFamily(a.ips, ip) && err != nil:
					errs = append(errs, fmt.Errorf("pod %s's %s (%s) does not reach pod %s's %s on its network: %w", a.pod, a.ep.Interface, a.network, b.pod, ip, err))
				case should && hasFamily(a.ips, ip) && who != b.ep:
					errs = append(errs, fmt.Errorf("pod %s's %s (%s): %s is answered by %+v, not by pod %s's %s", a.pod, a.ep.Interface, a.network, ip, who, b.pod, b.ep.Interface))
				case !on[[2]string{a.ep.Host, a.ep.Netns}][b.network] && err == nil && who == b.ep:
					errs = append(errs, fmt.Errorf("pod %s reaches pod %s's %s on %s, a network it has no port on", a.pod, b.pod, ip, b.network))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func hasFamily(ips []netip.Addr, ip netip.Addr) bool {
	for _, a := range ips {
		if a.Is4() == ip.Is4() {
			return true
		}
	}
	return false
}
