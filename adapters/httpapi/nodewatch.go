package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// NodeWatcher is the optional backend method behind GET /api/v1/nodes?watch=true: it answers when
// the node set's revision is not since, or with changed false when ctx ends first. node and applied
// are the watching agent's node and the revision it has applied ("" from other watchers).
// *manager.Manager implements it.
type NodeWatcher interface {
	WatchNodes(ctx context.Context, node, applied, since string) (nodes []model.Node, rev string, changed bool, err error)
}

// PeerGate is the optional backend method behind GET /api/v1/nodes/{name}/applied: it answers when
// every live agent has applied node's registration (behind empty), or when ctx ends with the live
// agents that had not. *manager.Manager implements it.
type PeerGate interface {
	WaitPeersApplied(ctx context.Context, node string) (behind []string, err error)
}

// PeersApplied answers GET /api/v1/nodes/{name}/applied.
type PeersApplied struct {
	Node string `json:"node"`
	// Applied is true when every live agent has applied the node's registration.
	Applied bool `json:"applied"`
	// Behind names the live agents that had not when the wait ended.
	Behind []string `json:"behind"`
}

// MaxPeerGateWait bounds how long the server holds a peer-gate request open.
const MaxPeerGateWait = 10 * time.Second

// NodeWatch answers GET /api/v1/nodes?watch=true. When Changed is false the node set is still the
// one at Revision and Nodes is empty: an unchanged set costs a few bytes, not a full list.
type NodeWatch struct {
	Revision string       `json:"revision"`
	Changed  bool         `json:"changed"`
	Nodes    []model.Node `json:"nodes"`
}

// nodeWatchParams are the query parameters of a node watch, on the node list's route.
var nodeWatchParams = []string{"watch", "since", "wait", "node", "applied"}

// MaxNodeWatchWait bounds how long the server holds a node watch open.
const MaxNodeWatchWait = 60 * time.Second

// watchNodes long-polls the node set: GET /api/v1/nodes?watch=true&since=REV&wait=SECONDS.
func (s *Server) watchNodes(c *call) (int, any, error) {
	if err := checkQuery(c.r, nodeWatchParams...); err != nil {
		return 0, nil, err
	}
	if err := mustSeeInfra(c.actor); err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	if v := q.Get("watch"); v != "true" {
		return 0, nil, model.Invalid("watch", "is %q; give watch=true to wait for the node set to change", clip(v))
	}
	wait := 30 * time.Second
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || time.Duration(n)*time.Second > MaxNodeWatchWait {
			return 0, nil, model.Invalid("wait", "is %q; give whole seconds from 0 to %d", clip(v), int(MaxNodeWatchWait/time.Second))
		}
		wait = time.Duration(n) * time.Second
	}
	nw, ok := s.b.(NodeWatcher)
	if !ok {
		return 0, nil, model.Errorf(model.CodeInvalid, "watch", "this manager cannot watch nodes; list them instead")
	}
	ctx, cancel := context.WithTimeout(c.ctx(), wait)
	defer cancel()
	node := q.Get("node")
	if node != "" {
		if err := model.ValidateNodeName("node", node); err != nil {
			return 0, nil, err
		}
	}
	nodes, rev, changed, err := nw.WatchNodes(ctx, node, q.Get("applied"), q.Get("since"))
	if err != nil {
		return 0, nil, err
	}
	out := NodeWatch{Revision: rev, Changed: changed, Nodes: nodes}
	if out.Nodes == nil {
		out.Nodes = []model.Node{}
	}
	return http.StatusOK, out, nil
}

// clip bounds a value echoed in an error message.
func clip(v string) string {
	if len(v) > 64 {
		return v[:64] + "..."
	}
	return v
}

// WatchNodes waits up to wait (whole seconds, capped at MaxNodeWatchWait and kept below the
// client's own timeout) for the node set to change from revision since ("" answers at once).
// node and applied say which agent watches and the revision it has applied (both may be "").
func (c *Client) WatchNodes(ctx context.Context, node, applied, since string, wait time.Duration) (NodeWatch, error) {
	if limit := c.http.Timeout - 2*time.Second; wait > limit {
		wait = limit
	}
	wait = max(wait.Truncate(time.Second), 0)
	q := url.Values{"watch": {"true"}, "wait": {strconv.Itoa(int(wait / time.Second))}}
	if since != "" {
		q.Set("since", since)
	}
	if node != "" {
		q.Set("node", node)
	}
	if applied != "" {
		q.Set("applied", applied)
	}
	var out NodeWatch
	_, err := c.do(ctx, http.MethodGet, "/api/v1/nodes", q, nil, &out)
	return out, err
}

// peersApplied waits (GET /api/v1/nodes/{name}/applied?wait=DURATION, default 2s, at most
// MaxPeerGateWait) until every live agent has applied node {name}'s registration.
func (s *Server) peersApplied(c *call) (int, any, error) {
	if err := mustSeeInfra(c.actor); err != nil {
		return 0, nil, err
	}
	wait := 2 * time.Second
	if v := c.r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxPeerGateWait {
			return 0, nil, model.Invalid("wait", "is %q; give a duration from 0s to %s, e.g. 2s or 500ms", clip(v), MaxPeerGateWait)
		}
		wait = d
	}
	pg, ok := s.b.(PeerGate)
	if !ok {
		return 0, nil, model.Errorf(model.CodeInvalid, "name", "this manager cannot tell what the agents have applied")
	}
	name := c.r.PathValue("name")
	ctx, cancel := context.WithTimeout(c.ctx(), wait)
	defer cancel()
	behind, err := pg.WaitPeersApplied(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	out := PeersApplied{Node: name, Applied: len(behind) == 0, Behind: behind}
	if out.Behind == nil {
		out.Behind = []string{}
	}
	return http.StatusOK, out, nil
}

// PeersApplied waits up to wait (kept below the client's own timeout) until every live agent has
// applied node's registration; the answer names those that had not when the wait ended.
func (c *Client) PeersApplied(ctx context.Context, node string, wait time.Duration) (PeersApplied, error) {
	if limit := c.http.Timeout - time.Second; c.http.Timeout > 0 && wait > limit {
		wait = limit
	}
	q := url.Values{"wait": {max(wait, 0).String()}}
	var out PeersApplied
	_, err := c.do(ctx, http.MethodGet, "/api/v1/nodes/"+url.PathEscape(node)+"/applied", q, nil, &out)
	return out, err
}
