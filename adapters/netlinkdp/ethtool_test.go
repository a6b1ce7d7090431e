package netlinkdp

import (
	"os"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
)

// TestNICFeatures reads a veth's features through the ethtool ioctl, as ethtool -k shows them:
// veths insert and strip VLAN tags in metadata (on, changeable) and have no hardware VLAN filter
// (off, fixed), so trunk setup leaves them as they are; a changeable feature turned off and on
// reads back each time.
func TestNICFeatures(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	n, err := testutils.NewNS()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Close(); _ = testutils.UnmountNS(n) }()
	if err := n.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "trunk0"
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "trunk0-p"})
	}); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]nicFeature {
		t.Helper()
		var fs map[string]nicFeature
		if err := withEthtool(n.Path(), "trunk0", func(e *ethtool) (err error) { fs, err = e.features(); return err }); err != nil {
			t.Fatal(err)
		}
		return fs
	}
	fs := read()
	for name, want := range map[string]nicFeature{
		"tx-vlan-hw-insert": {Active: true, Changeable: true},
		"rx-vlan-hw-parse":  {Active: true, Changeable: true},
		vlanFilterFeature:   {Active: false, Changeable: false},
	} {
		if got, ok := fs[name]; !ok || got != want {
			t.Errorf("veth feature %s = %+v (known: %v), want %+v", name, got, ok, want)
		}
	}
	for _, on := range []bool{false, true} {
		if err := withEthtool(n.Path(), "trunk0", func(e *ethtool) error { return e.setFeature("tx-vlan-hw-insert", on) }); err != nil {
			t.Fatal(err)
		}
		if got := read()["tx-vlan-hw-insert"].Active; got != on {
			t.Fatalf("tx-vlan-hw-insert set to %v reads back %v", on, got)
		}
	}
	if err := trunkVLANFilterOff(n.Path(), "trunk0"); err != nil {
		t.Fatalf("a veth trunk (no VLAN filter) = %v", err)
	}
	if err := withEthtool(n.Path(), "nope0", func(e *ethtool) error { _, err := e.features(); return err }); err == nil {
		t.Fatal("features of a missing device read without an error")
	}
}
