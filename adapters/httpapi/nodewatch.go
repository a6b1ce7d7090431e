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
// the node set's revision is not since, or with changed false when ctx ends first.
// *manager.Manager implements it.
type NodeWatcher interface {
	WatchNodes(ctx context.Context, since string) (nodes []model.Node, rev string, changed bool, err error)
}

// NodeWatch answers GET /api/v1/nodes?watch=true. When Changed is false the node set is still the
// one at Revision and Nodes is empty: an unchanged set costs a few bytes, not a full list.
type NodeWatch struct {
	Revision string       `json:"revision"`
	Changed  bool         `json:"changed"`
	Nodes    []model.Node `json:"nodes"`
}

// nodeWatchParams are the query parameters of a node watch, on the node list's route.
var nodeWatchParams = []string{"watch", "since", "wait"}

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
	nodes, rev, changed, err := nw.WatchNodes(ctx, q.Get("since"))
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
func (c *Client) WatchNodes(ctx context.Context, since string, wait time.Duration) (NodeWatch, error) {
	if limit := c.http.Timeout - 2*time.Second; wait > limit {
		wait = limit
	}
	wait = max(wait.Truncate(time.Second), 0)
	q := url.Values{"watch": {"true"}, "wait": {strconv.Itoa(int(wait / time.Second))}}
	if since != "" {
		q.Set("since", since)
	}
	var out NodeWatch
	_, err := c.do(ctx, http.MethodGet, "/api/v1/nodes", q, nil, &out)
	return out, err
}
