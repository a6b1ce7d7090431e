package alloc

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// CreateIPGroup adds an IP group on one of the tenant's networks. Listed addresses are claimed from
// the network's pools; a size takes that many free addresses (IPv4 when the network has it).
func (s *State) CreateIPGroup(a Actor, g model.IPGroup) (model.IPGroup, []Mutation, error) {
	if err := g.Validate(); err != nil {
		return model.IPGroup{}, nil, err
	}
	if err := a.check(g.Tenant); err != nil {
		return model.IPGroup{}, nil, err
	}
	if _, ok := s.groups[g.Key()]; ok {
		return model.IPGroup{}, nil, model.Errorf(model.CodeConflict, "name", "IP group %q already exists in tenant %q", g.Name, g.Tenant)
	}
	nw, ok := s.networks[g.Tenant+"/"+g.Network]
	if !ok {
		return model.IPGroup{}, nil, model.Errorf(model.CodeNotFound, "network", "network %q does not exist in tenant %q", g.Network, g.Tenant)
	}
	tx := &podTx{s: s}
	ips, err := tx.groupAddrs(nw, g.IPs, nil, g.Size)
	if err != nil {
		tx.rollback()
		return model.IPGroup{}, nil, err
	}
	g.IPs, g.Size = ips, len(ips)
	s.groups[g.Key()] = &group{IPGroup: g, users: map[netip.Addr]string{}}
	nw.groups++
	return g, append(tx.muts, put(groupPrefix+g.Key(), g)), nil
}

// groupAddrs claims listed addresses, or allocates size fresh ones, and returns them sorted. index
// gives each listed address's position in the caller's ips, for errors (nil: their own positions).
func (tx *podTx) groupAddrs(nw *network, listed []netip.Addr, index []int, size int) ([]netip.Addr, error) {
	var out []netip.Addr
	for i, ip := range listed {
		field := fmt.Sprintf("ips[%d]", i)
		if index != nil {
			field = fmt.Sprintf("ips[%d]", index[i])
		}
		pool := nw.pool(ip)
		if pool == nil {
			return nil, model.Invalid(field, "%s: network %q has no subnet of that family", ip, nw.Key())
		}
		wasCooling, err := pool.Claim(ip)
		if err != nil {
			return nil, model.Prefix(field, err)
		}
		tx.claimed(nw, ip, wasCooling)
		out = append(out, ip)
	}
	if len(listed) == 0 {
		pool := nw.v4
		if pool == nil {
			pool = nw.v6
		}
		for range size {
			ip, wasCooling, err := pool.Allocate()
			if err != nil {
				return nil, model.Prefix("size", err)
			}
			tx.claimed(nw, ip, wasCooling)
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// UpdateIPGroup replaces a group's address list. Addresses in use by ports must stay; removed
// addresses go back to the pool at once (no pod used them).
func (s *State) UpdateIPGroup(a Actor, g model.IPGroup) (model.IPGroup, []Mutation, error) {
	cur, ok := s.groups[g.Key()]
	if !ok {
		return model.IPGroup{}, nil, model.Errorf(model.CodeNotFound, "name", "IP group %q does not exist in tenant %q", g.Name, g.Tenant)
	}
	if err := a.check(g.Tenant); err != nil {
		return model.IPGroup{}, nil, err
	}
	if g.Network == "" {
		g.Network = cur.Network
	}
	if g.Network != cur.Network {
		return model.IPGroup{}, nil, model.Invalid("network", "an IP group cannot move from network %q to %q; create a new group", cur.Network, g.Network)
	}
	if len(g.IPs) == 0 {
		return model.IPGroup{}, nil, model.Invalid("ips", "give the group's new address list (to remove the group, delete it)")
	}
	if err := g.Validate(); err != nil {
		return model.IPGroup{}, nil, err
	}
	keep := make(map[netip.Addr]bool, len(g.IPs))
	for _, ip := range g.IPs {
		keep[ip] = true
	}
	for _, ip := range cur.IPs {
		if user, used := cur.users[ip]; used && !keep[ip] {
			return model.IPGroup{}, nil, model.Errorf(model.CodeConflict, "ips", "%s is in use by port %s; keep it in the group or release that pod", ip, user)
		}
	}
	had := make(map[netip.Addr]bool, len(cur.IPs))
	for _, ip := range cur.IPs {
		had[ip] = true
	}
	var added []netip.Addr
	var index []int // each added address's position in g.IPs, for errors
	for i, ip := range g.IPs {
		if !had[ip] {
			added = append(added, ip)
			index = append(index, i)
		}
	}
	nw := s.networks[g.Tenant+"/"+g.Network]
	tx := &podTx{s: s}
	if _, err := tx.groupAddrs(nw, added, index, 0); err != nil {
		tx.rollback()
		return model.IPGroup{}, nil, err
	}
	for _, ip := range cur.IPs {
		if !keep[ip] {
			nw.pool(ip).Release(ip, 0)
		}
	}
	ips := slices.Clone(g.IPs)
	slices.SortFunc(ips, netip.Addr.Compare)
	cur.IPs, cur.Size = ips, len(ips)
	return cur.IPGroup, append(tx.muts, put(groupPrefix+g.Key(), cur.IPGroup)), nil
}

// DeleteIPGroup removes a group that no port uses and frees its addresses.
func (s *State) DeleteIPGroup(a Actor, tenantName, name string) ([]Mutation, error) {
	key := tenantName + "/" + name
	g, ok := s.groups[key]
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "name", "IP group %q does not exist in tenant %q", name, tenantName)
	}
	if err := a.check(tenantName); err != nil {
		return nil, err
	}
	if len(g.users) > 0 {
		return nil, model.Errorf(model.CodeConflict, "name", "IP group %q has %d addresses in use; release those pods first", key, len(g.users))
	}
	nw := s.networks[tenantName+"/"+g.Network]
	for _, ip := range g.IPs {
		nw.pool(ip).Release(ip, 0)
	}
	nw.groups--
	delete(s.groups, key)
	return []Mutation{del(groupPrefix + key)}, nil
}

// IPGroup returns a copy of a group.
func (s *State) IPGroup(tenantName, name string) (model.IPGroup, bool) {
	g, ok := s.groups[tenantName+"/"+name]
	if !ok {
		return model.IPGroup{}, false
	}
	return g.IPGroup, true
}

// IPGroups returns the groups the actor may see, optionally of one tenant, sorted by key.
func (s *State) IPGroups(a Actor, tenantName string) []model.IPGroup {
	var out []model.IPGroup
	for _, key := range sortedKeys(s.groups) {
		g := s.groups[key]
		if (tenantName == "" || g.Tenant == tenantName) && a.sees(g.Tenant) {
			out = append(out, g.IPGroup)
		}
	}
	return out
}
