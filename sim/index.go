package sim

import (
	"net/netip"

	"github.com/knitter-cni/knitter/core/model"
)

// ackIndex holds every address and MAC the manager acknowledged to a pod that has not been
// released, with the pod that holds it. A scale run checks unique-address and unique-mac with it at
// O(1) per acknowledged allocation or release, instead of scanning every port after every event;
// full scans at the phase boundaries check the index against the manager.
type ackIndex struct {
	addrs map[addrKey]string // -> pod UID
	macs  map[macKey]string
	byPod map[string][]model.Port
}

type addrKey struct {
	network string
	addr    netip.Addr
}

type macKey struct {
	network string
	mac     model.MAC
}

func newAckIndex() *ackIndex {
	return &ackIndex{addrs: map[addrKey]string{}, macs: map[macKey]string{}, byPod: map[string][]model.Port{}}
}

// add records pod uid's acknowledged ports, failing unique-address or unique-mac when another
// live pod holds one of their addresses or MACs on the same network.
func (x *ackIndex) add(c *checker, uid string, ports []model.Port) {
	x.remove(uid) // a repeated acknowledgement replaces the earlier one
	for _, p := range ports {
		for _, ip := range p.IPs {
			k := addrKey{p.Network, ip}
			if other, dup := x.addrs[k]; dup {
				c.fail(Safety, "unique-address", "%s on %s acknowledged to %s while %s holds it", ip, p.Network, uid, other)
				continue
			}
			x.addrs[k] = uid
		}
		k := macKey{p.Network, p.MAC}
		if other, dup := x.macs[k]; dup {
			c.fail(Safety, "unique-mac", "%s on %s acknowledged to %s while %s holds it", p.MAC, p.Network, uid, other)
			continue
		}
		x.macs[k] = uid
	}
	x.byPod[uid] = ports
}

// remove forgets pod uid's addresses and MACs (its release was acknowledged).
func (x *ackIndex) remove(uid string) {
	for _, p := range x.byPod[uid] {
		for _, ip := range p.IPs {
			if k := (addrKey{p.Network, ip}); x.addrs[k] == uid {
				delete(x.addrs, k)
			}
		}
		if k := (macKey{p.Network, p.MAC}); x.macs[k] == uid {
			delete(x.macs, k)
		}
	}
	delete(x.byPod, uid)
}

// matches checks that the index holds exactly the manager's ports: each of their addresses and
// MACs under its pod, and nothing else.
func (x *ackIndex) matches(c *checker, ports []model.Port) {
	ips := 0
	for _, p := range ports {
		for _, ip := range p.IPs {
			ips++
			if owner := x.addrs[addrKey{p.Network, ip}]; owner != p.Pod.UID {
				c.fail(Safety, "index-matches-manager", "the manager gives %s on %s to %s; the acknowledgements gave it to %q",
					ip, p.Network, p.Pod.UID, owner)
				return
			}
		}
		if owner := x.macs[macKey{p.Network, p.MAC}]; owner != p.Pod.UID {
			c.fail(Safety, "index-matches-manager", "the manager gives %s on %s to %s; the acknowledgements gave it to %q",
				p.MAC, p.Network, p.Pod.UID, owner)
			return
		}
	}
	if ips != len(x.addrs) || len(ports) != len(x.macs) {
		c.fail(Safety, "index-matches-manager", "the manager holds %d addresses and %d ports; %d addresses and %d MACs were acknowledged and not released",
			ips, len(ports), len(x.addrs), len(x.macs))
	}
}
