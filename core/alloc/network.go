package alloc

import (
	"slices"

	"github.com/knitter-cni/knitter/core/ipam"
	"github.com/knitter-cni/knitter/core/model"
)

// CreateNetwork adds a network and returns it as stored (with the VNI the manager chose for an
// overlay network created without one).
func (s *State) CreateNetwork(a Actor, n model.Network) (model.Network, []Mutation, error) {
	if err := n.Validate(); err != nil {
		return model.Network{}, nil, err
	}
	t, ok := s.tenants[n.Tenant]
	if !ok {
		return model.Network{}, nil, model.Errorf(model.CodeNotFound, "tenant", "tenant %q does not exist; create it first", n.Tenant)
	}
	if err := a.check(n.Tenant); err != nil {
		return model.Network{}, nil, err
	}
	if n.Public && !a.Admin {
		return model.Network{}, nil, model.Errorf(model.CodeForbidden, "public", "only an admin may create public networks")
	}
	if _, ok := s.networks[n.Key()]; ok {
		return model.Network{}, nil, model.Errorf(model.CodeConflict, "name", "network %q already exists in tenant %q", n.Name, n.Tenant)
	}
	if q := t.Quota.Networks; q > 0 && t.networks >= q {
		return model.Network{}, nil, model.Errorf(model.CodeQuota, "", "tenant %q already has %d networks, its quota; delete one or raise quota.networks", n.Tenant, t.networks)
	}
	if err := s.checkPhysical(&n); err != nil {
		return model.Network{}, nil, err
	}
	if err := s.checkSegment(a, &n); err != nil {
		return model.Network{}, nil, err
	}
	if err := s.checkOverlap(&n); err != nil {
		return model.Network{}, nil, err
	}
	nw, err := newNetwork(n)
	if err != nil {
		return model.Network{}, nil, err
	}
	if err := nw.checkCapacity(); err != nil {
		return model.Network{}, nil, err
	}
	s.addNetwork(nw)
	return nw.Network, []Mutation{put(networkPrefix+n.Key(), nw.Network)}, nil
}

