package fakedp

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// Detach implements agent.Dataplane: it removes the pod's links by name, and succeeds when they or
// the pod's namespace are gone.
func (f *Fake) Detach(ctx context.Context, pod plan.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpDetach); err != nil {
		return err
	}
	space := f.spaces[pod.Netns] // nil when gone
	if pod.Netns == node {
		space = nil
	}
	var errs []error
	for i := len(pod.Links) - 1; i >= 0; i-- {
		l := pod.Links[i]
		switch l.Type {
		case model.Overlay, model.VLAN:
			if host := f.spaces[node][l.HostIf]; host != nil && host.Kind == "veth" {
				f.deleteVeth(host)
			}
		case model.MACVLAN:
			if link := space[l.PodIf]; link != nil && link.Kind == "macvlan" {
				delete(space, l.PodIf)
			}
		case model.SRIOV:
			if v := held(f.pfs[l.Uplink], vfOwner(pod, l)); v != nil {
				if err := f.giveBack(space, v); err != nil {
					errs = append(errs, linkErr(l, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// SyncPeers implements agent.Dataplane; a VXLAN device that does not exist is no error.
func (f *Fake) SyncPeers(ctx context.Context, vx plan.VXLAN) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpSyncPeers); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dev := f.spaces[node][vx.Name]
	if dev == nil {
		return nil
	}
	if dev.Kind != "vxlan" {
		return fmt.Errorf("vxlan %s: the node's %s is a %s", vx.Name, vx.Name, dev.Kind)
	}
	dev.FDB = sortedUnion(nil, vx.Peers)
	return nil
}

// Check implements agent.Dataplane with the netlink adapter's codes and field paths.
func (f *Fake) Check(ctx context.Context, pod plan.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpCheck); err != nil {
		return err
	}
	space, err := f.pod(pod.Netns)
	if err != nil {
		return err
	}
	for i, l := range pod.Links {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.checkLink(pod.Netns, space, l); err != nil {
			return linkErr(l, model.Prefix(fmt.Sprintf("links[%d]", i), err))
		}
	}
	return nil
}

func (f *Fake) checkLink(netns string, space map[string]*Link, l plan.Link) error {
	link := space[l.PodIf]
	if link == nil {
		return model.Errorf(model.CodeNotFound, "interface", "%s is missing from network namespace %s", l.PodIf, netns)
	}
	if want := podIfKind(l.Type); link.Kind != want {
		return model.Errorf(model.CodeConflict, "interface", "%s is a %s, the plan says %s", l.PodIf, link.Kind, want)
	}
	if !l.MAC.IsZero() && link.MAC != l.MAC {
		return model.Errorf(model.CodeConflict, "mac", "%s has MAC %s, the plan says %s", l.PodIf, link.MAC, l.MAC)
	}
	if l.MTU != 0 && link.MTU != l.MTU {
		return model.Errorf(model.CodeConflict, "mtu", "%s has MTU %d, the plan says %d", l.PodIf, link.MTU, l.MTU)
	}
	if !link.Up {
		return model.Errorf(model.CodeConflict, "interface", "%s is down", l.PodIf)
	}
	for _, want := range l.Addrs {
		if !slices.Contains(link.Addrs, want) {
			return model.Errorf(model.CodeConflict, "addrs", "%s lacks address %s", l.PodIf, want)
		}
	}
	for _, want := range l.Routes {
		if !slices.Contains(link.Routes, want) {
			return model.Errorf(model.CodeConflict, "routes", "%s lacks route %s", l.PodIf, describeRoute(want))
		}
	}
	if l.HostIf == "" {
		return nil
	}
	host := f.spaces[node][l.HostIf]
	if host == nil {
		return model.Errorf(model.CodeNotFound, "host_if", "the node end %s of %s is missing", l.HostIf, l.PodIf)
	}
	if l.Type == model.VLAN {
		if host.Trunk != l.Uplink || host.VLAN != l.VLAN {
			return model.Errorf(model.CodeConflict, "vlan", "%s is on VLAN %d of trunk %q, the plan says VLAN %d of %s", l.HostIf, host.VLAN, host.Trunk, l.VLAN, l.Uplink)
		}
		return nil
	}
	if f.spaces[node][l.Bridge] == nil {
		return model.Errorf(model.CodeNotFound, "bridge", "bridge %s is missing from the node", l.Bridge)
	}
	if host.Master != l.Bridge {
		return model.Errorf(model.CodeConflict, "host_if", "%s is not a port of bridge %s", l.HostIf, l.Bridge)
	}
	return nil
}

func podIfKind(t model.NetworkType) string {
	switch t {
	case model.Overlay, model.VLAN:
		return "veth"
	case model.MACVLAN:
		return "macvlan"
	}
	return "vf"
}
