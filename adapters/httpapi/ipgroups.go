package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func (s *Server) listIPGroups(c *call) (int, any, error) {
	tenant, network := c.r.PathValue("tenant"), c.r.URL.Query().Get("network")
	if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := IPGroupList{IPGroups: []model.IPGroup{}}
	err = s.view(func(st *alloc.State) error {
		if _, ok := st.Tenant(tenant); !ok {
			return notFound("tenant", "tenant %q does not exist", tenant)
		}
		var groups []model.IPGroup
		for _, g := range st.IPGroups(c.actor, tenant) {
			if network == "" || g.Network == network {
				groups = append(groups, g)
			}
		}
		groups, next := paginate(groups, func(g model.IPGroup) string { return g.Tenant + "/" + g.Name }, p)
		out.IPGroups, out.Continue = append(out.IPGroups, groups...), next
		return nil
	})
	return http.StatusOK, out, err
}

// readIPGroup returns a group the caller may read.
func (s *Server) readIPGroup(a alloc.Actor, tenant, name string) (model.IPGroup, error) {
	if err := mustSee(a, tenant); err != nil {
		return model.IPGroup{}, err
	}
	var g model.IPGroup
	err := s.view(func(st *alloc.State) error {
		var ok bool
		if g, ok = st.IPGroup(tenant, name); !ok {
			return notFound("name", "IP group %q does not exist in tenant %q", name, tenant)
		}
		return nil
	})
	return g, err
}

func (s *Server) getIPGroup(c *call) (int, any, error) {
	g, err := s.readIPGroup(c.actor, c.r.PathValue("tenant"), c.r.PathValue("name"))
	return http.StatusOK, g, err
}

func (s *Server) createIPGroup(c *call) (int, any, error) {
	var g model.IPGroup
	if err := c.decode(&g); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("tenant", &g.Tenant, c.r.PathValue("tenant")); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.CreateIPGroupCmd{As: c.as(), IPGroup: g})
	if err != nil {
		return 0, nil, err
	}
	if stored, ok := res.(model.IPGroup); ok {
		g = stored
	}
	return http.StatusCreated, g, nil
}

// updateIPGroup replaces a group's address list.
func (s *Server) updateIPGroup(c *call) (int, any, error) {
	var g model.IPGroup
	if err := c.decode(&g); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("tenant", &g.Tenant, c.r.PathValue("tenant")); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("name", &g.Name, c.r.PathValue("name")); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.UpdateIPGroupCmd{As: c.as(), IPGroup: g})
	if err != nil {
		return 0, nil, err
	}
	if stored, ok := res.(model.IPGroup); ok {
		g = stored
	}
	return http.StatusOK, g, nil
}

func (s *Server) deleteIPGroup(c *call) (int, any, error) {
	tenant, name := c.r.PathValue("tenant"), c.r.PathValue("name")
	_, err := s.b.Do(c.ctx(), alloc.DeleteIPGroupCmd{As: c.as(), Tenant: tenant, Name: name})
	return http.StatusNoContent, nil, err
}
