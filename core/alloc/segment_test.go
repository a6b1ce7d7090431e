package alloc

import (
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// TestUnderlayIsNobodys: the physical network of the nodes' own traffic is never granted and never
// used by a network, not even an admin's public one.
func TestUnderlayIsNobodys(t *testing.T) {
	w := newWorld(t)
	w.cfg.Underlay = []string{"eth0"}
	s, err := New(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.s = s
	_, err = w.try(CreateTenantCmd{Tenant: model.Tenant{Name: "ta", PhysicalNetworks: []string{"eth1", "eth0"}}})
	wantErr(t, err, model.CodeInvalid, "physical_networks[1]")
	w.do(CreateTenantCmd{Tenant: model.Tenant{Name: "ops", Admin: true, PhysicalNetworks: []string{"eth1"}}})
	_, err = w.try(UpdateTenantCmd{Tenant: model.Tenant{Name: "ops", Admin: true, PhysicalNetworks: []string{"eth0", "eth1"}}})
	wantErr(t, err, model.CodeInvalid, "physical_networks[0]")
	n := model.Network{Tenant: "ops", Name: "mgmt", Type: model.MACVLAN, PhysicalNetwork: "eth0", Public: true,
		IPv4: &model.Subnet{CIDR: prefix("10.1.0.0/24")}}
	_, err = w.try(CreateNetworkCmd{Network: n})
	wantErr(t, err, model.CodeInvalid, "physical_network")
	n.PhysicalNetwork = "eth1"
	w.do(CreateNetworkCmd{Network: n})
	w.restore()

	if _, err := New(Config{VNIStart: 1, Underlay: []string{"a/b"}}); err == nil {
		t.Fatal("an underlay that is not an interface name was accepted")
	}
}

// TestLegacySharedSegment: a store written before the layer-2 rule may hold two networks of one
// segment. It restores; deleting one of them leaves the segment taken by the other.
func TestLegacySharedSegment(t *testing.T) {
	mv := func(name, cidr string) Record {
		n := model.Network{Tenant: "ta", Name: name, Type: model.MACVLAN, PhysicalNetwork: "eth1", IPv4: &model.Subnet{CIDR: prefix(cidr)}}
		return Record{Key: networkPrefix + n.Key(), Value: put("", n).Value}
	}
	tn := model.Tenant{Name: "ta", PhysicalNetworks: []string{"eth1"}}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		nets := []Record{mv("a", "10.1.0.0/24"), mv("b", "10.2.0.0/24")}
		recs := []Record{{Key: tenantPrefix + "ta", Value: put("", tn).Value}, nets[order[0]], nets[order[1]]}
		s, err := Restore(DefaultConfig(), recs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteNetwork(Admin, "ta", "a"); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.CreateNetwork(Admin, model.Network{Tenant: "ta", Name: "c", Type: model.MACVLAN, PhysicalNetwork: "eth1", IPv4: &model.Subnet{CIDR: prefix("10.3.0.0/24")}})
		wantErr(t, err, model.CodeConflict, "physical_network")
	}
}
