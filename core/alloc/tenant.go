package alloc

import (
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// sortedGrants is the stored form of a tenant's physical networks: sorted, nil when empty.
func sortedGrants(g []string) []string {
	if len(g) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(g))
}

// CreateTenant adds a tenant. Only admins create tenants.
func (s *State) CreateTenant(a Actor, t model.Tenant) ([]Mutation, error) {
	if !a.Admin {
		return nil, model.Errorf(model.CodeForbidden, "", "only an admin may create tenants")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if _, ok := s.tenants[t.Name]; ok {
		return nil, model.Errorf(model.CodeConflict, "name", "tenant %q already exists", t.Name)
	}
	if err := s.checkGrants(&t); err != nil {
		return nil, err
	}
	t.PhysicalNetworks = sortedGrants(t.PhysicalNetworks)
	s.tenants[t.Name] = &tenant{Tenant: t}
	return []Mutation{put(tenantPrefix+t.Name, t)}, nil
}

// UpdateTenant replaces a tenant's quota, admin flag, physical networks and default network. Admins
// may change everything; a tenant may change only its own default network.
func (s *State) UpdateTenant(a Actor, t model.Tenant) ([]Mutation, error) {
	cur, ok := s.tenants[t.Name]
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "name", "tenant %q does not exist", t.Name)
	}
	if err := a.check(t.Name); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if !a.Admin && (t.Quota != cur.Quota || t.Admin != cur.Admin) {
		return nil, model.Errorf(model.CodeForbidden, "quota", "only an admin may change a tenant's quota or admin flag")
	}
	if !a.Admin && !slices.Equal(sortedGrants(t.PhysicalNetworks), cur.PhysicalNetworks) {
		return nil, model.Errorf(model.CodeForbidden, "physical_networks", "only an admin may grant or take away physical networks")
	}
	if err := s.checkGrants(&t); err != nil {
		return nil, err
	}
	t.PhysicalNetworks = sortedGrants(t.PhysicalNetworks)
	cur.Tenant = t
	return []Mutation{put(tenantPrefix+t.Name, t)}, nil
}

// DeleteTenant removes a tenant that owns nothing. Only admins delete tenants.
func (s *State) DeleteTenant(a Actor, name string) ([]Mutation, error) {
	if !a.Admin {
		return nil, model.Errorf(model.CodeForbidden, "", "only an admin may delete tenants")
	}
	t, ok := s.tenants[name]
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "name", "tenant %q does not exist", name)
	}
	if t.networks > 0 {
		return nil, model.Errorf(model.CodeConflict, "name", "tenant %q still has %d networks; delete them first", name, t.networks)
	}
	if t.ports > 0 {
		return nil, model.Errorf(model.CodeConflict, "name", "tenant %q still has %d ports; release its pods first", name, t.ports)
	}
	delete(s.tenants, name)
	return append(s.dropTenantTokens(name), del(tenantPrefix+name)), nil
}

// Tenant returns a copy of the named tenant.
func (s *State) Tenant(name string) (model.Tenant, bool) {
	t, ok := s.tenants[name]
	if !ok {
		return model.Tenant{}, false
	}
	return t.Tenant, true
}

// Tenants returns every tenant the actor may see, sorted by name.
func (s *State) Tenants(a Actor) []model.Tenant {
	var out []model.Tenant
	for _, name := range sortedKeys(s.tenants) {
		if a.sees(name) {
			out = append(out, s.tenants[name].Tenant)
		}
	}
	return out
}

// TenantUsage returns how many networks and live ports a tenant holds.
func (s *State) TenantUsage(name string) (networks, ports int, ok bool) {
	t, ok := s.tenants[name]
	if !ok {
		return 0, 0, false
	}
	return t.networks, t.ports, true
}
