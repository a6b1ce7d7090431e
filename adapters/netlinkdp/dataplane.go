package netlinkdp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/knitter-cni/knitter/adapters/sriov"
	"github.com/knitter-cni/knitter/adapters/vlanbpf"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Options configure a Dataplane.
type Options struct {
	// HostNetns is the path of the node's network namespace, where bridges, VXLAN devices, uplinks
	// and PFs live. Empty means the namespace of the goroutine that calls New (the agent's).
	HostNetns string
	// VFs is the SR-IOV VF pool (a *sriov.Pool); nil makes sriov links fail with a clear error.
	VFs VFPool
	// VFConfig programs VFs on their PF; nil means sriov.Netlink in the node namespace.
	VFConfig sriov.Configurer
	// VLANPinDir is the bpffs directory of the VLAN datapath; empty means vlanbpf.DefaultPinDir.
	VLANPinDir string
}

// Dataplane is the netlink implementation of agent.Dataplane. It is safe for concurrent use by
// different pods; the caller serialises calls for one pod.
type Dataplane struct {
	node     *nsHandle
	vfs      VFPool
	vfConfig sriov.Configurer
	// vlan is the eBPF datapath of vlan links; vlanProbe, set once by probeOnce, says why this
	// kernel cannot run it (nil if it can).
	vlan      *vlanbpf.Datapath
	probeOnce sync.Once
	vlanProbe error
	// nodeID and selfID identify the node's namespace and the agent's, where no pod may go.
	nodeID, selfID nsID
	// hostNetns is Options.HostNetns: the node namespace's path, empty for the agent's own.
	hostNetns string

	// nodeMu serialises changes to shared node plumbing, so that two pods needing the same bridge
	// do not both try to create it.
	nodeMu sync.Mutex
	// flood remembers, per VXLAN device index, the peers whose flood entries this process programmed
	// or found, so that an Attach does not dump the node's whole forwarding table (which grows with
	// every pod on the bridge) when nothing is missing. Guarded by nodeMu. A recreated device has a
	// new index and starts empty; SyncPeers always reads the kernel and resets it.
	flood map[int]map[netip.Addr]bool

	// held are the netlink sockets Quiesce opened in quiesced pods' namespaces, by heldKey, until
	// Detach deletes the links through them.
	heldMu sync.Mutex
	held   map[string]*nl.NetlinkSocket
}

var (
	_ agent.Dataplane = (*Dataplane)(nil)
	_ agent.Quiescer  = (*Dataplane)(nil)
)

// New opens the node namespace and returns a Dataplane acting in it. Close releases it.
func New(opts Options) (*Dataplane, error) {
	var node *nsHandle
	var err error
	if opts.HostNetns == "" {
		node, err = openCurrentNetns()
	} else {
		node, err = openNetns(opts.HostNetns)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the node network namespace: %w", err)
	}
	nodeID, selfID, err := identities(node)
	if err != nil {
		node.close()
		return nil, err
	}
	vlan := vlanbpf.New(vlanbpf.Options{Netns: opts.HostNetns, PinDir: opts.VLANPinDir})
	d := &Dataplane{node: node, vfs: opts.VFs, vfConfig: opts.VFConfig, vlan: vlan, nodeID: nodeID, selfID: selfID, hostNetns: opts.HostNetns}
	if d.vfConfig == nil {
		d.vfConfig = sriov.Netlink{Handle: node.h}
	}
	return d, nil
}

// Close releases the node namespace handle and the VLAN datapath's handles (its pinned programs
// keep forwarding).
func (d *Dataplane) Close() error {
	d.closeHeld()
	d.node.close()
	return d.vlan.Close()
}

