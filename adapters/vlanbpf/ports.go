package vlanbpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/vishvananda/netlink"
)

// Attach adds a pod veth to its VLAN: its entries in the maps, the port program on its ingress and
// the trunk program on the trunk's. It converges: a port already attached as asked is left as it
// is. On failure it removes what it added for this port.
func (d *Datapath) Attach(p Port) error {
	if p.VLAN < 1 || p.VLAN > model.MaxVLAN {
		return model.Invalid("vlan", "%d is out of range; the VLAN datapath tags 1-%d", p.VLAN, model.MaxVLAN)
	}
	if len(p.MAC) != 6 {
		return model.Invalid("mac", "%q is not an Ethernet MAC", p.MAC)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.do(func() error {
		s, err := d.loaded(true)
		if err != nil {
			return err
		}
		if err := s.addEntries(p); err != nil {
			return errors.Join(err, d.removePort(s, uint32(p.HostIndex)))
		}
		if err := ensureLink(linkPin(s.dir, "port", p.HostIndex), p.HostIndex, s.portProg); err != nil {
			return errors.Join(fmt.Errorf("%s: %w", p.HostIf, err), d.removePort(s, uint32(p.HostIndex)))
		}
		if err := ensureLink(linkPin(s.dir, "trunk", p.TrunkIndex), p.TrunkIndex, s.trunkProg); err != nil {
			return errors.Join(fmt.Errorf("trunk %s: %w", p.Trunk, err), d.removePort(s, uint32(p.HostIndex)))
		}
		return nil
	})
}

// addEntries writes the port's ports, fdb and flood entries, replacing those of an earlier
// attachment of the same veth to another VLAN, trunk or MAC.
func (s *state) addEntries(p Port) error {
	host := uint32(p.HostIndex)
	want := p.value()
	var old portValue
	switch err := s.ports.Lookup(host, &old); {
	case err == nil && old == want:
	case err == nil:
		if err := s.removeEntries(host, old); err != nil {
			return err
		}
	case !errors.Is(err, ebpf.ErrKeyNotExist):
		return fmt.Errorf("reading port %d: %w", host, err)
	}
	key := fdbKey(want)
	var owner uint32
	if err := s.fdb.Lookup(key, &owner); err == nil && owner != host {
		return model.Errorf(model.CodeConflict, "mac",
			"MAC %s is already on VLAN %d of trunk %s (ifindex %d); two pods of one VLAN need different MACs", p.MAC, p.VLAN, p.Trunk, owner)
	}
	if err := s.ports.Put(host, want); err != nil {
		return fmt.Errorf("writing port %s: %w", p.HostIf, err)
	}
	if err := s.fdb.Put(key, host); err != nil {
		return fmt.Errorf("writing the MAC entry of %s: %w", p.HostIf, err)
	}
	slots, err := s.slots(want.Trunk, want.VID)
	if err != nil {
		return err
	}
	for _, ifindex := range slots {
		if ifindex == host {
			return nil
		}
	}
	if len(slots) >= MaxPortsPerVLAN {
		return model.Errorf(model.CodeExhausted, "vlan", "VLAN %d of trunk %s already has %d pods on this node, the most it takes", p.VLAN, p.Trunk, MaxPortsPerVLAN)
	}
	if err := s.flood.Put(floodKey{Trunk: want.Trunk, VID: want.VID, Slot: uint16(len(slots))}, host); err != nil {
		return fmt.Errorf("writing the flood entry of %s: %w", p.HostIf, err)
	}
	return nil
}

// slots returns the VLAN's flood list on a trunk, in slot order.
func (s *state) slots(trunk uint32, vid uint16) ([]uint32, error) {
	var out []uint32
	for slot := range MaxPortsPerVLAN {
		var ifindex uint32
		err := s.flood.Lookup(floodKey{Trunk: trunk, VID: vid, Slot: uint16(slot)}, &ifindex)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the flood list of VLAN %d: %w", vid, err)
		}
		out = append(out, ifindex)
	}
	return out, nil
}

