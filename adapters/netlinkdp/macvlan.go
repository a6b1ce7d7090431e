package netlinkdp

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
)

// attachMacvlan creates a bridge-mode macvlan of the uplink straight into the pod's namespace under
// its pod name (one netlink call, and no window in which it sits in the node under a temporary name).
func (d *Dataplane) attachMacvlan(p *nsHandle, l plan.Link, group uint32) (undo func() error, err error) {
	parent, err := d.ensureUplink(l.Uplink)
	if err != nil {
		return nil, err
	}
	link, err := lookup(p.h, l.PodIf)
	if err != nil {
		return nil, fmt.Errorf("finding %s in the pod: %w", l.PodIf, err)
	}
	if link != nil && (link.Type() != "macvlan" || link.Attrs().ParentIndex != parent.Attrs().Index) {
		return nil, errNotOurs(l, p.path)
	}
	fresh := link == nil
	if fresh {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU, attrs.ParentIndex = l.PodIf, l.MTU, parent.Attrs().Index
		attrs.Namespace, attrs.Group = netlink.NsFd(p.fd), group
		if !l.MAC.IsZero() {
			attrs.HardwareAddr = l.MAC[:]
		}
		if err := d.node.h.LinkAdd(&netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}); err != nil {
			return nil, fmt.Errorf("creating macvlan %s on %s: %w", l.PodIf, l.Uplink, err)
		}
		undo = func() error { return deleteLink(p, l.PodIf, "macvlan") }
		if link, err = p.h.LinkByName(l.PodIf); err != nil {
			return undo, fmt.Errorf("finding new macvlan %s in the pod: %w", l.PodIf, err)
		}
	}
	return undo, configurePodIf(p.h, link, l, group, fresh)
}
