package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func tenantInfoOf(st *alloc.State, t model.Tenant) TenantInfo {
	n, p, _ := st.TenantUsage(t.Name)
	return TenantInfo{Tenant: t, Usage: Usage{Networks: n, Ports: p}}
}

// lookupTenant returns the tenant with its usage, if the caller may read it.
func (s *Server) lookupTenant(a alloc.Actor, name string) (TenantInfo, error) {
	if err := mustSee(a, name); err != nil {
		return TenantInfo{}, err
	}
	var out TenantInfo
	err := s.view(func(st *alloc.State) error {
		t, ok := st.Tenant(name)
		if !ok {
			return notFound("tenant", "tenant %q does not exist", name)
		}
		out = tenantInfoOf(st, t)
		return nil
	})
	return out, err
}

func (s *Server) listTenants(c *call) (int, any, error) {
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := TenantList{Tenants: []TenantInfo{}}
	err = s.view(func(st *alloc.State) error {
		tenants, next := paginate(st.Tenants(c.actor), func(t model.Tenant) string { return t.Name }, p)
		for _, t := range tenants {
			out.Tenants = append(out.Tenants, tenantInfoOf(st, t))
		}
		out.Continue = next
		return nil
	})
	return http.StatusOK, out, err
}

func (s *Server) getTenant(c *call) (int, any, error) {
	t, err := s.lookupTenant(c.actor, c.r.PathValue("tenant"))
	return http.StatusOK, t, err
}

func (s *Server) createTenant(c *call) (int, any, error) {
	var t model.Tenant
	if err := c.decode(&t); err != nil {
		return 0, nil, err
	}
	if _, err := s.b.Do(c.ctx(), alloc.CreateTenantCmd{As: c.as(), Tenant: t}); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, TenantInfo{Tenant: t}, nil
}

func (s *Server) updateTenant(c *call) (int, any, error) {
	name := c.r.PathValue("tenant")
	var t model.Tenant
	if err := c.decode(&t); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("name", &t.Name, name); err != nil {
		return 0, nil, err
	}
	if _, err := s.b.Do(c.ctx(), alloc.UpdateTenantCmd{As: c.as(), Tenant: t}); err != nil {
		return 0, nil, err
	}
	out, err := s.lookupTenant(c.actor, name)
	if err != nil {
		// Updated, but the state is gone before it could be read back (lost leadership).
		return http.StatusOK, TenantInfo{Tenant: t}, nil
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteTenant(c *call) (int, any, error) {
	_, err := s.b.Do(c.ctx(), alloc.DeleteTenantCmd{As: c.as(), Name: c.r.PathValue("tenant")})
	return http.StatusNoContent, nil, err
}
