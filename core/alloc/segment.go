package alloc

import (
	"fmt"
	"slices"

	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// The layer-2 rule. A vlan, macvlan or sriov network puts its pods on a segment of the underlay: a
// physical network (a node NIC) and a VLAN id, or untagged. Pods of one segment can reach each other
// whatever their subnets say, so:
//
//   - a segment belongs to one network: no second network, of any type and any tenant, may use the
//     same physical network and VLAN id (or the same untagged physical network);
//   - a tenant's networks may use only the physical networks an admin granted it
//     (Tenant.PhysicalNetworks);
//   - the physical networks that carry the nodes' own traffic (Config.Underlay) are nobody's: never
//     granted, never used by a network;
//   - MACs are unique per physical network, across all of its segments and networks, because
//     macvlan children and VFs of one NIC share its MAC filter.
//
// Overlay networks are segments of their own (the VNI) and keep a MAC pool each.

// segment is one layer-2 segment of the underlay. vlan 0 is untagged.
type segment struct {
	phys string
	vlan uint16
}

func (g segment) String() string {
	if g.vlan == 0 {
		return fmt.Sprintf("untagged %q", g.phys)
	}
	return fmt.Sprintf("VLAN %d on %q", g.vlan, g.phys)
}

// segmentOf returns the underlay segment a network's pods are on; overlay networks have none.
func segmentOf(n *model.Network) (segment, bool) {
	switch n.Type {
	case model.VLAN, model.SRIOV:
		return segment{n.PhysicalNetwork, n.VLAN}, true
	case model.MACVLAN:
		// macvlan children are untagged on their parent (model.Network.Validate refuses a VLAN id
		// on a macvlan network), so a macvlan network is on the untagged segment. Should macvlan
		// networks be given VLANs one day, this is the one place to say so.
		return segment{n.PhysicalNetwork, 0}, true
	}
	return segment{}, false
}

// macSpace is the MAC pool shared by every network on one physical network.
type macSpace struct {
	pool     *ipam.MACPool
	networks int
}

// macPoolFor returns the MAC pool a new network draws from: its physical network's shared pool, or a
// pool of its own for an overlay network. It registers the network as a user of a shared pool.
func (s *State) macPoolFor(n *model.Network) *ipam.MACPool {
	if _, ok := segmentOf(n); !ok {
		return ipam.NewMACPool(n.Key(), fmt.Sprintf("network %q", n.Key()))
	}
	sp, ok := s.macSpaces[n.PhysicalNetwork]
	if !ok {
		sp = &macSpace{pool: ipam.NewMACPool("physical/"+n.PhysicalNetwork, fmt.Sprintf("physical network %q", n.PhysicalNetwork))}
		s.macSpaces[n.PhysicalNetwork] = sp
	}
	sp.networks++
	return sp.pool
}

// releaseMACPool undoes macPoolFor when a network is deleted.
func (s *State) releaseMACPool(n *model.Network) {
	if _, ok := segmentOf(n); !ok {
		return
	}
	if sp := s.macSpaces[n.PhysicalNetwork]; sp != nil {
		if sp.networks--; sp.networks == 0 {
			delete(s.macSpaces, n.PhysicalNetwork)
		}
	}
}

func (s *State) isUnderlay(phys string) bool { return slices.Contains(s.cfg.Underlay, phys) }

// checkPhysical applies the grant and underlay rules to a network's physical network.
func (s *State) checkPhysical(n *model.Network) error {
	if n.PhysicalNetwork == "" {
		return nil
	}
	if s.isUnderlay(n.PhysicalNetwork) {
		return model.Invalid("physical_network", "%q carries the nodes' own traffic (the manager's underlay); no network may use it, pick another physical network", n.PhysicalNetwork)
	}
	if t := s.tenants[n.Tenant]; !slices.Contains(t.PhysicalNetworks, n.PhysicalNetwork) {
		return model.Errorf(model.CodeForbidden, "physical_network", "tenant %q has not been granted physical network %q; an admin adds it to the tenant's physical_networks", n.Tenant, n.PhysicalNetwork)
	}
	return nil
}

// otherNetwork names a network in an error for actor a: by key when a may read it, else not at all,
// so a conflict does not reveal another tenant's network names.
func (s *State) otherNetwork(a Actor, key string) string {
	if nw, ok := s.networks[key]; ok && (a.sees(nw.Tenant) || nw.Public) {
		return fmt.Sprintf("network %q", key)
	}
	return "another tenant's network"
}

// checkGrants checks a tenant's physical_networks (already validated) against the underlay and, when
// they change, against the tenant's networks: a grant in use cannot be taken away.
func (s *State) checkGrants(t *model.Tenant) error {
	for i, p := range t.PhysicalNetworks {
		if s.isUnderlay(p) {
			return model.Invalid(fmt.Sprintf("physical_networks[%d]", i), "%q carries the nodes' own traffic (the manager's underlay); it cannot be granted to a tenant", p)
		}
	}
	for _, key := range sortedKeys(s.networks) {
		nw := s.networks[key]
		if nw.Tenant == t.Name && nw.PhysicalNetwork != "" && !slices.Contains(t.PhysicalNetworks, nw.PhysicalNetwork) {
			return model.Errorf(model.CodeConflict, "physical_networks", "network %q uses physical network %q; delete it before taking the grant away", key, nw.PhysicalNetwork)
		}
	}
	return nil
}
