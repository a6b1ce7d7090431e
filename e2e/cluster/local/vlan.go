package local

import (
	"errors"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// BridgeVLANFiltering reports whether this kernel's bridges can filter VLANs, which Knitter's vlan
// networks need (CONFIG_BRIDGE_VLAN_FILTERING). It tries on a scratch bridge in a scratch namespace
// that it removes again.
func BridgeVLANFiltering() (bool, error) {
	id, err := randomHex(4)
	if err != nil {
		return false, err
	}
	return probeVLANFiltering(NetnsPrefix + "vlanprobe-" + id)
}

// probeVLANFiltering is BridgeVLANFiltering in the scratch namespace name.
func probeVLANFiltering(name string) (bool, error) {
	if err := createNetns(name); err != nil {
		return false, err
	}
	defer func() { _ = deleteNetns(name) }()
	var supported bool
	err := withHandle(name, func(h *netlink.Handle) error {
		on := true
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "probe"
		err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs, VlanFiltering: &on})
		switch {
		case err == nil:
			supported = true
		case errors.Is(err, unix.EOPNOTSUPP):
		default:
			return err
		}
		return nil
	})
	return supported, err
}
