package fakedp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// ifNameMax is IFNAMSIZ less the terminating NUL: the kernel refuses longer names.
const ifNameMax = 15

// Attach implements agent.Dataplane with the netlink adapter's semantics: node plumbing is created
// when missing and kept, the pod's links converge to the plan, and a failure removes the pod links
// this call created.
func (f *Fake) Attach(ctx context.Context, pod plan.Pod) (err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpAttach); err != nil {
		return err
	}
	if pod.Netns == NodeNetns {
		return model.Invalid("CNI_NETNS", "%s is the node's own network namespace; a pod needs a namespace of its own (the runtime passed the wrong path)", pod.Netns)
	}
	space, err := f.pod(pod.Netns)
	if err != nil {
		return err
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	for _, l := range pod.Links {
		if err = ctx.Err(); err != nil {
			return err
		}
		u, lerr := f.attachLink(pod, space, l)
		if u != nil {
			undo = append(undo, u)
		}
		if lerr != nil {
			err = linkErr(l, lerr)
			return err
		}
	}
	return nil
}

func (f *Fake) attachLink(pod plan.Pod, space map[string]*Link, l plan.Link) (func(), error) {
	switch l.Type {
	case model.Overlay:
		if l.VXLAN == nil || l.Bridge == "" {
			return nil, model.Invalid("vxlan", "an overlay link needs its bridge and VXLAN device; the plan is incomplete")
		}
		br, err := f.ensureBridge(l.Bridge, l.MTU)
		if err != nil {
			return nil, err
		}
		if err := f.ensureVXLAN(*l.VXLAN, l.MTU, br); err != nil {
			return nil, err
		}
		return f.attachVeth(pod.Netns, space, l, br, nil)
	case model.VLAN:
		if l.VLAN < 1 || l.VLAN > model.MaxVLAN {
			return nil, model.Invalid("vlan", "%d is out of range; a vlan link needs a VLAN id 1-%d", l.VLAN, model.MaxVLAN)
		}
		up, err := f.uplink(l.Uplink)
		if err != nil {
			return nil, err
		}
		up.Up = true
		return f.attachVeth(pod.Netns, space, l, nil, func(host *Link) { host.Trunk, host.VLAN = l.Uplink, l.VLAN })
	case model.MACVLAN:
		return f.attachMacvlan(pod.Netns, space, l)
	case model.SRIOV:
		return f.attachVF(pod, space, l)
	}
	return nil, model.Invalid("type", "%q is not a network type this dataplane builds", l.Type)
}

