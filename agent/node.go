package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// Heartbeat registers this node (name and VTEP) with the manager, or refreshes its heartbeat.
func (a *Agent) Heartbeat(ctx context.Context) error {
	err := a.mgr.RegisterNode(ctx, model.Node{Name: a.node.Name, VTEP: a.node.VTEP})
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr = err
	if err != nil {
		return fmt.Errorf("registering node %s: %w", a.node.Name, err)
	}
	a.registered = true
	return nil
}

// currentPeers are the other nodes' VTEPs from the last poll.
func (a *Agent) currentPeers() []netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.peers)
}

// nodesRevision is the revision of the node set the peers came from ("" before the first).
func (a *Agent) nodesRevision() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodesRev
}

// PollPeers watches the node set from the revision it last saw — the manager answers when the set
// changes, or with a small "unchanged" after its wait, never a full list per period — and programs
// every overlay VNI in use on this node with exactly the other nodes' VTEPs. A VNI whose peers have
// not changed since it was last programmed is skipped.
func (a *Agent) PollPeers(ctx context.Context) error {
	a.mu.Lock()
	since, applied := a.nodesRev, a.appliedRev
	a.mu.Unlock()
	set, err := a.mgr.WatchNodes(ctx, a.node.Name, applied, since)
	if err != nil {
		return fmt.Errorf("watching nodes: %w", err)
	}
	if set.Changed {
		var peers []netip.Addr
		self := false
		for _, n := range set.Nodes {
			if n.Name == a.node.Name {
				self = n.VTEP == a.node.VTEP
			} else if n.VTEP.IsValid() {
				peers = append(peers, n.VTEP)
			}
		}
		peers = peersFor(a.node.VTEP, peers)
		a.mu.Lock()
		a.peers, a.polled, a.nodesRev = peers, true, set.Revision
		if !self {
			a.gated = false // this node's registration went or changed: its peers must learn it anew
		}
		a.mu.Unlock()
	}
	if err := a.SyncPeers(ctx); err != nil {
		return err
	}
	// Every VNI in use floods to the peers of set.Revision (or of a later one), and a VNI a pod
	// brings later is planned with them: the next watch tells the manager so.
	a.mu.Lock()
	a.appliedRev = a.nodesRev // only this loop changes nodesRev
	a.mu.Unlock()
	return nil
}

// SyncPeers programs the forwarding entries of every overlay VNI in use on this node that differ
// from what was last programmed.
func (a *Agent) SyncPeers(ctx context.Context) error {
	a.mu.Lock()
	if !a.polled {
		a.mu.Unlock()
		return nil // nothing known yet: an empty list would wipe the tunnels' entries
	}
	inUse := map[uint32]plan.VXLAN{}
	for _, cp := range a.index {
		for _, l := range cp.Plan.Links {
			if l.VXLAN != nil {
				inUse[l.VXLAN.VNI] = *l.VXLAN
			}
		}
	}
	for vni := range a.synced {
		if _, ok := inUse[vni]; !ok {
			delete(a.synced, vni) // programmed again from scratch if a pod brings it back
		}
	}
	peers := a.peers
	var todo []plan.VXLAN
	for vni, vx := range inUse {
		if !slices.Equal(a.synced[vni], peers) {
			vx.Peers = peers
			todo = append(todo, vx)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(todo, func(x, y plan.VXLAN) int { return int(x.VNI) - int(y.VNI) })
	var errs []error
	for _, vx := range todo {
		if err := a.dp.SyncPeers(ctx, vx); err != nil {
			errs = append(errs, fmt.Errorf("programming the peers of VNI %d: %w", vx.VNI, err))
			continue
		}
		a.mu.Lock()
		a.synced[vx.VNI] = vx.Peers
		a.mu.Unlock()
	}
	return errors.Join(errs...)
}

// dropProgrammedPeers returns p without the flood list of each VXLAN link whose device already
// floods to exactly those peers: its VNI was last programmed with them and another built
// attachment on this node uses it (so the device stays while this one is built). The list is the
// node's, O(nodes) long; carried by every pod's plan it made each ADD's checkpoint write and
// attach O(nodes). A VNI new on this node keeps its list: the ADD creates the device.
func (a *Agent) dropProgrammedPeers(p plan.Pod) plan.Pod {
	a.mu.Lock()
	defer a.mu.Unlock()
	links, cloned := p.Links, false
	for i, l := range p.Links {
		if l.VXLAN == nil || len(l.VXLAN.Peers) == 0 || !slices.Equal(a.synced[l.VXLAN.VNI], l.VXLAN.Peers) || !a.builtOnLocked(l.VXLAN.VNI) {
			continue
		}
		if !cloned {
			links, cloned = slices.Clone(p.Links), true // the plan's own links are not changed
		}
		vx := *l.VXLAN
		vx.Peers = nil
		links[i].VXLAN = &vx
	}
	p.Links = links
	return p
}

// unsynced reports whether p has a VXLAN link of a VNI not programmed with the current peers,
// once a node set is known.
func (a *Agent) unsynced(p plan.Pod) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range p.Links {
		if l.VXLAN != nil && a.polled && !slices.Equal(a.synced[l.VXLAN.VNI], a.peers) {
			return true
		}
	}
	return false
}

// builtOnLocked reports whether a built attachment that is not being torn down uses VNI vni.
func (a *Agent) builtOnLocked(vni uint32) bool {
	for _, cp := range a.index {
		if !cp.Ready || cp.Teardown {
			continue
		}
		for _, l := range cp.Plan.Links {
			if l.VXLAN != nil && l.VXLAN.VNI == vni {
				return true
			}
		}
	}
	return false
}

// fillPeers returns p with the current peers in each VXLAN link that has none (a checkpoint's plan
// from dropProgrammedPeers or a built one), for building it again.
func (a *Agent) fillPeers(p plan.Pod) plan.Pod {
	a.mu.Lock()
	peers := a.peers
	a.mu.Unlock()
	links := slices.Clone(p.Links)
	for i, l := range links {
		if l.VXLAN != nil && len(l.VXLAN.Peers) == 0 && len(peers) > 0 {
			vx := *l.VXLAN
			vx.Peers = slices.Clone(peers)
			links[i].VXLAN = &vx
		}
	}
	p.Links = links
	return p
}

// peersFor filters peers the way the planner does: other nodes of the local VTEP's family, sorted,
// without duplicates. It filters in place: peers is the caller's own slice.
func peersFor(local netip.Addr, peers []netip.Addr) []netip.Addr {
	out := slices.DeleteFunc(peers, func(p netip.Addr) bool { return p == local || p.Is4() != local.Is4() })
	if !slices.IsSortedFunc(out, netip.Addr.Compare) {
		slices.SortFunc(out, netip.Addr.Compare)
	}
	return slices.Compact(out)
}
