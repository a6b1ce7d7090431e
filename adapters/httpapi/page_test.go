package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// TestPagingEveryList: each list answers at most limit items with a continue token while more
// follow, the pages together are the whole list, bad limits and tokens are 400 naming the parameter,
// and the Go client reads all pages.
func TestPagingEveryList(t *testing.T) {
	f := newFixture(t)
	for i := range 7 {
		f.b.mustDo(t, alloc.CreateTenantCmd{Tenant: model.Tenant{Name: fmt.Sprintf("t%d", i)}})
		f.b.mustDo(t, alloc.CreateNetworkCmd{Network: overlay("acme", fmt.Sprintf("n%d", i), fmt.Sprintf("10.20.%d.0/24", i))})
		f.b.mustDo(t, alloc.RegisterNodeCmd{Node: model.Node{Name: fmt.Sprintf("node-%d", i)}})
		f.b.mustDo(t, alloc.CreateIPGroupCmd{IPGroup: model.IPGroup{Tenant: "acme", Name: fmt.Sprintf("g%d", i), Network: "net-a", Size: 1}})
		f.b.token(t, fmt.Sprintf("tok-%d", i), model.RoleTenant, "beta")
		f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: alloc.PodRequest{Pod: model.PodRef{UID: fmt.Sprintf("pod-%d", i), Namespace: "x", Name: "p"}, Tenant: "acme",
			Requests: []model.AttachRequest{{Network: "net-a", Interface: "eth0"}, {Network: fmt.Sprintf("n%d", i), Interface: "net1"}}}})
	}
	type list struct {
		path  string
		items func(resp) ([]string, string)
	}
	lists := []list{
		{"/api/v1/tenants", func(r resp) ([]string, string) {
			var l TenantList
			r.decode(t, &l)
			return mapNames(l.Tenants, func(x TenantInfo) string { return x.Name }), l.Continue
		}},
		{"/api/v1/networks", func(r resp) ([]string, string) {
			var l NetworkList
			r.decode(t, &l)
			return mapNames(l.Networks, networkKey), l.Continue
		}},
		{"/api/v1/tenants/acme/networks", func(r resp) ([]string, string) {
			var l NetworkList
			r.decode(t, &l)
			return mapNames(l.Networks, networkKey), l.Continue
		}},
		{"/api/v1/tenants/acme/ipgroups", func(r resp) ([]string, string) {
			var l IPGroupList
			r.decode(t, &l)
			return mapNames(l.IPGroups, func(x model.IPGroup) string { return x.Name }), l.Continue
		}},
		{"/api/v1/ports", func(r resp) ([]string, string) {
			var l PortList
			r.decode(t, &l)
			return mapNames(l.Ports, func(x model.Port) string { return x.ID }), l.Continue
		}},
		{"/api/v1/nodes", func(r resp) ([]string, string) {
			var l NodeList
			r.decode(t, &l)
			return mapNames(l.Nodes, func(x model.Node) string { return x.Name }), l.Continue
		}},
		{"/api/v1/tokens", func(r resp) ([]string, string) {
			var l TokenList
			r.decode(t, &l)
			return mapNames(l.Tokens, func(x TokenInfo) string { return x.ID }), l.Continue
		}},
	}
	for _, l := range lists {
		whole, next := l.items(f.call(t, f.admin, "GET", l.path, nil).want(t, 200))
		if next != "" || len(whole) < 7 {
			t.Fatalf("%s: %d items, continue %q", l.path, len(whole), next)
		}
		for _, limit := range []int{1, 2, 3, len(whole), len(whole) + 1} {
			var got []string
			token := ""
			for pages := 0; ; pages++ {
				q := url.Values{"limit": {fmt.Sprint(limit)}}
				if token != "" {
					q.Set("continue", token)
				}
				items, next := l.items(f.call(t, f.admin, "GET", l.path+"?"+q.Encode(), nil).want(t, 200))
				if len(items) > limit || pages > len(whole) {
					t.Fatalf("%s limit %d: page of %d", l.path, limit, len(items))
				}
				got = append(got, items...)
				if next == "" {
					break
				}
				token = next
			}
			if !slices.Equal(got, whole) {
				t.Fatalf("%s limit %d: pages %v, whole %v", l.path, limit, got, whole)
			}
		}
		f.call(t, f.admin, "GET", l.path+"?limit=0", nil).wantErr(t, 400, model.CodeInvalid, "limit")
		f.call(t, f.admin, "GET", l.path+fmt.Sprintf("?limit=%d", MaxPageSize+1), nil).wantErr(t, 400, model.CodeInvalid, "limit")
		f.call(t, f.admin, "GET", l.path+"?limit=x", nil).wantErr(t, 400, model.CodeInvalid, "limit")
		f.call(t, f.admin, "GET", l.path+"?continue=%25%25", nil).wantErr(t, 400, model.CodeInvalid, "continue")
		f.call(t, f.admin, "GET", l.path+"?limit=1&limit=2", nil).wantErr(t, 400, model.CodeInvalid, "limit")
	}

	c, err := NewClient(ClientConfig{URL: f.srv.URL, Token: f.admin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ports, err := c.ListPorts(ctx, PortQuery{})
	if err != nil || len(ports) != 14 {
		t.Fatalf("ListPorts: %d ports, %v", len(ports), err)
	}
	var paged []model.Port
	for p := (Page{Limit: 3}); ; {
		page, next, err := c.ListPortsPage(ctx, PortQuery{Tenant: "acme"}, p)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == "" {
			break
		}
		p.Continue = next
	}
	if fmt.Sprint(paged) != fmt.Sprint(ports) {
		t.Fatalf("paged %v\nwhole %v", paged, ports)
	}
}

func mapNames[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

// TestDefaultPageSize: a list without limit answers DefaultPageSize items and a continue token.
func TestDefaultPageSize(t *testing.T) {
	f := newFixture(t)
	for i := range DefaultPageSize + 1 {
		f.b.mustDo(t, alloc.RegisterNodeCmd{Node: model.Node{Name: fmt.Sprintf("node-%04d", i)}})
	}
	var l NodeList
	f.call(t, f.admin, "GET", "/api/v1/nodes", nil).want(t, 200).decode(t, &l)
	if len(l.Nodes) != DefaultPageSize || l.Continue == "" {
		t.Fatalf("%d nodes, continue %q", len(l.Nodes), l.Continue)
	}
	var second NodeList
	f.call(t, f.admin, "GET", "/api/v1/nodes?continue="+url.QueryEscape(l.Continue), nil).want(t, 200).decode(t, &second)
	if len(second.Nodes) != 1 || second.Nodes[0].Name != fmt.Sprintf("node-%04d", DefaultPageSize) || second.Continue != "" {
		t.Fatalf("second page %+v", second)
	}
}
