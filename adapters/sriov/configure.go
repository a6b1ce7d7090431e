package sriov

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// Configurer programs a VF's administrative settings through its PF. The real one is Netlink; tests
// on a fake sysfs tree, where the "PF" is a veth that has no VFs, record the calls instead.
type Configurer interface {
	// Configure sets the VF's MAC (unless mac is empty) and its VLAN (0 clears any tag).
	Configure(vf VF, mac net.HardwareAddr, vlan uint16) error
	// Reset clears the VF's VLAN and restores its MAC (vf.MAC, when known) when the VF is given
	// back, so that its next pod starts untagged and no two VFs keep one pod's MAC.
	Reset(vf VF) error
}

// Netlink configures VFs with the PF's netlink VF attributes (what `ip link set <pf> vf N ...` does).
type Netlink struct {
	// Handle is a netlink handle in the PF's namespace (the node's).
	Handle *netlink.Handle
}

var _ Configurer = Netlink{}

// Configure implements Configurer.
func (c Netlink) Configure(vf VF, mac net.HardwareAddr, vlan uint16) error {
	pf, err := c.Handle.LinkByName(vf.PF)
	if err != nil {
		return fmt.Errorf("finding PF %s: %w", vf.PF, err)
	}
	if len(mac) > 0 {
		if err := c.Handle.LinkSetVfHardwareAddr(pf, vf.Index, mac); err != nil {
			return fmt.Errorf("setting MAC %s of VF %d on PF %s: %w (does the PF's driver support SR-IOV and are its VFs enabled?)", mac, vf.Index, vf.PF, err)
		}
	}
	if err := c.Handle.LinkSetVfVlan(pf, vf.Index, int(vlan)); err != nil {
		return fmt.Errorf("setting VLAN %d of VF %d on PF %s: %w (does the PF's driver support VF VLANs?)", vlan, vf.Index, vf.PF, err)
	}
	return nil
}

// Reset implements Configurer.
func (c Netlink) Reset(vf VF) error {
	pf, err := c.Handle.LinkByName(vf.PF)
	if err != nil {
		return fmt.Errorf("finding PF %s: %w", vf.PF, err)
	}
	if err := c.Handle.LinkSetVfVlan(pf, vf.Index, 0); err != nil {
		return fmt.Errorf("clearing the VLAN of VF %d on PF %s: %w", vf.Index, vf.PF, err)
	}
	if vf.MAC == "" {
		return nil
	}
	mac, err := net.ParseMAC(vf.MAC)
	if err != nil {
		return fmt.Errorf("VF %d of PF %s has MAC %q in the allocation record: %w", vf.Index, vf.PF, vf.MAC, err)
	}
	if err := c.Handle.LinkSetVfHardwareAddr(pf, vf.Index, mac); err != nil {
		return fmt.Errorf("restoring MAC %s of VF %d on PF %s: %w", mac, vf.Index, vf.PF, err)
	}
	return nil
}
