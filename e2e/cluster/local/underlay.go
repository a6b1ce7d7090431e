package local

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// The node NICs every local node gets. Each is a veth whose other end is a port of one bridge in the
// hub namespace, so any number of nodes share three "wires".
const (
	// UnderlayNIC carries the node's VTEP address (192.0.2.<i>/24); VXLAN runs over it.
	UnderlayNIC = "eth0"
	// TrunkNIC is the uplink of vlan networks (physical network "eth1").
	TrunkNIC = "eth1"
	// MACVLANNIC is the parent of macvlan networks (physical network "eth2").
	MACVLANNIC = "eth2"
)

// nodeNICs are the NICs in wire order: the hub's bridge ul<j> joins every node's nodeNICs[j].
var nodeNICs = []string{UnderlayNIC, TrunkNIC, MACVLANNIC}

// underlayPrefix is the underlay subnet (TEST-NET-1, never routed anywhere).
var underlayPrefix = netip.MustParsePrefix("192.0.2.0/24")

// maxNodes keeps node addresses inside underlayPrefix.
const maxNodes = 200

// vtepOf is node i's (1-based) underlay address.
func vtepOf(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
}

// buildHub makes the hub namespace's bridges, one per wire.
func buildHub(hub string) error {
	if err := createNetns(hub); err != nil {
		return err
	}
	return withHandle(hub, func(h *netlink.Handle) error {
		for j := range nodeNICs {
			attrs := netlink.NewLinkAttrs()
			attrs.Name = fmt.Sprintf("ul%d", j)
			if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
				return fmt.Errorf("hub bridge %s: %w", attrs.Name, err)
			}
			br, err := h.LinkByName(attrs.Name)
			if err != nil {
				return err
			}
			if err := h.LinkSetUp(br); err != nil {
				return fmt.Errorf("hub bridge %s up: %w", attrs.Name, err)
			}
		}
		return nil
	})
}

// wireNode creates node i's namespace and plugs its NICs into the hub's bridges.
func wireNode(hub, node string, i int) error {
	if err := createNetns(node); err != nil {
		return err
	}
	nodeNs, err := netns.GetFromPath(netnsPath(node))
	if err != nil {
		return fmt.Errorf("opening %s: %w", node, err)
	}
	defer nodeNs.Close()
	err = withHandle(hub, func(h *netlink.Handle) error {
		for j, nic := range nodeNICs {
			attrs := netlink.NewLinkAttrs()
			attrs.Name = fmt.Sprintf("n%de%d", i, j)
			veth := &netlink.Veth{LinkAttrs: attrs, PeerName: nic, PeerNamespace: netlink.NsFd(nodeNs)}
			if err := h.LinkAdd(veth); err != nil {
				return fmt.Errorf("wiring %s of %s: %w", nic, node, err)
			}
			port, err := h.LinkByName(attrs.Name)
			if err != nil {
				return err
			}
			br, err := h.LinkByName(fmt.Sprintf("ul%d", j))
			if err != nil {
				return err
			}
			if err := h.LinkSetMaster(port, br); err != nil {
				return fmt.Errorf("hub port %s: %w", attrs.Name, err)
			}
			if err := h.LinkSetUp(port); err != nil {
				return fmt.Errorf("hub port %s up: %w", attrs.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return withHandle(node, func(h *netlink.Handle) error {
		for _, nic := range nodeNICs {
			l, err := h.LinkByName(nic)
			if err != nil {
				return fmt.Errorf("%s in %s: %w", nic, node, err)
			}
			if err := h.LinkSetUp(l); err != nil {
				return fmt.Errorf("%s in %s up: %w", nic, node, err)
			}
			if nic != UnderlayNIC {
				continue
			}
			vtep := vtepOf(i)
			addr := &netlink.Addr{IPNet: &net.IPNet{IP: vtep.AsSlice(), Mask: net.CIDRMask(underlayPrefix.Bits(), 32)}}
			if err := h.AddrAdd(l, addr); err != nil {
				return fmt.Errorf("address %s on %s in %s: %w", vtep, nic, node, err)
			}
		}
		return nil
	})
}
