package nodebench

import (
	"context"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// floorGroup is the interface group the floor puts a pod's interfaces in, so that one request
// deletes them all, as the dataplane does.
const floorGroup = 4343

// floor builds the links of one of the agent's plans with nothing but the netlink library calls
// that make them — no process, no socket, no checkpoint, no lookups beyond what the calls need, no
// rollback — on the Knitter rig's node, whose bridges, VXLAN devices and NICs it shares. No
// implementation of the same links can do less, so its cost is the floor under Knitter's.
type floor struct {
	node     *netNS
	links    []plan.Link
	bridges  map[string]int
	parentIx int
}

// newFloor takes the links of tmpl (a plan the agent built and checked), with node-end names and
// MACs of its own so that they never clash with a Knitter pod's (the manager hands the template's
// MACs out again once its pod is gone, and two macvlans on one parent cannot share a MAC).
func newFloor(node *netNS, tmpl plan.Pod) (*floor, error) {
	f := &floor{node: node, bridges: map[string]int{}}
	for i, l := range tmpl.Links {
		// Locally administered and unicast; the manager's pools count up from 1 under a two-byte
		// prefix of their network's, so a clash needs a prefix of 0a:f1 and a pool's first MACs.
		l.MAC = model.MAC{0x0a, 0xf1, 0x00, 0x00, 0x00, byte(i + 1)}
		if l.Bridge != "" {
			l.HostIf = plan.HostIfName("floor", l.PodIf)
			br, err := node.H.LinkByName(l.Bridge)
			if err != nil {
				return nil, fmt.Errorf("bridge %s: %w", l.Bridge, err)
			}
			f.bridges[l.Bridge] = br.Attrs().Index
		}
		f.links = append(f.links, l)
	}
	parent, err := node.H.LinkByName(parentNIC)
	if err != nil {
		return nil, err
	}
	f.parentIx = parent.Attrs().Index
	return f, nil
}

// plan is the pod the floor builds in the namespace at netnsPath.
func (f *floor) plan(netnsPath string) plan.Pod {
	return plan.Pod{ContainerID: "floor", Netns: netnsPath, Links: f.links}
}

// add makes each link (the veth with its node end up on the bridge and its pod end created in the
// pod; the macvlan created in the pod), then its pod side: group, up, address, routes.
func (f *floor) add(_ context.Context, p *pod) error {
	fd, err := netns.GetFromPath(p.ns.Path())
	if err != nil {
		return err
	}
	defer fd.Close()
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, l := range f.links {
		if err := f.addLink(h, fd, l); err != nil {
			return fmt.Errorf("%s: %w", l.PodIf, err)
		}
	}
	return nil
}

func (f *floor) addLink(h *netlink.Handle, fd netns.NsHandle, l plan.Link) error {
	mac := net.HardwareAddr(l.MAC[:])
	if l.Bridge != "" {
		veth := &netlink.Veth{
			LinkAttrs: netlink.LinkAttrs{Name: l.HostIf, MTU: l.MTU, MasterIndex: f.bridges[l.Bridge], Flags: net.FlagUp},
			PeerName:  l.PodIf, PeerHardwareAddr: mac, PeerMTU: uint32(l.MTU), PeerNamespace: netlink.NsFd(fd),
		}
		if err := f.node.H.LinkAdd(veth); err != nil {
			return err
		}
	} else {
		mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: l.PodIf, MTU: l.MTU, ParentIndex: f.parentIx,
			HardwareAddr: mac, Group: floorGroup, Namespace: netlink.NsFd(fd)}, Mode: netlink.MACVLAN_MODE_BRIDGE}
		if err := f.node.H.LinkAdd(mv); err != nil {
			return err
		}
	}
	link, err := h.LinkByName(l.PodIf)
	if err != nil {
		return err
	}
	if l.Bridge != "" {
		// A veth's peer takes no group when it is created; the pod end joins it here.
		if err := h.LinkSetGroup(link, floorGroup); err != nil {
			return err
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		return err
	}
	for _, a := range l.Addrs {
		ip := &net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), a.Addr().BitLen())}
		if err := h.AddrAdd(link, &netlink.Addr{IPNet: ip}); err != nil {
			return err
		}
	}
	for _, r := range l.Routes {
		dst := &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())}
		if err := h.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Gw: r.Gateway.AsSlice()}); err != nil {
			return fmt.Errorf("route %s via %s: %w", r.Dst, r.Gateway, err)
		}
	}
	return nil
}

// del deletes the pod's interfaces with one request for their group; a veth's node end goes with
// its pod end.
func (f *floor) del(_ context.Context, p *pod) error {
	fd, err := netns.GetFromPath(p.ns.Path())
	if err != nil {
		return err
	}
	defer fd.Close()
	sock, err := nl.GetNetlinkSocketAt(fd, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer sock.Close()
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(floorGroup)))
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("deleting the pod's interface group: %w", err)
	}
	return nil
}
