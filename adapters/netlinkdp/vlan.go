package netlinkdp

import (
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// defaultVLAN is the PVID a bridge gives every new port; an access port of another VLAN drops it so
// that it is in exactly one VLAN.
const defaultVLAN = 1

func (d *Dataplane) attachVLAN(p *nsHandle, l plan.Link, group uint32) (func() error, error) {
	if l.Bridge == "" {
		return nil, model.Invalid("bridge", "a vlan link needs its bridge; the plan is incomplete")
	}
	br, err := d.vlanPlumbing(l)
	if err != nil {
		return nil, err
	}
	return d.attachVeth(p, l, br, func(host netlink.Link) error { return d.accessPort(host, l.VLAN) }, group)
}

// vlanPlumbing ensures the uplink's VLAN bridge and the uplink on it as a trunk that carries l.VLAN.
func (d *Dataplane) vlanPlumbing(l plan.Link) (netlink.Link, error) {
	d.nodeMu.Lock()
	defer d.nodeMu.Unlock()
	up, err := d.ensureUplink(l.Uplink)
	if err != nil {
		return nil, err
	}
	br, err := d.ensureBridge(l.Bridge, 0, l.VLAN != 0)
	if err != nil {
		return nil, err
	}
	h := d.node.h
	switch up.Attrs().MasterIndex {
	case br.Attrs().Index:
	case 0:
		if err := h.LinkSetMaster(up, br); err != nil {
			return nil, fmt.Errorf("adding uplink %s to bridge %s: %w", l.Uplink, l.Bridge, err)
		}
	default:
		return nil, model.Errorf(model.CodeConflict, "uplink",
			"NIC %s is already a port of another bridge or bond (ifindex %d); give vlan networks a NIC of their own", l.Uplink, up.Attrs().MasterIndex)
	}
	if !isUp(up) {
		if err := h.LinkSetUp(up); err != nil {
			return nil, fmt.Errorf("setting uplink %s up: %w", l.Uplink, err)
		}
	}
	if l.VLAN != 0 {
		if err := h.BridgeVlanAdd(up, l.VLAN, false, false, false, true); err != nil {
			return nil, fmt.Errorf("allowing VLAN %d on trunk %s: %w", l.VLAN, l.Uplink, vlanHint(err, true))
		}
	}
	return br, nil
}

// accessPort makes the veth's node end an untagged member of vlan only. VLAN 0 leaves the port as
// the bridge made it: untagged in the default VLAN.
func (d *Dataplane) accessPort(host netlink.Link, vlan uint16) error {
	if vlan == 0 {
		return nil
	}
	h := d.node.h
	name := host.Attrs().Name
	if err := h.BridgeVlanAdd(host, vlan, true, true, false, true); err != nil {
		return fmt.Errorf("making %s an access port of VLAN %d: %w", name, vlan, vlanHint(err, true))
	}
	if vlan != defaultVLAN {
		err := h.BridgeVlanDel(host, defaultVLAN, false, false, false, true)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing default VLAN %d from %s: %w", defaultVLAN, name, err)
		}
	}
	return nil
}
