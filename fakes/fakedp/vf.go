package fakedp

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

func vfOwner(pod plan.Pod, l plan.Link) string { return pod.ContainerID + "/" + l.PodIf }

func (f *Fake) attachVF(pod plan.Pod, space map[string]*Link, l plan.Link) (undo func(), err error) {
	vfs, ok := f.pfs[l.Uplink]
	if !ok {
		if _, err := f.uplink(l.Uplink); err != nil {
			return nil, err
		}
		return nil, model.Invalid("uplink", "%q is not an SR-IOV PF; use a NIC that has VFs", l.Uplink)
	}
	owner := vfOwner(pod, l)
	if v := held(vfs, owner); v != nil {
		if link := space[l.PodIf]; link != nil && link.vf == v {
			return nil, f.configure(space, link, l, 0)
		}
		if err := f.giveBack(space, v); err != nil {
			return nil, fmt.Errorf("recovering VF %d of %s: %w", v.index, v.pf, err)
		}
	}
	if space[l.PodIf] != nil {
		return nil, errNotOurs(l, pod.Netns)
	}
	var v *vf
	var link *Link
	busy, absent := 0, 0
	for _, c := range vfs {
		switch cl := f.vfLink(node, c); {
		case c.holder != "":
			busy++
		case cl == nil:
			absent++
		case v == nil:
			v, link = c, cl
		}
	}
	if v == nil {
		return nil, model.Errorf(model.CodeExhausted, "uplink",
			"PF %s has no free VF: %d enabled, %d held by pods, %d not in the node's namespace; enable more in sriov_numvfs or detach a pod", l.Uplink, len(vfs), busy, absent)
	}
	v.holder, v.mac, v.vlan = owner, l.MAC, l.VLAN
	undo = func() { _ = f.giveBack(space, v) }
	if err := f.fault(OpMoveVF); err != nil {
		return undo, fmt.Errorf("moving VF netdev %s into the pod: %w", link.Name, err)
	}
	delete(f.spaces[node], link.Name)
	link.Name, link.Up = l.PodIf, false
	space[link.Name] = link
	return undo, f.configure(space, link, l, 0)
}

func held(vfs []*vf, owner string) *vf {
	for _, v := range vfs {
		if v.holder == owner {
			return v
		}
	}
	return nil
}

// vfLink finds the netdev of v in a namespace.
func (f *Fake) vfLink(netns string, v *vf) *Link {
	for _, l := range f.spaces[netns] {
		if l.vf == v {
			return l
		}
	}
	return nil
}

// giveBack moves v's netdev (from space, when it is still there) to the node under its original
// name, clears its VLAN and frees it.
func (f *Fake) giveBack(space map[string]*Link, v *vf) error {
	link := f.vfLink(node, v)
	if link == nil && space != nil {
		for name, l := range space {
			if l.vf == v {
				link = l
				delete(space, name)
				break
			}
		}
	} else if link != nil {
		delete(f.spaces[node], link.Name)
	}
	if link != nil {
		if other := f.spaces[node][v.netdev]; other != nil {
			f.spaces[node][link.Name] = link
			return fmt.Errorf("renaming VF netdev %s back to %s: file exists", link.Name, v.netdev)
		}
		link.Name, link.Up, link.Addrs, link.Routes = v.netdev, false, nil, nil
		f.spaces[node][link.Name] = link
	}
	v.holder, v.vlan = "", 0
	return nil
}
