package vlanbpf

import (
	"fmt"
	"github.com/cilium/ebpf"
	"net"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// Check reads the port back: its map entries and the programs attached to its veth and its trunk.
// Missing state has code CodeNotFound; state that differs, CodeConflict.
func (d *Datapath) Check(p Port) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.do(func() error {
		s, err := d.loaded(false)
		if err != nil {
			return err
		}
		if s == nil {
			return model.Errorf(model.CodeNotFound, "vlan", "the VLAN datapath has no maps on this node; %s is not on VLAN %d", p.HostIf, p.VLAN)
		}
		host := uint32(p.HostIndex)
		var v portValue
		if err := s.ports.Lookup(host, &v); err != nil {
			return model.Errorf(model.CodeNotFound, "vlan", "%s is not a port of the VLAN datapath (%v)", p.HostIf, err)
		}
		if want := p.value(); v != want {
			return model.Errorf(model.CodeConflict, "vlan", "%s is on VLAN %d of trunk ifindex %d with MAC %x, the plan says VLAN %d of %s with MAC %s",
				p.HostIf, v.VID, v.Trunk, v.MAC, p.VLAN, p.Trunk, p.MAC)
		}
		var owner uint32
		if err := s.fdb.Lookup(fdbKey(v), &owner); err != nil || owner != host {
			return model.Errorf(model.CodeConflict, "mac", "VLAN %d has no MAC entry %s for %s", p.VLAN, p.MAC, p.HostIf)
		}
		slots, err := s.slots(v.Trunk, v.VID)
		if err != nil {
			return err
		}
		if !slices.Contains(slots, host) {
			return model.Errorf(model.CodeConflict, "vlan", "%s is missing from VLAN %d's broadcast list", p.HostIf, p.VLAN)
		}
		if err := checkAttached(linkPin(s.dir, "port", p.HostIndex), p.HostIndex, p.HostIf); err != nil {
			return err
		}
		return checkAttached(linkPin(s.dir, "trunk", p.TrunkIndex), p.TrunkIndex, "trunk "+p.Trunk)
	})
}

// checkAttached checks that the pinned link is attached to the device and that the device's TCX
// ingress runs its program.
func checkAttached(pin string, ifindex int, what string) error {
	id, err := attachedID(pin, ifindex)
	if err != nil {
		return err
	}
	if id == 0 {
		return model.Errorf(model.CodeNotFound, "vlan", "%s has no VLAN program attached", what)
	}
	ids, err := ingressPrograms(ifindex)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, id) {
		return model.Errorf(model.CodeConflict, "vlan", "%s's TCX ingress runs %v, not the VLAN program %d", what, ids, id)
	}
	return nil
}

// Status is what the datapath reports about itself.
type Status struct {
	// Dir is the node's pin directory.
	Dir string
	// Ports is how many pod veths are attached.
	Ports int
}

// Status reads the node's state back.
func (d *Datapath) Status() (Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var st Status
	err := d.do(func() error {
		s, err := d.loaded(false)
		if err != nil {
			return err
		}
		st.Dir = d.dir
		if s == nil {
			return nil
		}
		all, err := s.allPorts()
		st.Ports = len(all)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("reading the VLAN datapath: %w", err)
	}
	return st, nil
}

// PortState is one port as the datapath's maps hold it.
type PortState struct {
	HostIndex  int
	TrunkIndex int
	VLAN       uint16
	MAC        net.HardwareAddr
}

// Ports lists the node's ports, sorted by HostIndex; none when the node has no state.
func (d *Datapath) Ports() ([]PortState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []PortState
	err := d.do(func() error {
		s, err := d.loaded(false)
		if err != nil || s == nil {
			return err
		}
		all, err := s.allPorts()
		for host, v := range all {
			out = append(out, PortState{HostIndex: int(host), TrunkIndex: int(v.Trunk), VLAN: v.VID, MAC: net.HardwareAddr(v.MAC[:])})
		}
		return err
	})
	slices.SortFunc(out, func(a, b PortState) int { return a.HostIndex - b.HostIndex })
	return out, err
}

// IngressPrograms returns the IDs of the programs on the TCX ingress of the node's device ifindex.
func (d *Datapath) IngressPrograms(ifindex int) ([]ebpf.ProgramID, error) {
	var ids []ebpf.ProgramID
	err := d.do(func() error {
		var err error
		ids, err = ingressPrograms(ifindex)
		return err
	})
	return ids, err
}
