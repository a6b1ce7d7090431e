package httpapi

import (
	"encoding/json"
	"strconv"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// nwTenant is a tenant in the original API's shape.
type nwTenant struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	NetNumber int    `json:"net_number"`
	CreatedAt string `json:"created_at"`
	Quotas    struct {
		Network int `json:"network"`
	} `json:"quotas"`
	Status string `json:"status"`
}

func nwTenantOf(t TenantInfo) nwTenant {
	out := nwTenant{ID: t.Name, Name: t.Name, NetNumber: t.Usage.Networks, Status: "ACTIVE"}
	out.Quotas.Network = t.Quota.Networks
	return out
}

type nwTenantAnswer struct {
	Tenant nwTenant `json:"tenant"`
}

// nwListTenants answers with the original's list key, "tenant" (singular), which scripts parse.
func (s *Server) nwListTenants(c *call) (int, any, error) {
	out := struct {
		Tenants []nwTenant `json:"tenant"`
	}{Tenants: []nwTenant{}}
	err := s.view(func(st *alloc.State) error {
		for _, t := range st.Tenants(c.actor) {
			out.Tenants = append(out.Tenants, nwTenantOf(tenantInfoOf(st, t)))
		}
		return nil
	})
	return okStatus, out, err
}

func (s *Server) nwGetTenant(c *call) (int, any, error) {
	t, err := s.lookupTenant(c.actor, c.r.PathValue("tenant"))
	return okStatus, nwTenantAnswer{Tenant: nwTenantOf(t)}, err
}

// nwCreateTenant creates the tenant the path names, with unlimited quota. (The original also made a
// "lan" network for it; here networks are always created explicitly.)
func (s *Server) nwCreateTenant(c *call) (int, any, error) {
	return s.nwCreate(c, model.Tenant{Name: c.r.PathValue("tenant")})
}

// nwCreateTenantByBody is the original's "exclusive tenant" call; its IaaS credentials have no use
// here and are ignored.
func (s *Server) nwCreateTenantByBody(c *call) (int, any, error) {
	var req struct {
		Name       string          `json:"name"`
		IaaSTenant json.RawMessage `json:"iaas_tenant"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	return s.nwCreate(c, model.Tenant{Name: req.Name})
}

func (s *Server) nwCreate(c *call, t model.Tenant) (int, any, error) {
	if _, err := s.b.Do(c.ctx(), alloc.CreateTenantCmd{As: c.as(), Tenant: t}); err != nil {
		return 0, nil, err
	}
	return okStatus, nwTenantAnswer{Tenant: nwTenantOf(TenantInfo{Tenant: t})}, nil
}

// nwDeleteTenant deletes an empty tenant. (The original deleted a tenant's networks with it; here
// they must be deleted first, and a tenant that still has some is a 409.)
func (s *Server) nwDeleteTenant(c *call) (int, any, error) {
	name := c.r.PathValue("tenant")
	if _, err := s.b.Do(c.ctx(), alloc.DeleteTenantCmd{As: c.as(), Name: name}); err != nil {
		return 0, nil, err
	}
	return okStatus, map[string]string{"msg": "tenant " + strconv.Quote(name) + " deleted"}, nil
}

// nwUpdateQuota sets the tenant's network quota from ?value=N, keeping its other settings.
func (s *Server) nwUpdateQuota(c *call) (int, any, error) {
	name := c.r.PathValue("tenant")
	raw := c.r.URL.Query().Get("value")
	value, err := strconv.Atoi(raw)
	if err != nil || value < 0 {
		return 0, nil, model.Invalid("value", "%q is not a quota; give the number of networks, e.g. ?value=10 (0 for unlimited)", raw)
	}
	cur, err := s.lookupTenant(c.actor, name)
	if err != nil {
		return 0, nil, err
	}
	t := cur.Tenant
	t.Quota.Networks = value
	if _, err := s.b.Do(c.ctx(), alloc.UpdateTenantCmd{As: c.as(), Tenant: t}); err != nil {
		return 0, nil, remapField(err, func(f string) string {
			if f == "quota.networks" || f == "quota" {
				return "value"
			}
			return f
		})
	}
	cur.Tenant = t
	return okStatus, nwTenantAnswer{Tenant: nwTenantOf(cur)}, nil
}
