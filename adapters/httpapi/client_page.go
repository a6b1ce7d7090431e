package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/knitter-cni/knitter/core/model"
)

// Page selects one page of a list: at most Limit items (0 means the manager's default,
// DefaultPageSize; at most MaxPageSize) after the position Continue, the continue token of the
// previous page ("" for the first page).
type Page struct {
	Limit    int
	Continue string
}

func (p Page) addTo(v url.Values) url.Values {
	if v == nil {
		v = url.Values{}
	}
	if p.Limit != 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Continue != "" {
		v.Set("continue", p.Continue)
	}
	return v
}

// listAll reads every page of a list, ClientConfig.PageSize items at a time: each page is one bounded answer
// of the manager, and the pages are positioned by key, so an item that exists for the whole listing
// is returned exactly once.
func listAll[L any, T any](ctx context.Context, c *Client, path string, q url.Values, items func(*L) ([]T, string)) ([]T, error) {
	out := []T{}
	p := Page{Limit: c.pageSize}
	for {
		var page L
		if _, err := c.do(ctx, http.MethodGet, path, p.addTo(cloneValues(q)), nil, &page); err != nil {
			return nil, err
		}
		got, next := items(&page)
		out = append(out, got...)
		if next == "" {
			return out, nil
		}
		if next == p.Continue {
			return nil, fmt.Errorf("GET %s: the manager answered the same continue token twice", path)
		}
		p.Continue = next
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// ListPortsPage returns one page of the ports that match q and the continue token of the next page
// ("" after the last page). ListPorts reads them all.
func (c *Client) ListPortsPage(ctx context.Context, q PortQuery, p Page) ([]model.Port, string, error) {
	var out PortList
	_, err := c.do(ctx, http.MethodGet, "/api/v1/ports", p.addTo(q.values()), nil, &out)
	return out.Ports, out.Continue, err
}
