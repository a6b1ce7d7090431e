package netlinkdp

import (
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
)

// The kernel turns a veth's node end on (operstate up, its qdisc attached, its bridge port
// forwarding) only in its link-watch work, after the pod end has come up and ADD's netlink calls have
// returned. Until then a frame through that end is dropped, not queued: a pod's first ARP request
// sent in that window is lost, and the exchange completes only on the kernel's retransmit a second
// later. So Attach waits for the node end to be up before it returns.
const (
	readyWithin = 2 * time.Second
	readyPoll   = time.Millisecond
)

// waitOperUp waits until the node's link name is operationally up, at most readyWithin.
func waitOperUp(h *netlink.Handle, name string) error {
	deadline := time.Now().Add(readyWithin)
	for {
		l, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("reading %s's state: %w", name, err)
		}
		if l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not up %s after ADD built it (operstate %s); check the node's kernel log", name, readyWithin, l.Attrs().OperState)
		}
		time.Sleep(readyPoll)
	}
}
