package netlinkdp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsID is a namespace's identity: the device and inode of its nsfs file, whatever path names it.
type nsID struct{ dev, ino uint64 }

func idOf(fd int) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nsID{}, err
	}
	return nsID{dev: st.Dev, ino: st.Ino}, nil
}

// identities returns the node's namespace's identity and the agent's own.
func identities(node *nsHandle) (nodeID, selfID nsID, err error) {
	if nodeID, err = idOf(int(node.fd)); err != nil {
		return nsID{}, nsID{}, fmt.Errorf("reading the node namespace's identity: %w", err)
	}
	self, err := os.Open("/proc/self/ns/net")
	if err != nil {
		return nsID{}, nsID{}, fmt.Errorf("opening the agent's network namespace: %w", err)
	}
	defer self.Close()
	if selfID, err = idOf(int(self.Fd())); err != nil {
		return nsID{}, nsID{}, fmt.Errorf("reading the agent namespace's identity: %w", err)
	}
	return nodeID, selfID, nil
}

// nsTypes names the namespace types NS_GET_NSTYPE returns.
var nsTypes = map[int]string{unix.CLONE_NEWNET: "network", unix.CLONE_NEWUTS: "uts", unix.CLONE_NEWNS: "mount",
	unix.CLONE_NEWPID: "pid", unix.CLONE_NEWIPC: "ipc", unix.CLONE_NEWUSER: "user", unix.CLONE_NEWCGROUP: "cgroup",
	unix.CLONE_NEWTIME: "time"}

// CheckNetns implements agent.Dataplane.
func (d *Dataplane) CheckNetns(_ context.Context, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return errNetnsGone(path, err)
	}
	if err != nil {
		return model.Invalid("CNI_NETNS", "%s cannot be opened by knitter-agent (%v); pass the sandbox's network namespace", clip(path), unwrapPath(err))
	}
	defer f.Close()
	fd := int(f.Fd())
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return model.Invalid("CNI_NETNS", "%s is not a namespace (%v); pass the sandbox's network namespace", clip(path), err)
	}
	if t != unix.CLONE_NEWNET {
		kind := nsTypes[t]
		if kind == "" {
			kind = fmt.Sprintf("type %#x", t)
		}
		return model.Invalid("CNI_NETNS", "%s is a %s namespace, not a network namespace; pass the sandbox's network namespace", clip(path), kind)
	}
	id, err := idOf(fd)
	if err != nil {
		return model.Invalid("CNI_NETNS", "%s cannot be read (%v)", clip(path), err)
	}
	if err := d.own(path, id); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd), unix.NETLINK_ROUTE)
	if err != nil {
		return model.Invalid("CNI_NETNS", "%s cannot be entered by knitter-agent (%v)", clip(path), err)
	}
	h.Close()
	return nil
}

// own refuses the node's namespace and the agent's, whatever path names them.
func (d *Dataplane) own(path string, id nsID) error {
	switch id {
	case d.nodeID:
		return model.Invalid("CNI_NETNS", "%s is the node's own network namespace; a pod needs a namespace of its own (the runtime passed the wrong path)", clip(path))
	case d.selfID:
		return model.Invalid("CNI_NETNS", "%s is knitter-agent's own network namespace; a pod needs a namespace of its own (the runtime passed the wrong path)", clip(path))
	}
	return nil
}

// notOwn refuses to build in an opened namespace that is the node's or the agent's.
func (d *Dataplane) notOwn(p *nsHandle) error {
	id, err := idOf(int(p.fd))
	if err != nil {
		return fmt.Errorf("reading the identity of network namespace %s: %w", clip(p.path), err)
	}
	return d.own(p.path, id)
}

// clip bounds a value echoed in an error message.
func clip(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