// removeEntries deletes a port's map entries; the VLAN's flood list stays dense (the last slot
// moves into the hole).
func (s *state) removeEntries(host uint32, v portValue) error {
	var owner uint32
	key := fdbKey(v)
	if err := s.fdb.Lookup(key, &owner); err == nil && owner == host {
		if err := s.fdb.Delete(key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("deleting the MAC entry of port %d: %w", host, err)
		}
	}
	slots, err := s.slots(v.Trunk, v.VID)
	if err != nil {
		return err
	}
	for i, ifindex := range slots {
		if ifindex != host {
			continue
		}
		last := len(slots) - 1
		if i != last {
			if err := s.flood.Put(floodKey{Trunk: v.Trunk, VID: v.VID, Slot: uint16(i)}, slots[last]); err != nil {
				return fmt.Errorf("compacting the flood list of VLAN %d: %w", v.VID, err)
			}
		}
		if err := s.flood.Delete(floodKey{Trunk: v.Trunk, VID: v.VID, Slot: uint16(last)}); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("deleting the flood entry of port %d: %w", host, err)
		}
		break
	}
	if err := s.ports.Delete(host); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("deleting port %d: %w", host, err)
	}
	return nil
}

// removePort deletes a port's entries and its program.
func (s *state) removePort(host uint32) error {
	var v portValue
	err := s.ports.Lookup(host, &v)
	if err == nil {
		err = s.removeEntries(host, v)
	} else if errors.Is(err, ebpf.ErrKeyNotExist) {
		err = nil
	}
	return errors.Join(err, removeLink(linkPin(s.dir, "port", int(host))))
}

// removePort removes a port and then whatever it leaves unused: its trunk's program when it was the
// trunk's last port, the maps when it was the node's.
func (d *Datapath) removePort(s *state, host uint32) error {
	var v portValue
	hadTrunk := s.ports.Lookup(host, &v) == nil
	if err := s.removePort(host); err != nil {
		return err
	}
	return d.gc(s, hadTrunk, v.Trunk)
}

// gc detaches the trunk's program when no port uses the trunk, and removes the node's maps when no
// port is left at all.
func (d *Datapath) gc(s *state, checkTrunk bool, trunk uint32) error {
	all, err := s.allPorts()
	if err != nil {
		return err
	}
	if checkTrunk {
		used := false
		for _, v := range all {
			used = used || v.Trunk == trunk
		}
		if !used {
			if err := removeLink(linkPin(s.dir, "trunk", int(trunk))); err != nil {
				return err
			}
		}
	}
	if len(all) == 0 {
		d.s = nil
		return s.remove()
	}
	return nil
}

func (s *state) allPorts() (map[uint32]portValue, error) {
	out := map[uint32]portValue{}
	var k uint32
	var v portValue
	it := s.ports.Iterate()
	for it.Next(&k, &v) {
		out[k] = v
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("listing ports: %w", err)
	}
	return out, nil
}

// Prune removes every port whose veth is gone from the node (deleted by Detach, or with its pod's
// namespace), and what they leave unused. Detach calls it after deleting the veth.
func (d *Datapath) Prune() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.do(func() error {
		s, err := d.loaded(false)
		if err != nil || s == nil {
			return err
		}
		all, err := s.allPorts()
		if err != nil {
			return err
		}
		links, err := netlink.LinkList()
		if err != nil {
			return fmt.Errorf("listing the node's links: %w", err)
		}
		live := map[uint32]bool{}
		for _, l := range links {
			live[uint32(l.Attrs().Index)] = true
		}
		var errs []error
		trunks := map[uint32]bool{}
		for host, v := range all {
			if live[host] {
				continue
			}
			trunks[v.Trunk] = true
			errs = append(errs, s.removePort(host))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for trunk := range trunks {
			if err := d.gc(s, true, trunk); err != nil || d.s == nil {
				return err
			}
		}
		return d.gc(s, false, 0)
	})
}
