package netlinkdp

import (
	"errors"
	"fmt"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsHandle is an open network namespace and a netlink handle whose sockets live in it.
type nsHandle struct {
	path string
	fd   netns.NsHandle
	h    *netlink.Handle
}

// errNetnsGone reports a pod namespace that does not exist (any more).
func errNetnsGone(path string, cause error) error {
	return model.Errorf(model.CodeNotFound, "netns",
		"network namespace %s does not exist (%v); the container runtime must pass the sandbox's live namespace", path, cause)
}

// openNetns opens the namespace at path. A path that is missing or no longer a namespace (the
// runtime unmounted it) yields an error of code CodeNotFound.
func openNetns(path string) (*nsHandle, error) {
	if err := ns.IsNSorErr(path); err != nil {
		var missing ns.NSPathNotExistErr
		var notNS ns.NSPathNotNSErr
		if errors.As(err, &missing) || errors.As(err, &notNS) {
			return nil, errNetnsGone(path, err)
		}
		return nil, fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	fd, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("opening a netlink socket in network namespace %s: %w", path, err)
	}
	return &nsHandle{path: path, fd: fd, h: h}, nil
}

// openCurrentNetns opens the calling thread's namespace (the agent's own).
func openCurrentNetns() (*nsHandle, error) {
	fd, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("opening the agent's network namespace: %w", err)
	}
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("opening a netlink socket in the agent's network namespace: %w", err)
	}
	return &nsHandle{path: "(agent)", fd: fd, h: h}, nil
}

func (n *nsHandle) close() {
	if n == nil {
		return
	}
	n.h.Close()
	n.fd.Close()
}
