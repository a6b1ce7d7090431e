package netlinkdp

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func (d *Dataplane) attachOverlay(p *nsHandle, l plan.Link, group uint32) (func() error, error) {
	if l.VXLAN == nil || l.Bridge == "" {
		return nil, model.Invalid("vxlan", "an overlay link needs its bridge and VXLAN device; the plan is incomplete")
	}
	br, err := d.overlayPlumbing(l)
	if err != nil {
		return nil, err
	}
	return d.attachVeth(p, l, br, nil, group)
}

// overlayPlumbing ensures the network's bridge and VXLAN device, the VXLAN on the bridge, and a flood
// entry for each peer in the plan (adding only: SyncPeers is what removes peers).
func (d *Dataplane) overlayPlumbing(l plan.Link) (netlink.Link, error) {
	d.nodeMu.Lock()
	defer d.nodeMu.Unlock()
	br, err := d.ensureBridge(l.Bridge, l.MTU)
	if err != nil {
		return nil, err
	}
	vx, err := d.ensureVXLAN(*l.VXLAN, l.MTU)
	if err != nil {
		return nil, err
	}
	if vx.Attrs().MasterIndex != br.Attrs().Index {
		if err := d.node.h.LinkSetMaster(vx, br); err != nil {
			return nil, fmt.Errorf("adding vxlan %s to bridge %s: %w", l.VXLAN.Name, l.Bridge, err)
		}
	}
	if !isUp(vx) {
		if err := d.node.h.LinkSetUp(vx); err != nil {
			return nil, fmt.Errorf("setting vxlan %s up: %w", l.VXLAN.Name, err)
		}
	}
	if err := d.syncFDB(vx, l.VXLAN.Peers, false); err != nil {
		return nil, fmt.Errorf("vxlan %s: %w", l.VXLAN.Name, err)
	}
	return br, nil
}

func (d *Dataplane) ensureVXLAN(vx plan.VXLAN, mtu int) (netlink.Link, error) {
	h := d.node.h
	link, err := lookup(h, vx.Name)
	if err != nil {
		return nil, fmt.Errorf("finding vxlan %s: %w", vx.Name, err)
	}
	if link == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = vx.Name, mtu
		port := vx.Port
		if port == 0 {
			port = plan.VXLANPort
		}
		dev := &netlink.Vxlan{LinkAttrs: attrs, VxlanId: int(vx.VNI), Port: port, Learning: false}
		if vx.Local.IsValid() {
			dev.SrcAddr = net.IP(vx.Local.AsSlice())
		}
		if vx.Device != "" {
			under, err := lookup(h, vx.Device)
			if err != nil {
				return nil, fmt.Errorf("finding VTEP device %s: %w", vx.Device, err)
			}
			if under == nil {
				return nil, model.Errorf(model.CodeNotFound, "vxlan.device",
					"VTEP device %s is not on this node; start knitter-agent with the NIC that carries its VTEP address", vx.Device)
			}
			dev.VtepDevIndex = under.Attrs().Index
		}
		if err := h.LinkAdd(dev); err != nil {
			return nil, fmt.Errorf("creating vxlan %s: %w", vx.Name, err)
		}
		if link, err = h.LinkByName(vx.Name); err != nil {
			return nil, fmt.Errorf("finding new vxlan %s: %w", vx.Name, err)
		}
	}
	got, ok := link.(*netlink.Vxlan)
	if !ok || got.VxlanId != int(vx.VNI) {
		return nil, model.Errorf(model.CodeConflict, "vxlan",
			"%s on the node is not the VXLAN device of VNI %d; remove it", vx.Name, vx.VNI)
	}
	return got, nil
}

// SyncPeers implements agent.Dataplane. A VXLAN device that does not exist yet (no pod of the
// network on this node) is no error: its first Attach programs the peers of its plan.
func (d *Dataplane) SyncPeers(ctx context.Context, vx plan.VXLAN) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.nodeMu.Lock()
	defer d.nodeMu.Unlock()
	link, err := lookup(d.node.h, vx.Name)
	if err != nil {
		return fmt.Errorf("finding vxlan %s: %w", vx.Name, err)
	}
	if link == nil {
		return nil
	}
	if err := d.syncFDB(link, vx.Peers, true); err != nil {
		return fmt.Errorf("vxlan %s: %w", vx.Name, err)
	}
	return nil
}

// syncFDB adds an all-zero-MAC (flood) entry for each peer VTEP and, when exact, removes the flood
// entries of VTEPs that are not peers.
func (d *Dataplane) syncFDB(vx netlink.Link, peers []netip.Addr, exact bool) error {
	h := d.node.h
	idx := vx.Attrs().Index
	if !exact && d.knowsPeers(idx, peers) {
		return nil
	}
	entries, err := retryDump(func() ([]netlink.Neigh, error) { return h.NeighList(idx, unix.AF_BRIDGE) })
	if err != nil {
		return fmt.Errorf("listing forwarding entries: %w", err)
	}
	have := map[netip.Addr]bool{}
	for _, e := range entries {
		if e.LinkIndex == idx && e.IP != nil && isZeroMAC(e.HardwareAddr) {
			have[addrOf(e.IP)] = true
		}
	}
	want := map[netip.Addr]bool{}
	for _, peer := range peers {
		want[peer] = true
		if have[peer] {
			continue
		}
		if err := h.NeighAppend(floodEntry(idx, peer)); err != nil {
			return fmt.Errorf("adding forwarding entry to %s: %w", peer, err)
		}
	}
	if !exact {
		for peer := range have {
			want[peer] = true
		}
		d.setFlood(idx, want)
		return nil
	}
	for peer := range have {
		if want[peer] {
			continue
		}
		if err := h.NeighDel(floodEntry(idx, peer)); err != nil {
			return fmt.Errorf("removing forwarding entry to %s: %w", peer, err)
		}
	}
	d.setFlood(idx, want)
	return nil
}

// knowsPeers reports whether every peer's flood entry on device idx is known to be programmed.
func (d *Dataplane) knowsPeers(idx int, peers []netip.Addr) bool {
	known := d.flood[idx]
	for _, p := range peers {
		if !known[p] {
			return false
		}
	}
	return known != nil
}

func (d *Dataplane) setFlood(idx int, peers map[netip.Addr]bool) {
	if d.flood == nil {
		d.flood = map[int]map[netip.Addr]bool{}
	}
	d.flood[idx] = peers
}

func floodEntry(ifindex int, peer netip.Addr) *netlink.Neigh {
	return &netlink.Neigh{
		LinkIndex:    ifindex,
		Family:       unix.AF_BRIDGE,
		State:        netlink.NUD_PERMANENT | netlink.NUD_NOARP,
		Flags:        netlink.NTF_SELF,
		IP:           net.IP(peer.AsSlice()),
		HardwareAddr: make(net.HardwareAddr, 6),
	}
}

func isZeroMAC(m net.HardwareAddr) bool {
	for _, b := range m {
		if b != 0 {
			return false
		}
	}
	return len(m) == 6
}
