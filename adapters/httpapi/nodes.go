package httpapi

import (
	"net/http"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func (s *Server) listNodes(c *call) (int, any, error) {
	if c.r.URL.Query().Has("watch") {
		return s.watchNodes(c)
	}
	if err := mustSeeInfra(c.actor); err != nil {
		return 0, nil, err
	}
	p, err := pageOf(c.r)
	if err != nil {
		return 0, nil, err
	}
	out := NodeList{Nodes: []model.Node{}}
	err = s.view(func(st *alloc.State) error {
		nodes, next := paginate(st.Nodes(), func(n model.Node) string { return n.Name }, p)
		out.Nodes, out.Continue = append(out.Nodes, nodes...), next
		return nil
	})
	return http.StatusOK, out, err
}

func (s *Server) getNode(c *call) (int, any, error) {
	if err := mustSeeInfra(c.actor); err != nil {
		return 0, nil, err
	}
	name := c.r.PathValue("name")
	var n model.Node
	err := s.view(func(st *alloc.State) error {
		var ok bool
		if n, ok = st.Node(name); !ok {
			return notFound("name", "node %q is not registered", name)
		}
		return nil
	})
	return http.StatusOK, n, err
}

// registerNode adds a node or refreshes its heartbeat; knitter-agent calls it on start and then
// periodically.
func (s *Server) registerNode(c *call) (int, any, error) {
	var req NodeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := pathMatch("name", &req.Name, c.r.PathValue("name")); err != nil {
		return 0, nil, err
	}
	res, err := s.b.Do(c.ctx(), alloc.RegisterNodeCmd{As: c.as(), Node: model.Node{Name: req.Name, VTEP: req.VTEP}})
	return http.StatusOK, res, err
}

// deleteNode forgets a node and releases every pod bound to it.
func (s *Server) deleteNode(c *call) (int, any, error) {
	_, err := s.b.Do(c.ctx(), alloc.ReleaseNodeCmd{As: c.as(), Name: c.r.PathValue("name")})
	return http.StatusNoContent, nil, err
}
