package netlinkdp

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/vishvananda/netlink"
)

// ensureBridge returns the node bridge called name, creating it (with mtu when non-zero) if needed,
// and up. Callers hold nodeMu.
func (d *Dataplane) ensureBridge(name string, mtu int) (netlink.Link, error) {
	h := d.node.h
	link, err := lookup(h, name)
	if err != nil {
		return nil, fmt.Errorf("finding bridge %s: %w", name, err)
	}
	if link == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = name, mtu
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if link, err = h.LinkByName(name); err != nil {
			return nil, fmt.Errorf("finding new bridge %s: %w", name, err)
		}
	}
	br, ok := link.(*netlink.Bridge)
	if !ok {
		return nil, model.Errorf(model.CodeConflict, "bridge", "%s on the node is a %s, not a bridge; remove it", name, link.Type())
	}
	if !isUp(br) {
		if err := h.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("setting bridge %s up: %w", name, err)
		}
	}
	return br, nil
}

// ensureUplink returns the node NIC called name; errors name the network's physical_network, since
// that (or the agent's uplink mapping) is what the operator fixes.
func (d *Dataplane) ensureUplink(name string) (netlink.Link, error) {
	if name == "" {
		return nil, model.Invalid("uplink", "is empty; the network's physical_network names the node NIC")
	}
	link, err := lookup(d.node.h, name)
	if err != nil {
		return nil, fmt.Errorf("finding uplink %s: %w", name, err)
	}
	if link == nil {
		return nil, model.Errorf(model.CodeNotFound, "uplink",
			"NIC %s is not on this node; fix the network's physical_network or map it to a NIC with the agent's --uplink", name)
	}
	return link, nil
}