// Attach implements agent.Dataplane.
func (d *Dataplane) Attach(ctx context.Context, pod plan.Pod) (err error) {
	p, err := openNetns(pod.Netns)
	if err != nil {
		return err
	}
	defer p.close()
	// CheckNetns refused these paths at ADD; the namespace opened here is the one built in, so it
	// is checked again — a path can name another namespace by now (a bind mount replaced).
	if err := d.notOwn(p); err != nil {
		return err
	}
	var undo []func() error
	// Runs before p.close (deferred later, so earlier): rollback needs the pod's handle.
	defer func() {
		if err == nil {
			return
		}
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](); uerr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back: %w", uerr))
			}
		}
	}()
	group := attachmentGroup(pod)
	for _, l := range pod.Links {
		if err = ctx.Err(); err != nil {
			return err
		}
		u, lerr := d.attachLink(p, pod, l, group)
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

// attachLink builds one link. It returns an undo function when it created the pod's link (even if a
// later step for the link failed), nil when the link already existed or nothing was created.
func (d *Dataplane) attachLink(p *nsHandle, pod plan.Pod, l plan.Link, group uint32) (func() error, error) {
	switch l.Type {
	case model.Overlay:
		return d.attachOverlay(p, l, group)
	case model.VLAN:
		return d.attachVLAN(p, l, group)
	case model.MACVLAN:
		return d.attachMacvlan(p, l, group)
	case model.SRIOV:
		return d.attachVF(p, pod, l)
	}
	return nil, model.Invalid("type", "%q is not a network type this dataplane builds", l.Type)
}

// Detach implements agent.Dataplane. It tries every link, so that one failure leaks nothing else,
// and returns the failures joined.
func (d *Dataplane) Detach(ctx context.Context, pod plan.Pod) (err error) {
	if sock := d.takeHeld(pod); sock != nil {
		// Quiesced: its group is exactly the plan's links (Quiesce checked), deleted through the
		// socket it kept, without the namespace's path (which the runtime may have removed by now).
		gerr := deleteGroupVia(sock, attachmentGroup(pod))
		sock.Close()
		if gerr == nil {
			var errs []error
			for i := len(pod.Links) - 1; i >= 0; i-- {
				// Node ends only: the pod ends went with the group.
				if err := d.detachLink(nil, pod, pod.Links[i]); err != nil {
					errs = append(errs, linkErr(pod.Links[i], err))
				}
			}
			return errors.Join(errs...)
		}
		// Fall through: the per-link path removes what is left and reports what it cannot.
	}
	p, err := openNetns(pod.Netns)
	if err != nil {
		// Gone, or a namespace that cannot be entered (another type, no permission): nothing in it
		// can be reached, and refusing would make the DEL fail for ever. What is on the node side
		// (veth ends, VFs) is still removed; the rest dies with the namespace.
		p = nil
	}
	defer p.close() // p is nil when the namespace is gone or cannot be entered
	var errs []error
	defer func() {
		if slices.ContainsFunc(pod.Links, func(l plan.Link) bool { return l.Type == model.VLAN }) {
			if perr := d.vlan.Prune(); perr != nil {
				err = errors.Join(err, fmt.Errorf("removing vlan ports from the VLAN datapath: %w", perr))
			}
		}
	}()
	if p != nil {
		// The fast path. Its failure is not Detach's: the per-link path below removes whatever is
		// left and reports what it cannot.
		_ = deleteGroup(p, pod)
	}
	for i := len(pod.Links) - 1; i >= 0; i-- {
		l := pod.Links[i]
		if err := d.detachLink(p, pod, l); err != nil {
			errs = append(errs, linkErr(l, err))
		}
	}
	err = errors.Join(errs...)
	return err
}

func (d *Dataplane) detachLink(p *nsHandle, pod plan.Pod, l plan.Link) error {
	switch l.Type {
	case model.Overlay, model.VLAN:
		// The veth's node end is enough: deleting one end of a pair deletes both. A vlan port's
		// datapath entries go when Detach prunes the ports whose veths are gone.
		return deleteLink(d.node, l.HostIf, "veth")
	case model.MACVLAN:
		if p == nil {
			return nil // gone with its namespace
		}
		return deleteLink(p, l.PodIf, "macvlan")
	case model.SRIOV:
		return d.detachVF(p, pod, l)
	}
	return nil
}

// deleteLink deletes the link called name in n if it has type typ; a missing link is success, and a
// link of another type is left alone since it is not one this dataplane made.
func deleteLink(n *nsHandle, name, typ string) error {
	link, err := lookup(n.h, name)
	if err != nil {
		return fmt.Errorf("finding %s: %w", name, err)
	}
	if link == nil || link.Type() != typ {
		return nil
	}
	if err := n.h.LinkDel(link); err != nil && !isLinkNotFound(err) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting %s %s: %w", typ, name, err)
	}
	return nil
}

func linkErr(l plan.Link, err error) error {
	return fmt.Errorf("%s link %s: %w", l.Type, l.PodIf, err)
}