// newNetwork builds a network's address pools; addNetwork gives it its MAC pool.
func newNetwork(n model.Network) (*network, error) {
	nw := &network{Network: n}
	var err error
	// NewPool's errors name the field under "ipv4"/"ipv6" already.
	if n.IPv4 != nil {
		if nw.v4, err = ipam.NewPool(n.IPv4); err != nil {
			return nil, err
		}
	}
	if n.IPv6 != nil {
		if nw.v6, err = ipam.NewPool(n.IPv6); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// checkCapacity refuses a subnet whose ranges and exclusions leave no address to hand out. (Restore
// does not check it: a stored network stays loadable.)
func (nw *network) checkCapacity() error {
	for _, f := range []struct {
		name string
		sub  *model.Subnet
		pool *ipam.Pool
	}{{"ipv4", nw.IPv4, nw.v4}, {"ipv6", nw.IPv6, nw.v6}} {
		if f.pool == nil || f.pool.Stats().Capacity > 0 {
			continue
		}
		if len(f.sub.Exclude) > 0 {
			return model.Invalid(f.name+".exclude", "covers every allocatable address of %s; exclude less so pods can get an address", f.sub.CIDR)
		}
		return model.Invalid(f.name+".ranges", "hold no allocatable address of %s (only its network, broadcast or gateway address); widen them", f.sub.CIDR)
	}
	return nil
}

// addNetwork indexes a new network (also used by Restore).
func (s *State) addNetwork(nw *network) {
	key := nw.Key()
	s.networks[key] = nw
	s.tenants[nw.Tenant].networks++
	nw.macs = s.macPoolFor(&nw.Network)
	if s.cfg.Strategy == StrategyNextFit {
		for _, p := range []*ipam.Pool{nw.v4, nw.v6} {
			if p != nil {
				p.SetNextFit()
			}
		}
	}
	s.indexSegment(nw)
}

// indexSegment records the network as its segment's (or VNI's) owner. Only a store written before
// the layer-2 rule can hold two networks of one segment; then the lowest key is indexed, so that the
// index does not depend on the order of the records.
func (s *State) indexSegment(nw *network) {
	key := nw.Key()
	if seg, ok := segmentOf(&nw.Network); ok {
		if cur, used := s.segments[seg]; !used || key < cur {
			s.segments[seg] = key
		}
	} else if cur, used := s.vnis[nw.VNI]; !used || key < cur {
		s.vnis[nw.VNI] = key
	}
}

// unindexSegment removes a deleted network from the segment (or VNI) index, handing the entry to
// another network of the same segment if a legacy store had one.
func (s *State) unindexSegment(nw *network) {
	key := nw.Key()
	seg, underlay := segmentOf(&nw.Network)
	if underlay && s.segments[seg] == key {
		delete(s.segments, seg)
	} else if !underlay && s.vnis[nw.VNI] == key {
		delete(s.vnis, nw.VNI)
	} else {
		return
	}
	for _, k := range sortedKeys(s.networks) {
		o := s.networks[k]
		if g, ok := segmentOf(&o.Network); ok == underlay && (underlay && g == seg || !underlay && o.VNI == nw.VNI) {
			s.indexSegment(o)
			return
		}
	}
}

// checkSegment makes VNIs unique (choosing one when it is 0) and gives each underlay segment — a
// physical network and VLAN id, or untagged — to one network, whatever the networks' types.
func (s *State) checkSegment(a Actor, n *model.Network) error {
	if seg, ok := segmentOf(n); ok {
		if other, used := s.segments[seg]; used {
			field, fix := "vlan", "pick another VLAN id"
			if seg.vlan == 0 {
				field, fix = "physical_network", "use another physical network or a VLAN id"
			}
			return model.Errorf(model.CodeConflict, field, "%s is the segment of %s; a physical network and VLAN id belong to one network: %s", seg, s.otherNetwork(a, other), fix)
		}
		return nil
	}
	switch n.Type {
	case model.Overlay:
		if n.VNI == 0 {
			for v := s.cfg.VNIStart; v <= model.MaxVNI; v++ {
				if _, used := s.vnis[v]; !used {
					n.VNI = v
					return nil
				}
			}
			return model.Errorf(model.CodeExhausted, "vni", "no free VNI from %d up; give one explicitly", s.cfg.VNIStart)
		}
		if other, used := s.vnis[n.VNI]; used {
			return model.Errorf(model.CodeConflict, "vni", "VNI %d is used by %s; pick another or omit it", n.VNI, s.otherNetwork(a, other))
		}
	}
	return nil
}

// checkOverlap refuses a subnet that overlaps a subnet of a network the same pod could also attach to:
// one of the same tenant, or any public network (and a public network against every network).
func (s *State) checkOverlap(n *model.Network) error {
	for _, key := range sortedKeys(s.networks) {
		m := s.networks[key]
		if m.Tenant != n.Tenant && !m.Public && !n.Public {
			continue
		}
		for _, f := range []struct {
			field string
			a, b  *model.Subnet
		}{{"ipv4.cidr", n.IPv4, m.IPv4}, {"ipv6.cidr", n.IPv6, m.IPv6}} {
			if f.a != nil && f.b != nil && f.a.CIDR.Overlaps(f.b.CIDR) {
				return model.Errorf(model.CodeConflict, f.field, "%s overlaps %s of network %q, which the same pods can attach to; pick a disjoint subnet", f.a.CIDR, f.b.CIDR, key)
			}
		}
	}
	return nil
}

// DeleteNetwork removes a network that no port and no IP group uses. Its sticky holds and cooldowns
// go with it.
func (s *State) DeleteNetwork(a Actor, tenantName, name string) ([]Mutation, error) {
	key := tenantName + "/" + name
	nw, ok := s.networks[key]
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "name", "network %q does not exist in tenant %q", name, tenantName)
	}
	if err := a.check(tenantName); err != nil {
		return nil, err
	}
	if nw.ports > 0 {
		return nil, model.Errorf(model.CodeConflict, "name", "network %q has %d ports; release the pods using it first", key, nw.ports)
	}
	if nw.groups > 0 {
		return nil, model.Errorf(model.CodeConflict, "name", "network %q has %d IP groups; delete them first", key, nw.groups)
	}
	var muts []Mutation
	for _, hk := range sortedKeys(s.holds) {
		if h := s.holds[hk]; h.Network == key {
			muts = append(muts, s.dropHold(h)...)
		}
	}
	for _, ck := range s.coolingOn(key) {
		delete(s.cooling, ck)
		muts = append(muts, del(cooldownKey(ck)))
	}
	delete(s.networks, key)
	s.tenants[tenantName].networks--
	s.releaseMACPool(&nw.Network)
	s.unindexSegment(nw)
	return append(muts, del(networkPrefix+key)), nil
}

// coolingOn returns the cooldown keys of a network, sorted.
func (s *State) coolingOn(netKey string) []coolKey {
	var out []coolKey
	for k := range s.cooling {
		if k.network == netKey {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y coolKey) int { return x.addr.Compare(y.addr) })
	return out
}

// Network returns a copy of a network by tenant and name.
func (s *State) Network(tenantName, name string) (model.Network, bool) {
	nw, ok := s.networks[tenantName+"/"+name]
	if !ok {
		return model.Network{}, false
	}
	return nw.Network, true
}

// Networks returns the networks the actor may see — its own and the public ones, or all for an
// admin — sorted by key. A non-empty tenant narrows the list to that tenant's networks.
func (s *State) Networks(a Actor, tenantName string) []model.Network {
	var out []model.Network
	for _, key := range sortedKeys(s.networks) {
		nw := s.networks[key]
		if tenantName != "" && nw.Tenant != tenantName {
			continue
		}
		if a.sees(nw.Tenant) || nw.Public {
			out = append(out, nw.Network)
		}
	}
	return out
}

// PoolStats returns the address usage of a network's subnets (IPv4 first; a missing family is zero).
func (s *State) PoolStats(netKey string) (v4, v6 ipam.Stats, ok bool) {
	nw, ok := s.networks[netKey]
	if !ok {
		return v4, v6, false
	}
	if nw.v4 != nil {
		v4 = nw.v4.Stats()
	}
	if nw.v6 != nil {
		v6 = nw.v6.Stats()
	}
	return v4, v6, true
}