func (f *Fake) ensureBridge(name string, mtu int) (*Link, error) {
	br := f.spaces[node][name]
	if br == nil {
		if err := f.fault(OpCreateBridge); err != nil {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if err := f.newName(node, name); err != nil {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if mtu == 0 {
			mtu = 1500
		}
		br = &Link{Name: name, Kind: "bridge", MTU: mtu}
		f.spaces[node][name] = br
	}
	if br.Kind != "bridge" {
		return nil, model.Errorf(model.CodeConflict, "bridge", "%s on the node is a %s, not a bridge; remove it", name, br.Kind)
	}
	br.Up = true
	return br, nil
}

func (f *Fake) ensureVXLAN(vx plan.VXLAN, mtu int, br *Link) error {
	dev := f.spaces[node][vx.Name]
	if dev == nil {
		if vx.Device != "" && f.spaces[node][vx.Device] == nil {
			return model.Errorf(model.CodeNotFound, "vxlan.device",
				"VTEP device %s is not on this node; start knitter-agent with the NIC that carries its VTEP address", vx.Device)
		}
		if err := f.fault(OpCreateVXLAN); err != nil {
			return fmt.Errorf("creating vxlan %s: %w", vx.Name, err)
		}
		if err := f.newName(node, vx.Name); err != nil {
			return fmt.Errorf("creating vxlan %s: %w", vx.Name, err)
		}
		dev = &Link{Name: vx.Name, Kind: "vxlan", MTU: mtu, VNI: vx.VNI, Local: vx.Local, Device: vx.Device}
		f.spaces[node][vx.Name] = dev
	}
	if dev.Kind != "vxlan" || dev.VNI != vx.VNI {
		return model.Errorf(model.CodeConflict, "vxlan", "%s on the node is not the VXLAN device of VNI %d; remove it", vx.Name, vx.VNI)
	}
	dev.Master, dev.Up = br.Name, true
	dev.FDB = sortedUnion(dev.FDB, vx.Peers)
	return nil
}

func (f *Fake) uplink(name string) (*Link, error) {
	if name == "" {
		return nil, model.Invalid("uplink", "is empty; the network's physical_network names the node NIC")
	}
	up := f.spaces[node][name]
	if up == nil {
		return nil, model.Errorf(model.CodeNotFound, "uplink",
			"NIC %s is not on this node; fix the network's physical_network or map it to a NIC with the agent's --uplink", name)
	}
	return up, nil
}

func (f *Fake) attachVeth(netns string, space map[string]*Link, l plan.Link, br *Link, port func(*Link)) (undo func(), err error) {
	if l.HostIf == "" {
		return nil, model.Invalid("host_if", "is empty; the planner names the node end of every veth")
	}
	pod, host := space[l.PodIf], f.spaces[node][l.HostIf]
	if pod != nil && (pod.Kind != "veth" || host == nil || pod.peer != host || host.peer != pod) {
		return nil, errNotOurs(l, netns)
	}
	if pod == nil && host != nil {
		f.deleteVeth(host) // a leftover whose pod end went with a namespace
	}
	if pod == nil {
		if err := f.fault(OpCreateVeth); err != nil {
			return nil, fmt.Errorf("creating veth %s (pod side %s): %w", l.HostIf, l.PodIf, err)
		}
		if err := f.newName(node, l.HostIf); err != nil {
			return nil, fmt.Errorf("creating veth %s (pod side %s): %w", l.HostIf, l.PodIf, err)
		}
		if err := f.newName(netns, l.PodIf); err != nil {
			return nil, fmt.Errorf("creating veth %s (pod side %s): %w", l.HostIf, l.PodIf, err)
		}
		host = &Link{Name: l.HostIf, Kind: "veth", MTU: l.MTU, peerSpace: netns}
		pod = &Link{Name: l.PodIf, Kind: "veth", MTU: l.MTU, MAC: l.MAC, peerSpace: node}
		host.peer, pod.peer = pod, host
		f.spaces[node][host.Name], space[pod.Name] = host, pod
		undo = func() { f.deleteVeth(host) }
	}
	if br != nil {
		host.Master = br.Name
	}
	host.Up = true
	if port != nil {
		port(host)
	}
	return undo, f.configure(space, pod, l, 0)
}

// deleteVeth deletes both ends of a veth.
func (f *Fake) deleteVeth(end *Link) {
	for _, l := range []*Link{end, end.peer} {
		if l == nil {
			continue
		}
		for _, space := range f.spaces {
			if space[l.Name] == l {
				delete(space, l.Name)
			}
		}
	}
}

func (f *Fake) attachMacvlan(netns string, space map[string]*Link, l plan.Link) (undo func(), err error) {
	parent, err := f.uplink(l.Uplink)
	if err != nil {
		return nil, err
	}
	link := space[l.PodIf]
	if link != nil && (link.Kind != "macvlan" || link.Parent != l.Uplink) {
		return nil, errNotOurs(l, netns)
	}
	if link == nil {
		if err := f.fault(OpCreateMacvlan); err != nil {
			return nil, fmt.Errorf("creating macvlan %s on %s: %w", l.PodIf, l.Uplink, err)
		}
		if err := f.newName(netns, l.PodIf); err != nil {
			return nil, fmt.Errorf("creating macvlan %s on %s: %w", l.PodIf, l.Uplink, err)
		}
		if l.MTU > parent.MTU {
			return nil, fmt.Errorf("creating macvlan %s on %s: MTU %d is above its parent's %d: invalid argument", l.PodIf, l.Uplink, l.MTU, parent.MTU)
		}
		link = &Link{Name: l.PodIf, Kind: "macvlan", MTU: l.MTU, MAC: l.MAC, Parent: l.Uplink}
		space[link.Name] = link
		undo = func() { delete(space, link.Name) }
	}
	return undo, f.configure(space, link, l, parent.MTU)
}

// configure converges a pod interface to the plan, refusing what the kernel refuses: an MTU above a
// macvlan parent's (maxMTU, 0 for none) and a route whose gateway is not on the link.
func (f *Fake) configure(space map[string]*Link, link *Link, l plan.Link, maxMTU int) error {
	if !l.MAC.IsZero() {
		link.MAC = l.MAC
	}
	if l.MTU != 0 && l.MTU != link.MTU {
		if maxMTU != 0 && l.MTU > maxMTU {
			return fmt.Errorf("setting MTU %d on %s: invalid argument", l.MTU, l.PodIf)
		}
		link.MTU = l.MTU
	}
	link.Up = true
	for _, p := range l.Addrs {
		if slices.Contains(link.Addrs, p) {
			continue
		}
		if err := f.fault(OpAddAddr); err != nil {
			return fmt.Errorf("adding address %s to %s: %w", p, l.PodIf, err)
		}
		link.Addrs = append(link.Addrs, p)
	}
	for _, r := range l.Routes {
		if slices.Contains(link.Routes, r) {
			continue
		}
		if err := f.fault(OpAddRoute); err != nil {
			return fmt.Errorf("adding route %s: %w", describeRoute(r), err)
		}
		if r.Gateway.IsValid() && !onLink(link, r.Gateway) {
			return fmt.Errorf("adding route %s: network is unreachable", describeRoute(r))
		}
		link.Routes = slices.DeleteFunc(link.Routes, func(o plan.Route) bool { return o.Dst == r.Dst }) // replace
		link.Routes = append(link.Routes, r)
	}
	return nil
}

// onLink reports whether gw is reachable directly through link: on one of its subnets or on-link
// routes, or IPv6 link-local.
func onLink(link *Link, gw netip.Addr) bool {
	if gw.Is6() && gw.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range link.Addrs {
		if p.Masked().Contains(gw) {
			return true
		}
	}
	for _, r := range link.Routes {
		if !r.Gateway.IsValid() && r.Dst.Contains(gw) {
			return true
		}
	}
	return false
}

// newName checks that name can be created in a namespace, as the kernel would.
func (f *Fake) newName(netns, name string) error {
	if name == "" || len(name) > ifNameMax {
		return fmt.Errorf("interface name %q: numerical result out of range", name)
	}
	if _, taken := f.spaces[netns][name]; taken {
		return fmt.Errorf("interface %s: file exists", name)
	}
	return nil
}

// pod returns the links of a pod's namespace.
func (f *Fake) pod(netns string) (map[string]*Link, error) {
	space, ok := f.spaces[netns]
	if !ok || netns == node {
		return nil, model.Errorf(model.CodeNotFound, "netns",
			"network namespace %s does not exist; the container runtime must pass the sandbox's live namespace", netns)
	}
	return space, nil
}

func errNotOurs(l plan.Link, netns string) error {
	return model.Errorf(model.CodeConflict, "interface",
		"%s already exists in network namespace %s and is not this port's interface; request another interface name", l.PodIf, netns)
}

func linkErr(l plan.Link, err error) error {
	return fmt.Errorf("%s link %s: %w", l.Type, l.PodIf, err)
}

func describeRoute(r plan.Route) string {
	if r.Gateway.IsValid() {
		return r.Dst.String() + " via " + r.Gateway.String()
	}
	return r.Dst.String() + " on-link"
}

// sortedUnion is a ∪ b, sorted and without duplicates: a merge when both are sorted (the device's
// list always is, and a plan's peers are), which every attach of a pod on an overlay runs.
func sortedUnion(a, b []netip.Addr) []netip.Addr {
	if !slices.IsSortedFunc(a, netip.Addr.Compare) || !slices.IsSortedFunc(b, netip.Addr.Compare) {
		out := append(slices.Clone(a), b...)
		slices.SortFunc(out, netip.Addr.Compare)
		return slices.Compact(out)
	}
	if within(b, a) && strictlySorted(a) {
		return a
	}
	out := make([]netip.Addr, 0, max(len(a), len(b)))
	add := func(x netip.Addr) {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := a[i].Compare(b[j]); {
		case c < 0:
			add(a[i])
			i++
		case c > 0:
			add(b[j])
			j++
		default:
			add(a[i])
			i, j = i+1, j+1
		}
	}
	for ; i < len(a); i++ {
		add(a[i])
	}
	for ; j < len(b); j++ {
		add(b[j])
	}
	return out
}

// strictlySorted reports whether as is sorted without duplicates.
func strictlySorted(as []netip.Addr) bool {
	for i := 1; i < len(as); i++ {
		if !as[i-1].Less(as[i]) {
			return false
		}
	}
	return true
}

// within reports whether every address of sorted b is in sorted a.
func within(b, a []netip.Addr) bool {
	i := 0
	for _, x := range b {
		for i < len(a) && a[i].Less(x) {
			i++
		}
		if i == len(a) || a[i] != x {
			return false
		}
	}
	return true
}
