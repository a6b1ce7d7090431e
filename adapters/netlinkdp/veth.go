package netlinkdp

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
)

// attachVeth builds (or finds) the veth HostIf <-> PodIf, puts its node end on br (unless nil) and
// up, lets port finish the node end's setup, and configures the pod end. The pod end is
// created straight in the pod's namespace, so its name never clashes with the node's interfaces.
func (d *Dataplane) attachVeth(p *nsHandle, l plan.Link, br netlink.Link, port func(host netlink.Link) error, group uint32) (undo func() error, err error) {
	if l.HostIf == "" {
		return nil, model.Invalid("host_if", "is empty; the planner names the node end of every veth")
	}
	host, pod, err := d.findVeth(p, l)
	if err != nil {
		return nil, err
	}
	fresh := pod == nil
	if fresh {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = l.HostIf, l.MTU
		veth := &netlink.Veth{LinkAttrs: attrs, PeerName: l.PodIf, PeerNamespace: netlink.NsFd(p.fd), PeerMTU: uint32(l.MTU)}
		if !l.MAC.IsZero() {
			veth.PeerHardwareAddr = l.MAC[:]
		}
		if err := d.node.h.LinkAdd(veth); err != nil {
			return nil, fmt.Errorf("creating veth %s (pod side %s): %w", l.HostIf, l.PodIf, err)
		}
		undo = func() error { return deleteLink(d.node, l.HostIf, "veth") }
		host = veth // LinkAdd filled in its index; it is down and on no bridge yet
		if pod, err = p.h.LinkByName(l.PodIf); err != nil {
			return undo, fmt.Errorf("finding new veth end %s in the pod: %w", l.PodIf, err)
		}
	}
	if br != nil && host.Attrs().MasterIndex != br.Attrs().Index {
		if err := d.node.h.LinkSetMaster(host, br); err != nil {
			return undo, fmt.Errorf("adding %s to bridge %s: %w", l.HostIf, br.Attrs().Name, err)
		}
	}
	if port != nil {
		if err := port(host); err != nil {
			return undo, err
		}
	}
	if !isUp(host) {
		if err := d.node.h.LinkSetUp(host); err != nil {
			return undo, fmt.Errorf("setting %s up: %w", l.HostIf, err)
		}
	}
	if err := configurePodIf(p.h, pod, l, group, fresh); err != nil {
		return undo, err
	}
	return undo, waitOperUp(d.node.h, l.HostIf)
}

// findVeth returns the link's veth ends when both exist and are each other's peer. A node end
// without its pod end is a leftover of an attempt that died (the pod end went with a namespace) and
// is removed. A pod interface that is not this link's veth is a conflict: it is never touched.
func (d *Dataplane) findVeth(p *nsHandle, l plan.Link) (host, pod netlink.Link, err error) {
	if pod, err = lookup(p.h, l.PodIf); err != nil {
		return nil, nil, fmt.Errorf("finding %s in the pod: %w", l.PodIf, err)
	}
	if host, err = lookup(d.node.h, l.HostIf); err != nil {
		return nil, nil, fmt.Errorf("finding %s: %w", l.HostIf, err)
	}
	if pod != nil && (host == nil || pod.Type() != "veth" ||
		host.Attrs().ParentIndex != pod.Attrs().Index || pod.Attrs().ParentIndex != host.Attrs().Index) {
		return nil, nil, errNotOurs(l, p.path)
	}
	if pod == nil && host != nil {
		if err := deleteLink(d.node, l.HostIf, "veth"); err != nil {
			return nil, nil, fmt.Errorf("removing stale %s: %w", l.HostIf, err)
		}
		host = nil
	}
	return host, pod, nil
}

func errNotOurs(l plan.Link, netns string) error {
	return model.Errorf(model.CodeConflict, "interface",
		"%s already exists in network namespace %s and is not this port's interface; request another interface name", l.PodIf, netns)
}
