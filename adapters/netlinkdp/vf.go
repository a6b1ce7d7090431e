package netlinkdp

import (
	"bytes"
	"fmt"
	"net"

	"github.com/knitter-cni/knitter/adapters/sriov"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
)

// vfOwner names a pod link in the VF pool's record.
func vfOwner(pod plan.Pod, l plan.Link) string { return pod.ContainerID + "/" + l.PodIf }

// attachVF takes a VF of the PF l.Uplink, programs its MAC and VLAN on the PF, moves its netdev into
// the pod and renames it l.PodIf.
func (d *Dataplane) attachVF(p *nsHandle, pod plan.Pod, l plan.Link) (undo func() error, err error) {
	if d.vfs == nil {
		return nil, model.Invalid("type", "this agent has no SR-IOV VF pool; start knitter-agent with SR-IOV enabled to attach sriov networks")
	}
	owner := vfOwner(pod, l)
	if vf, held := d.vfs.Held(owner); held {
		link, err := lookup(p.h, l.PodIf)
		if err != nil {
			return nil, fmt.Errorf("finding %s in the pod: %w", l.PodIf, err)
		}
		if link != nil {
			return nil, configurePodIf(p.h, link, l, 0, false)
		}
		// Held but not in the pod: an earlier attempt died half-way; start over with this VF.
		if err := d.giveBack(p, vf, owner, l.PodIf); err != nil {
			return nil, fmt.Errorf("recovering VF %d of %s: %w", vf.Index, vf.PF, err)
		}
	}
	if link, err := lookup(p.h, l.PodIf); err != nil || link != nil {
		if err != nil {
			return nil, fmt.Errorf("finding %s in the pod: %w", l.PodIf, err)
		}
		return nil, errNotOurs(l, p.path)
	}
	vf, err := d.vfs.Take(l.Uplink, owner, d.onNode)
	if err != nil {
		return nil, err
	}
	undo = func() error { return d.giveBack(p, vf, owner, l.PodIf) }
	var mac []byte
	if !l.MAC.IsZero() {
		mac = l.MAC[:]
	}
	if err := d.vfConfig.Configure(vf, mac, l.VLAN); err != nil {
		return undo, err
	}
	link, err := d.node.h.LinkByName(vf.Netdev)
	if err != nil {
		return undo, fmt.Errorf("finding VF netdev %s: %w", vf.Netdev, err)
	}
	if err := d.node.h.LinkSetDown(link); err != nil {
		return undo, fmt.Errorf("setting VF netdev %s down: %w", vf.Netdev, err)
	}
	if err := d.node.h.LinkSetNsFd(link, int(p.fd)); err != nil {
		return undo, fmt.Errorf("moving VF netdev %s into the pod: %w", vf.Netdev, err)
	}
	if link, err = p.h.LinkByName(vf.Netdev); err != nil {
		return undo, fmt.Errorf("finding VF netdev %s in the pod: %w", vf.Netdev, err)
	}
	if vf.Netdev != l.PodIf {
		if err := p.h.LinkSetName(link, l.PodIf); err != nil {
			return undo, fmt.Errorf("renaming VF netdev %s to %s: %w", vf.Netdev, l.PodIf, err)
		}
		link.Attrs().Name = l.PodIf
	}
	return undo, configurePodIf(p.h, link, l, 0, true)
}

// onNode reports whether a netdev is in the node's namespace, i.e. not in some pod, and its MAC.
func (d *Dataplane) onNode(netdev string) (net.HardwareAddr, bool) {
	link, err := lookup(d.node.h, netdev)
	if err != nil || link == nil {
		return nil, false
	}
	return link.Attrs().HardwareAddr, true
}

func (d *Dataplane) detachVF(p *nsHandle, pod plan.Pod, l plan.Link) error {
	if d.vfs == nil {
		return nil
	}
	owner := vfOwner(pod, l)
	vf, held := d.vfs.Held(owner)
	if !held {
		return nil // never taken, or already given back
	}
	return d.giveBack(p, vf, owner, l.PodIf)
}

// giveBack returns a VF's netdev to the node under its original name, clears its VLAN and releases
// it. p is nil when the pod's namespace is gone: the kernel has then moved the netdev back itself,
// under the pod's name or a "devN" one, which sysfs tells.
func (d *Dataplane) giveBack(p *nsHandle, vf sriov.VF, owner, podIf string) error {
	if p != nil {
		if err := d.vfToNode(p, vf, podIf); err != nil {
			return err
		}
	}
	cur, err := d.vfs.CurrentNetdev(vf)
	if err != nil {
		return err
	}
	if cur != "" {
		link, err := lookup(d.node.h, cur)
		if err != nil {
			return fmt.Errorf("finding VF netdev %s: %w", cur, err)
		}
		if link != nil {
			if err := d.restoreVFNetdev(link, cur, vf); err != nil {
				return err
			}
		}
	}
	if err := d.vfConfig.Reset(vf); err != nil {
		return err
	}
	return d.vfs.Release(owner)
}

// vfToNode moves the VF netdev from the pod (where it is podIf, or still its own name when the
// attach died before the rename) back to the node, renaming it first so its name is free there.
func (d *Dataplane) vfToNode(p *nsHandle, vf sriov.VF, podIf string) error {
	var link netlink.Link
	for _, name := range []string{podIf, vf.Netdev} {
		l, err := lookup(p.h, name)
		if err != nil {
			return fmt.Errorf("finding %s in the pod: %w", name, err)
		}
		if l != nil {
			link = l
			break
		}
	}
	if link == nil {
		return nil
	}
	if err := p.h.LinkSetDown(link); err != nil {
		return fmt.Errorf("setting %s down: %w", link.Attrs().Name, err)
	}
	if link.Attrs().Name != vf.Netdev {
		if err := p.h.LinkSetName(link, vf.Netdev); err != nil {
			return fmt.Errorf("renaming %s back to %s: %w", link.Attrs().Name, vf.Netdev, err)
		}
	}
	if err := p.h.LinkSetNsFd(link, int(d.node.fd)); err != nil {
		return fmt.Errorf("moving VF netdev %s back to the node: %w", vf.Netdev, err)
	}
	return nil
}

// restoreVFNetdev gives a VF's netdev, back on the node as cur, its original name and MAC.
func (d *Dataplane) restoreVFNetdev(link netlink.Link, cur string, vf sriov.VF) error {
	if cur != vf.Netdev {
		if err := d.node.h.LinkSetDown(link); err != nil {
			return fmt.Errorf("setting VF netdev %s down: %w", cur, err)
		}
		if err := d.node.h.LinkSetName(link, vf.Netdev); err != nil {
			return fmt.Errorf("renaming VF netdev %s back to %s: %w", cur, vf.Netdev, err)
		}
	}
	if vf.MAC == "" {
		return nil // taken before the pool recorded MACs
	}
	mac, err := net.ParseMAC(vf.MAC)
	if err != nil {
		return fmt.Errorf("VF %d of PF %s has MAC %q in the allocation record: %w", vf.Index, vf.PF, vf.MAC, err)
	}
	if bytes.Equal(link.Attrs().HardwareAddr, mac) {
		return nil
	}
	if err := d.node.h.LinkSetHardwareAddr(link, mac); err != nil {
		return fmt.Errorf("restoring MAC %s of VF netdev %s: %w", mac, vf.Netdev, err)
	}
	return nil
}
