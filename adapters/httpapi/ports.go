package httpapi

import (
	"net/http"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// portFilter turns the query of GET /api/v1/ports into the core's filter. A bare network name is
// qualified by the tenant parameter, or by the caller's own tenant.
func portFilter(a alloc.Actor, r *http.Request) (alloc.PortFilter, error) {
	q := r.URL.Query()
	f := alloc.PortFilter{Tenant: q.Get("tenant"), Network: q.Get("network"), Node: q.Get("node"), PodUID: q.Get("pod")}
	if f.Tenant != "" {
		if err := mustSee(a, f.Tenant); err != nil {
			return f, err
		}
	}
	if f.Network != "" && !strings.Contains(f.Network, "/") {
		owner := f.Tenant
		if owner == "" {
			owner = a.Tenant
		}
		if owner == "" {
			return f, model.Invalid("network", "%q names no tenant; give \"tenant/name\" or the tenant parameter", f.Network)
		}
		f.Network = owner + "/" + f.Network
	}
	return f, nil
}

func (s *Server) listPorts(c *call) (int, any, error) {
	f, err := portFilter(c.actor, c.r)
	if err != nil {
		return 0, nil, err
	}
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := PortList{Ports: []model.Port{}}
	err = s.view(func(st *alloc.State) error {
		ports, next, more := st.PortsPage(c.actor, f, alloc.PortCursor{UID: p.after.Key, Index: p.after.Index}, p.limit)
		out.Ports = append(out.Ports, ports...)
		if more {
			out.Continue = continueToken(cursor{Key: next.UID, Index: next.Index})
		}
		return nil
	})
	return http.StatusOK, out, err
}
