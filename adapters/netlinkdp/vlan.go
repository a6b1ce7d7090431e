package netlinkdp

import (
	"fmt"

	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
)

// attachVLAN builds a vlan link: a veth whose node end is on no bridge, and the pod's port in the
// eBPF VLAN datapath (package vlanbpf), which tags what the pod sends onto the trunk and delivers
// what arrives on the trunk with the VLAN's tag.
func (d *Dataplane) attachVLAN(p *nsHandle, l plan.Link, group uint32) (func() error, error) {
	if l.VLAN < 1 || l.VLAN > model.MaxVLAN {
		return nil, model.Invalid("vlan", "%d is out of range; a vlan link needs a VLAN id 1-%d", l.VLAN, model.MaxVLAN)
	}
	trunk, err := d.vlanTrunk(l.Uplink)
	if err != nil {
		return nil, err
	}
	undo, err := d.attachVeth(p, l, nil, nil, group)
	if err != nil {
		return undo, err
	}
	port, err := d.vlanPort(p, l, trunk)
	if err != nil {
		return undo, err
	}
	if err := d.vlan.Attach(port); err != nil {
		return undo, err
	}
	if undo == nil {
		return nil, nil
	}
	return func() error {
		if err := undo(); err != nil {
			return err
		}
		return d.vlan.Prune()
	}, nil
}

// vlanTrunk returns the trunk NIC, up, promiscuous and with no hardware VLAN filter: pods' MACs are
// not the NIC's, and without the 802.1Q module nothing registers the VLANs with a NIC that filters
// them, so the NIC must take every frame (docs/architecture.md, "Trunk NICs on real hardware").
func (d *Dataplane) vlanTrunk(name string) (netlink.Link, error) {
	d.nodeMu.Lock()
	defer d.nodeMu.Unlock()
	up, err := d.ensureUplink(name)
	if err != nil {
		return nil, err
	}
	if err := trunkVLANFilterOff(d.hostNetns, name); err != nil {
		return nil, err
	}
	h := d.node.h
	if up.Attrs().Promisc == 0 {
		if err := h.SetPromiscOn(up); err != nil {
			return nil, fmt.Errorf("setting trunk %s promiscuous: %w", name, err)
		}
	}
	if !isUp(up) {
		if err := h.LinkSetUp(up); err != nil {
			return nil, fmt.Errorf("setting trunk %s up: %w", name, err)
		}
	}
	return up, nil
}

// vlanPort describes the link's veth to the VLAN datapath, with the pod end's actual MAC.
func (d *Dataplane) vlanPort(p *nsHandle, l plan.Link, trunk netlink.Link) (vlanbpf.Port, error) {
	host, err := lookup(d.node.h, l.HostIf)
	if err != nil {
		return vlanbpf.Port{}, fmt.Errorf("finding %s: %w", l.HostIf, err)
	}
	if host == nil {
		return vlanbpf.Port{}, model.Errorf(model.CodeNotFound, "host_if", "the node end %s of %s is missing", l.HostIf, l.PodIf)
	}
	pod, err := p.h.LinkByName(l.PodIf)
	if err != nil {
		return vlanbpf.Port{}, fmt.Errorf("finding %s in the pod: %w", l.PodIf, err)
	}
	return vlanbpf.Port{HostIf: l.HostIf, HostIndex: host.Attrs().Index, Trunk: l.Uplink, TrunkIndex: trunk.Attrs().Index,
		VLAN: l.VLAN, MAC: pod.Attrs().HardwareAddr}, nil
}

// checkVLAN reads the link's port back from the VLAN datapath.
func (d *Dataplane) checkVLAN(p *nsHandle, l plan.Link) error {
	trunk, err := lookup(d.node.h, l.Uplink)
	if err != nil {
		return fmt.Errorf("finding trunk %s: %w", l.Uplink, err)
	}
	if trunk == nil {
		return model.Errorf(model.CodeNotFound, "uplink", "trunk %s is missing from the node", l.Uplink)
	}
	port, err := d.vlanPort(p, l, trunk)
	if err != nil {
		return err
	}
	return d.vlan.Check(port)
}
