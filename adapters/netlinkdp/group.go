package netlinkdp

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Detach deletes an attachment's pod interfaces with one RTM_DELLINK for their interface group
// instead of one per link: the kernel then unregisters them (and the veths' node ends) as one batch
// and waits for one RCU grace period instead of one per link, which makes Detach of a 4-link pod
// about four times faster. Each attachment (container and its interfaces: Multus makes one per
// network) gets its own group, and the batch is used only when every link in the group is one of
// the plan's, so nothing else in the pod is ever deleted.

// attachmentGroup is the interface group of an attachment's veth and macvlan pod ends: a hash of
// the container and its interface names, never 0 (the default group of every other link).
func attachmentGroup(pod plan.Pod) uint32 {
	h := fnv.New32a()
	h.Write([]byte(pod.ContainerID))
	for _, l := range pod.Links {
		h.Write([]byte{0})
		h.Write([]byte(l.PodIf))
	}
	if g := h.Sum32(); g != 0 {
		return g
	}
	return 1
}

// inGroup reports whether a plan link's pod end is deleted with the group: VFs are given back, not
// deleted, so they never join it.
func inGroup(l plan.Link) bool { return l.Type != model.SRIOV }

// deleteGroup deletes the attachment's grouped pod interfaces in one request, when every link of the
// group in the pod is a veth or macvlan the plan names; otherwise it leaves them to the per-link path.
func deleteGroup(p *nsHandle, pod plan.Pod) error {
	group := attachmentGroup(pod)
	var names []string
	for _, l := range pod.Links {
		if inGroup(l) {
			names = append(names, l.PodIf)
		}
	}
	links, err := retryDump(p.h.LinkList)
	if err != nil {
		return fmt.Errorf("listing the pod's interfaces: %w", err)
	}
	found := 0
	for _, l := range links {
		if l.Attrs().Group != group {
			continue
		}
		if !slices.Contains(names, l.Attrs().Name) || (l.Type() != "veth" && l.Type() != "macvlan") {
			return nil // not only ours: delete by name
		}
		found++
	}
	if found == 0 {
		return nil
	}
	sock, err := nl.GetNetlinkSocketAt(p.fd, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("opening a netlink socket in the pod: %w", err)
	}
	defer sock.Close()
	return deleteGroupVia(sock, group)
}

// deleteGroupVia sends the RTM_DELLINK of interface group through sock, a netlink socket in the
// pod's namespace.
func deleteGroupVia(sock *nl.NetlinkSocket, group uint32) error {
	req := nl.NewNetlinkRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_GROUP, nl.Uint32Attr(group)))
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("deleting interface group %d: %w", group, err)
	}
	return nil
}

// setGroup puts a pod interface in its attachment's group; 0 leaves it alone.
func setGroup(h *netlink.Handle, link netlink.Link, group uint32) error {
	if group == 0 || link.Attrs().Group == group {
		return nil
	}
	if err := h.LinkSetGroup(link, int(group)); err != nil {
		return fmt.Errorf("setting the interface group of %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// Quiesce implements agent.Quiescer: it takes the attachment's pod interfaces out of reach with a
// few cheap requests, none of which waits for an RCU grace period (the group's RTM_DELLINK does:
// 20-30 ms on the benchmark VM).
//
//   - A veth's pod end goes down, which takes the carrier off its node end: the bridge disables
//     that port and forgets what it learned there, and nothing passes the pair any more.
//   - A macvlan stays up (taking one down waits for a full RCU grace period, ~10 ms, that its
//     unregister skips; so does changing its MAC, 6.5 ms measured) and loses every address, and
//     with them its routes: it answers no ARP or neighbour solicitation for the port's addresses and
//     sends nothing. It keeps the port's MAC until Detach, so its parent still hands it the frames
//     for that MAC (dropped: no address) and the kernel refuses another macvlan with that MAC on the
//     same parent (EADDRINUSE, the ADD fails and is retried) rather than letting two share it.
//
// Detach removes the links later. It quiesces only plans of overlay and macvlan links whose group
// holds exactly the plan's pod interfaces (vlan ports live in the VLAN datapath and VFs go back to
// their PF: those plans are detached synchronously), and says false for any other. It keeps a
// netlink socket in the pod's namespace for Detach (hold).
func (d *Dataplane) Quiesce(ctx context.Context, pod plan.Pod) (bool, error) {
	names := make([]string, 0, len(pod.Links))
	for _, l := range pod.Links {
		if l.Type != model.Overlay && l.Type != model.MACVLAN {
			return false, nil
		}
		names = append(names, l.PodIf)
	}
	if len(names) == 0 {
		return false, nil
	}
	p, err := openNetns(pod.Netns)
	if err != nil {
		return false, nil // gone or not enterable: Detach cleans the node side
	}
	defer p.close()
	if d.notOwn(p) != nil {
		return false, nil
	}
	group := attachmentGroup(pod)
	links, err := retryDump(p.h.LinkList)
	if err != nil {
		return false, fmt.Errorf("listing the pod's interfaces: %w", err)
	}
	var ours []netlink.Link
	for _, l := range links {
		if l.Attrs().Group != group {
			continue
		}
		if !slices.Contains(names, l.Attrs().Name) || (l.Type() != "veth" && l.Type() != "macvlan") {
			return false, nil // not only ours
		}
		ours = append(ours, l)
	}
	if len(ours) != len(names) {
		return false, nil // some missing or outside the group: the per-link path removes them now
	}
	for _, l := range ours {
		if err := quiesceLink(p.h, l); err != nil {
			return false, fmt.Errorf("taking %s out of reach: %w", l.Attrs().Name, err)
		}
	}
	sock, err := nl.GetNetlinkSocketAt(p.fd, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return false, fmt.Errorf("opening a netlink socket in the pod: %w", err)
	}
	d.hold(pod, sock)
	return true, nil
}

// quiesceLink takes one pod interface out of reach (see Quiesce).
func quiesceLink(h *netlink.Handle, l netlink.Link) error {
	if l.Type() == "veth" {
		return h.LinkSetDown(l)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		return fmt.Errorf("listing its addresses: %w", err)
	}
	for _, a := range addrs {
		if err := h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("removing address %s: %w", a.IPNet, err)
		}
	}
	return nil
}

// heldKey names a quiesced attachment's held socket.
func heldKey(pod plan.Pod) string { return fmt.Sprintf("%s/%d", pod.ContainerID, attachmentGroup(pod)) }

// hold keeps sock, Quiesce's netlink socket in pod's namespace, for Detach: the socket keeps the
// namespace alive without holding its path, so the runtime can unmount and remove the path after the
// DEL while the links still wait for their RTM_DELLINK (a file open on the path's bind mount would
// make a plain umount fail with EBUSY).
func (d *Dataplane) hold(pod plan.Pod, sock *nl.NetlinkSocket) {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	k := heldKey(pod)
	if old := d.held[k]; old != nil {
		old.Close()
	}
	if d.held == nil {
		d.held = map[string]*nl.NetlinkSocket{}
	}
	d.held[k] = sock
}

// takeHeld returns and forgets the socket Quiesce held for pod, nil if there is none (never
// quiesced, or quiesced by an earlier process).
func (d *Dataplane) takeHeld(pod plan.Pod) *nl.NetlinkSocket {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	k := heldKey(pod)
	sock := d.held[k]
	delete(d.held, k)
	return sock
}

// closeHeld closes every held socket (Close): namespaces nothing else holds then go, with their links.
func (d *Dataplane) closeHeld() {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	for k, sock := range d.held {
		sock.Close()
		delete(d.held, k)
	}
}
