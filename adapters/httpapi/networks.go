package httpapi

import (
	"net/http"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// readNetwork returns a network a may read: its own tenant's, or a public one. A network the caller
// may not read is refused the same way whether it exists or not, so that names do not leak.
func readNetwork(st *alloc.State, a alloc.Actor, tenant, name string) (model.Network, error) {
	n, ok := st.Network(tenant, name)
	switch {
	case ok && (n.Public || sees(a, tenant)):
		return n, nil
	case !sees(a, tenant):
		return model.Network{}, mustSee(a, tenant)
	}
	return model.Network{}, notFound("name", "network %q does not exist in tenant %q", name, tenant)
}

func networkStats(st *alloc.State, key string) *NetworkStats {
	v4, v6, ok := st.PoolStats(key)
	if !ok {
		return nil
	}
	tenant, name, _ := strings.Cut(key, "/")
	n, _ := st.Network(tenant, name)
	out := &NetworkStats{}
	if n.IPv4 != nil {
		p := poolStats(v4)
		out.IPv4 = &p
	}
	if n.IPv6 != nil {
		p := poolStats(v6)
		out.IPv6 = &p
	}
	return out
}

func (s *Server) listAllNetworks(c *call) (int, any, error) {
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := NetworkList{Networks: []model.Network{}}
	err = s.view(func(st *alloc.State) error {
		nets, next := paginate(st.Networks(c.actor, ""), networkKey, p)
		out.Networks, out.Continue = append(out.Networks, nets...), next
		return nil
	})
	return http.StatusOK, out, err
}

// listNetworks lists one tenant's networks: all of them for a caller that may read the tenant, its
// public ones for anyone else.
func (s *Server) listNetworks(c *call) (int, any, error) {
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	tenant := c.r.PathValue("tenant")
	out := NetworkList{Networks: []model.Network{}}
	err = s.view(func(st *alloc.State) error {
		if _, ok := st.Tenant(tenant); !ok {
			if err := mustSee(c.actor, tenant); err != nil {
				return err
			}
			return notFound("tenant", "tenant %q does not exist", tenant)
		}
		nets, next := paginate(st.Networks(c.actor, tenant), networkKey, p)
		out.Networks, out.Continue = append(out.Networks, nets...), next
		return nil
	})
	return http.StatusOK, out, err
}

func (s *Server) getNetwork(c *call) (int, any, error) {
	tenant, name := c.r.PathValue("tenant"), c.r.PathValue("name")
	var out NetworkInfo
	err := s.view(func(st *alloc.State) error {
		n, err := readNetwork(st, c.actor, tenant, name)
		if err != nil {
			return err
		}
		out = NetworkInfo{Network: n, Stats: networkStats(st, n.Key())}
		return nil
	})
	return http.StatusOK, out, err
}

func (s *Server) createNetwork(c *call) (int, any, error) {
	var n model.Network
	if err := c.decode(&n); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("tenant", &n.Tenant, c.r.PathValue("tenant")); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.CreateNetworkCmd{As: c.as(), Network: n})
	if err != nil {
		return 0, nil, err
	}
	if stored, ok := res.(model.Network); ok {
		n = stored
	}
	return http.StatusCreated, n, nil
}

func (s *Server) deleteNetwork(c *call) (int, any, error) {
	tenant, name := c.r.PathValue("tenant"), c.r.PathValue("name")
	_, err := s.b.Do(c.ctx(), alloc.DeleteNetworkCmd{As: c.as(), Tenant: tenant, Name: name})
	return http.StatusNoContent, nil, err
}

func networkKey(n model.Network) string { return n.Key() }
