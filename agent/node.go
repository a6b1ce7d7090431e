package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

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
	peers := peersFor(a.node.VTEP, a.peers)
	want := joinAddrs(peers)
	var todo []plan.VXLAN
	for vni, vx := range inUse {
		if a.synced[vni] != want {
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
		a.synced[vx.VNI] = want
		a.mu.Unlock()
	}
	return errors.Join(errs...)
}

// peersFor filters peers the way the planner does: other nodes of the local VTEP's family, sorted,
// without duplicates.
func peersFor(local netip.Addr, peers []netip.Addr) []netip.Addr {
	out := slices.DeleteFunc(slices.Clone(peers), func(p netip.Addr) bool { return p == local || p.Is4() != local.Is4() })
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
