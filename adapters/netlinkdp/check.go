package netlinkdp

import (
	"bytes"
	"context"
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
)

// Check implements agent.Dataplane. A missing namespace or interface has code CodeNotFound; an
// interface that differs from the plan has code CodeConflict. Field paths are "links[i].<what>".
func (d *Dataplane) Check(ctx context.Context, pod plan.Pod) error {
	p, err := openNetns(pod.Netns)
	if err != nil {
		return err
	}
	defer p.close()
	for i, l := range pod.Links {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.checkLink(p, l); err != nil {
			return linkErr(l, model.Prefix(fmt.Sprintf("links[%d]", i), err))
		}
	}
	return nil
}

func (d *Dataplane) checkLink(p *nsHandle, l plan.Link) error {
	link, err := lookup(p.h, l.PodIf)
	if err != nil {
		return fmt.Errorf("finding %s: %w", l.PodIf, err)
	}
	if link == nil {
		return model.Errorf(model.CodeNotFound, "interface", "%s is missing from network namespace %s", l.PodIf, p.path)
	}
	if want := podIfType(l.Type); want != "" && link.Type() != want {
		return model.Errorf(model.CodeConflict, "interface", "%s is a %s, the plan says %s", l.PodIf, link.Type(), want)
	}
	a := link.Attrs()
	if !l.MAC.IsZero() && !bytes.Equal(a.HardwareAddr, l.MAC[:]) {
		return model.Errorf(model.CodeConflict, "mac", "%s has MAC %s, the plan says %s", l.PodIf, a.HardwareAddr, l.MAC)
	}
	if l.MTU != 0 && a.MTU != l.MTU {
		return model.Errorf(model.CodeConflict, "mtu", "%s has MTU %d, the plan says %d", l.PodIf, a.MTU, l.MTU)
	}
	if !isUp(link) {
		return model.Errorf(model.CodeConflict, "interface", "%s is down", l.PodIf)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return p.h.AddrList(link, netlink.FAMILY_ALL) })
	if err != nil {
		return fmt.Errorf("listing the addresses of %s: %w", l.PodIf, err)
	}
	for _, want := range l.Addrs {
		if !hasAddr(addrs, want) {
			return model.Errorf(model.CodeConflict, "addrs", "%s lacks address %s", l.PodIf, want)
		}
	}
	routes, err := retryDump(func() ([]netlink.Route, error) { return p.h.RouteList(link, netlink.FAMILY_ALL) })
	if err != nil {
		return fmt.Errorf("listing the routes of %s: %w", l.PodIf, err)
	}
	for _, want := range l.Routes {
		if !hasRoute(routes, want) {
			return model.Errorf(model.CodeConflict, "routes", "%s lacks route %s", l.PodIf, describeRoute(want))
		}
	}
	if l.Type == model.VLAN {
		return d.checkVLAN(p, l)
	}
	if l.HostIf != "" {
		return d.checkHostEnd(l)
	}
	return nil
}

// checkHostEnd checks that the veth's node end exists and is on the link's bridge.
func (d *Dataplane) checkHostEnd(l plan.Link) error {
	host, err := lookup(d.node.h, l.HostIf)
	if err != nil {
		return fmt.Errorf("finding %s: %w", l.HostIf, err)
	}
	if host == nil {
		return model.Errorf(model.CodeNotFound, "host_if", "the node end %s of %s is missing", l.HostIf, l.PodIf)
	}
	br, err := lookup(d.node.h, l.Bridge)
	if err != nil {
		return fmt.Errorf("finding bridge %s: %w", l.Bridge, err)
	}
	if br == nil {
		return model.Errorf(model.CodeNotFound, "bridge", "bridge %s is missing from the node", l.Bridge)
	}
	if host.Attrs().MasterIndex != br.Attrs().Index {
		return model.Errorf(model.CodeConflict, "host_if", "%s is not a port of bridge %s", l.HostIf, l.Bridge)
	}
	return nil
}

func podIfType(t model.NetworkType) string {
	switch t {
	case model.Overlay, model.VLAN:
		return "veth"
	case model.MACVLAN:
		return "macvlan"
	}
	return "" // a VF netdev's type depends on its driver
}
