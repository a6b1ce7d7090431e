package alloc

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Restore rebuilds a State from stored records (the sum of every Mutation applied so far). Records may
// come in any order. A record that contradicts another (two ports on one address, a port on a missing
// network) is an error naming its key: the store is corrupt and the manager must not serve from it.
// The restored clock is zero; the caller ticks it to the present, which ends overdue cooldowns.
func Restore(cfg Config, recs []Record) (*State, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	buckets := map[string][]Record{}
	for _, r := range recs {
		i := strings.IndexByte(r.Key, '/')
		if i < 0 {
			return nil, fmt.Errorf("restore: record %q has no kind prefix", r.Key)
		}
		buckets[r.Key[:i+1]] = append(buckets[r.Key[:i+1]], r)
	}
	steps := []struct {
		prefix string
		load   func(Record) error
	}{
		{tenantPrefix, s.loadTenant},
		{networkPrefix, s.loadNetwork},
		{groupPrefix, s.loadGroup},
		{nodePrefix, s.loadNode},
		{podPrefix, s.loadPod},
		{holdPrefix, s.loadHold},
		{cooldownPrefix, s.loadCooldown},
		{tokenPrefix, s.loadToken},
	}
	known := map[string]bool{}
	for _, st := range steps {
		known[st.prefix] = true
		for _, r := range buckets[st.prefix] {
			if err := st.load(r); err != nil {
				return nil, fmt.Errorf("restore: record %q: %w", r.Key, err)
			}
		}
	}
	for _, p := range sortedKeys(buckets) {
		if !known[p] {
			return nil, fmt.Errorf("restore: unknown record kind %q (key %q); is the store from a newer knitter-manager?", p, buckets[p][0].Key)
		}
	}
	return s, nil
}

func decode(r Record, v any) error {
	if err := json.Unmarshal(r.Value, v); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	return nil
}

func (s *State) loadTenant(r Record) error {
	var t model.Tenant
	if err := decode(r, &t); err != nil {
		return err
	}
	s.tenants[t.Name] = &tenant{Tenant: t}
	return nil
}

func (s *State) loadNetwork(r Record) error {
	var n model.Network
	if err := decode(r, &n); err != nil {
		return err
	}
	if _, ok := s.tenants[n.Tenant]; !ok {
		return fmt.Errorf("tenant %q does not exist", n.Tenant)
	}
	nw, err := newNetwork(n)
	if err != nil {
		return err
	}
	s.addNetwork(nw)
	return nil
}

func (s *State) loadGroup(r Record) error {
	var g model.IPGroup
	if err := decode(r, &g); err != nil {
		return err
	}
	nw, ok := s.networks[g.Tenant+"/"+g.Network]
	if !ok {
		return fmt.Errorf("network %s/%s does not exist", g.Tenant, g.Network)
	}
	for _, ip := range g.IPs {
		if _, err := claimIn(nw, ip); err != nil {
			return err
		}
	}
	s.groups[g.Key()] = &group{IPGroup: g, users: map[netip.Addr]string{}}
	nw.groups++
	return nil
}

func (s *State) loadNode(r Record) error {
	var n model.Node
	if err := decode(r, &n); err != nil {
		return err
	}
	s.putNode(&n)
	return nil
}

func (s *State) loadPod(r Record) error {
	var pod model.Pod
	if err := decode(r, &pod); err != nil {
		return err
	}
	t, ok := s.tenants[pod.Tenant]
	if !ok {
		return fmt.Errorf("tenant %q does not exist", pod.Tenant)
	}
	for _, p := range pod.Ports {
		nw, ok := s.networks[p.Network]
		if !ok {
			return fmt.Errorf("port %s: network %q does not exist", p.ID, p.Network)
		}
		if p.IPGroup != "" {
			g, ok := s.groups[nw.Tenant+"/"+p.IPGroup]
			if !ok || len(p.IPs) != 1 {
				return fmt.Errorf("port %s: IP group %q does not exist", p.ID, p.IPGroup)
			}
			if user, dup := g.users[p.IPs[0]]; dup {
				return fmt.Errorf("port %s: %s is also used by port %s", p.ID, p.IPs[0], user)
			}
			g.users[p.IPs[0]] = p.ID
		} else {
			for _, ip := range p.IPs {
				if _, err := claimIn(nw, ip); err != nil {
					return fmt.Errorf("port %s: %w", p.ID, err)
				}
			}
		}
		if err := nw.macs.Claim(p.MAC); err != nil {
			return fmt.Errorf("port %s: %w", p.ID, err)
		}
		nw.ports++
	}
	t.ports += len(pod.Ports)
	s.pods[pod.UID] = &pod
	return nil
}

func (s *State) loadHold(r Record) error {
	var h Hold
	if err := decode(r, &h); err != nil {
		return err
	}
	if r.Key != holdPrefix+h.Key {
		return fmt.Errorf("hold record names key %q; want the record's own key", h.Key)
	}
	nw, ok := s.networks[h.Network]
	if !ok {
		return fmt.Errorf("network %q does not exist", h.Network)
	}
	for _, ip := range h.IPs {
		if _, err := claimIn(nw, ip); err != nil {
			return err
		}
		if err := nw.pool(ip).Hold(ip, h.Key, h.Until); err != nil {
			return err
		}
	}
	if err := nw.macs.Claim(h.MAC); err != nil {
		return err
	}
	s.holds[h.Key] = &h
	nw.holds++
	return nil
}

func (s *State) loadCooldown(r Record) error {
	ck, err := parseCooldownKey(r.Key)
	if err != nil {
		return err
	}
	var c cooldownRecord
	if err := decode(r, &c); err != nil {
		return err
	}
	nw, ok := s.networks[ck.network]
	if !ok {
		return fmt.Errorf("network %q does not exist", ck.network)
	}
	if _, err := claimIn(nw, ck.addr); err != nil {
		return err
	}
	nw.pool(ck.addr).Release(ck.addr, c.Until)
	s.cooling[ck] = c.Until
	return nil
}

// claimIn claims a stored address in the pool of its family.
func claimIn(nw *network, ip netip.Addr) (bool, error) {
	pool := nw.pool(ip)
	if pool == nil {
		return false, fmt.Errorf("%s: network %q has no subnet of that family", ip, nw.Key())
	}
	return pool.Claim(ip)
}
