package httpapi

import (
	"net/http"
	"net/netip"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// nwIPGroupReq is the original IP group body: addresses as "[a,b]" or a count as "size".
type nwIPGroupReq struct {
	Name      string   `json:"name"`
	IPs       flexIPs  `json:"ips"`
	NetworkID string   `json:"network_id"`
	Size      flexUint `json:"size"`
}

type nwIPGroupBody struct {
	IPGroup *nwIPGroupReq `json:"ipgroup"`
}

type nwIP struct {
	IPAddr string `json:"ip_addr"`
	Used   bool   `json:"used"`
}

// nwIPGroup is an IP group in the original API's shape; id is the name.
type nwIPGroup struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	IPs       []nwIP `json:"ips"`
	NetworkID string `json:"network_id"`
	Size      int    `json:"size"`
}

// nwIPGroupOf shows a group with which of its addresses ports use.
func nwIPGroupOf(st *alloc.State, g model.IPGroup) nwIPGroup {
	used := map[netip.Addr]bool{}
	for _, p := range st.Ports(alloc.Admin, alloc.PortFilter{Network: g.Tenant + "/" + g.Network}) {
		if p.IPGroup == g.Name {
			for _, ip := range p.IPs {
				used[ip] = true
			}
		}
	}
	out := nwIPGroup{Name: g.Name, ID: g.Name, NetworkID: g.Network, Size: len(g.IPs), IPs: []nwIP{}}
	for _, ip := range g.IPs {
		out.IPs = append(out.IPs, nwIP{IPAddr: ip.String(), Used: used[ip]})
	}
	return out
}

var nwIPGroupFields = fieldMapper("ipgroup", [2]string{"network", "network_id"})

func (s *Server) nwReadBody(c *call) (*nwIPGroupReq, error) {
	var body nwIPGroupBody
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if body.IPGroup == nil {
		return nil, model.Invalid("ipgroup", "the body needs an \"ipgroup\" object")
	}
	return body.IPGroup, nil
}

func (s *Server) nwListIPGroups(c *call) (int, any, error) {
	tenant, network := c.r.PathValue("tenant"), c.r.URL.Query().Get("network_id")
	if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	out := struct {
		IPGroups []nwIPGroup `json:"ipgroups"`
	}{IPGroups: []nwIPGroup{}}
	err := s.view(func(st *alloc.State) error {
		for _, g := range st.IPGroups(c.actor, tenant) {
			if network == "" || g.Network == network {
				out.IPGroups = append(out.IPGroups, nwIPGroupOf(st, g))
			}
		}
		return nil
	})
	return okStatus, out, err
}

func (s *Server) nwGroupAnswer(c *call, tenant, name string) (int, any, error) {
	var out nwIPGroup
	err := s.view(func(st *alloc.State) error {
		g, ok := st.IPGroup(tenant, name)
		if !ok {
			return notFound("id", "IP group %q does not exist in tenant %q", name, tenant)
		}
		out = nwIPGroupOf(st, g)
		return nil
	})
	return okStatus, map[string]nwIPGroup{"ipgroup": out}, err
}

func (s *Server) nwGetIPGroup(c *call) (int, any, error) {
	tenant := c.r.PathValue("tenant")
	if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	return s.nwGroupAnswer(c, tenant, c.r.PathValue("id"))
}

func (s *Server) nwCreateIPGroup(c *call) (int, any, error) {
	tenant := c.r.PathValue("tenant")
	req, err := s.nwReadBody(c)
	if err != nil {
		return 0, nil, err
	}
	g := model.IPGroup{Name: req.Name, Tenant: tenant, Network: req.NetworkID, IPs: req.IPs, Size: int(req.Size)}
	if _, err := s.b.Do(c.ctx(), alloc.CreateIPGroupCmd{As: c.as(), IPGroup: g}); err != nil {
		return 0, nil, remapField(err, nwIPGroupFields)
	}
	return s.nwGroupAnswer(c, tenant, g.Name)
}

// nwUpdateIPGroup replaces the group's addresses; an empty "ips" changes nothing, as in the original.
func (s *Server) nwUpdateIPGroup(c *call) (int, any, error) {
	tenant, id := c.r.PathValue("tenant"), c.r.PathValue("id")
	req, err := s.nwReadBody(c)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case req.Name != "" && req.Name != id:
		return 0, nil, model.Invalid("ipgroup.name", "IP groups cannot be renamed; create a new group named %q", req.Name)
	case req.Size != 0:
		return 0, nil, model.Invalid("ipgroup.size", "an IP group's size cannot be changed; list its new addresses in ips")
	}
	if len(req.IPs) > 0 {
		g := model.IPGroup{Name: id, Tenant: tenant, Network: req.NetworkID, IPs: req.IPs}
		if _, err := s.b.Do(c.ctx(), alloc.UpdateIPGroupCmd{As: c.as(), IPGroup: g}); err != nil {
			return 0, nil, remapField(err, nwIPGroupFields)
		}
	} else if err := mustSee(c.actor, tenant); err != nil {
		return 0, nil, err
	}
	return s.nwGroupAnswer(c, tenant, id)
}

func (s *Server) nwDeleteIPGroup(c *call) (int, any, error) {
	tenant, id := c.r.PathValue("tenant"), c.r.PathValue("id")
	_, err := s.b.Do(c.ctx(), alloc.DeleteIPGroupCmd{As: c.as(), Tenant: tenant, Name: id})
	return http.StatusNoContent, nil, remapField(err, func(f string) string {
		if f == "name" {
			return "id"
		}
		return f
	})
}
