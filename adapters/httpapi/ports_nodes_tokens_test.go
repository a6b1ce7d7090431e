package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

func portIDs(l PortList) []string {
	var out []string
	for _, p := range l.Ports {
		out = append(out, p.ID)
	}
	return out
}

func TestPortList(t *testing.T) {
	f := newFixture(t)
	f.b.mustDo(t, alloc.RegisterNodeCmd{Node: model.Node{Name: "n1"}})
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("a1", "acme", "net-a")})
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("a2", "acme", "shared")})
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("b1", "beta", "net-b")})
	f.b.mustDo(t, alloc.BindPodCmd{UID: "a2", Node: "n1"})
	for _, tc := range []struct {
		token, query string
		want         []string
	}{
		{f.admin, "", []string{"a1/eth0", "a2/eth0", "b1/eth0"}},
		{f.acme, "", []string{"a1/eth0", "a2/eth0"}},
		{f.acme, "?network=net-a", []string{"a1/eth0"}},
		{f.admin, "?network=infra/shared", []string{"a2/eth0"}},
		{f.admin, "?tenant=acme&network=net-a", []string{"a1/eth0"}},
		{f.system, "?node=n1", []string{"a2/eth0"}},
		{f.system, "?pod=b1", []string{"b1/eth0"}},
		{f.acme, "?pod=b1", nil},
	} {
		var l PortList
		f.call(t, tc.token, "GET", "/api/v1/ports"+tc.query, nil).want(t, 200).decode(t, &l)
		if got := portIDs(l); !slices.Equal(got, tc.want) {
			t.Errorf("ports%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	f.call(t, f.acme, "GET", "/api/v1/ports?tenant=beta", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.admin, "GET", "/api/v1/ports?network=net-a", nil).wantErr(t, 400, model.CodeInvalid, "network")
	f.call(t, f.admin, "GET", "/api/v1/ports?nod=n1", nil).wantErr(t, 400, model.CodeInvalid, "nod")
	f.call(t, f.admin, "GET", "/api/v1/ports?node=n1&node=n2", nil).wantErr(t, 400, model.CodeInvalid, "node")
}

func TestNodes(t *testing.T) {
	f := newFixture(t)
	var n model.Node
	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"vtep":"192.168.0.1"}`).want(t, 200).decode(t, &n)
	if n.Name != "n1" || n.VTEP.String() != "192.168.0.1" {
		t.Fatalf("registered %+v", n)
	}
	f.call(t, f.admin, "PUT", "/api/v1/nodes/n2", `{"name":"n2"}`).want(t, 200)
	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"name":"n3"}`).wantErr(t, 400, model.CodeInvalid, "name")
	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"vtep":"224.0.0.1"}`).wantErr(t, 400, model.CodeInvalid, "vtep")
	f.call(t, f.system, "PUT", "/api/v1/nodes/n1", `{"vtep":"192.168.0"}`).wantErr(t, 400, model.CodeInvalid, "vtep")
	f.call(t, f.acme, "PUT", "/api/v1/nodes/n1", `{"vtep":"192.168.0.9"}`).wantErr(t, 403, model.CodeForbidden, "")

	var l NodeList
	f.call(t, f.system, "GET", "/api/v1/nodes", nil).want(t, 200).decode(t, &l)
	if len(l.Nodes) != 2 || l.Nodes[0].Name != "n1" {
		t.Fatalf("nodes %+v", l.Nodes)
	}
	f.call(t, f.acme, "GET", "/api/v1/nodes", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.admin, "GET", "/api/v1/nodes/n1", nil).want(t, 200)
	f.call(t, f.acme, "GET", "/api/v1/nodes/n1", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.admin, "GET", "/api/v1/nodes/n9", nil).wantErr(t, 404, model.CodeNotFound, "name")

	// Deleting a node releases the pods bound to it.
	f.b.mustDo(t, alloc.AllocatePodCmd{PodRequest: podReq("p1", "acme", "net-a")})
	f.b.mustDo(t, alloc.BindPodCmd{UID: "p1", Node: "n1"})
	f.call(t, f.acme, "DELETE", "/api/v1/nodes/n1", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.system, "DELETE", "/api/v1/nodes/n1", nil).want(t, 204)
	f.call(t, f.acme, "GET", "/api/v1/pods/p1", nil).wantErr(t, 404, model.CodeNotFound, "uid")
	f.call(t, f.system, "DELETE", "/api/v1/nodes/n1", nil).wantErr(t, 404, model.CodeNotFound, "name")
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	var created CreatedToken
	f.call(t, f.admin, "POST", "/api/v1/tokens", `{"id":"acme-ci","role":"tenant","tenant":"acme"}`).want(t, 201).decode(t, &created)
	if !strings.HasPrefix(created.Token, "acme-ci.") || created.Role != model.RoleTenant || created.Tenant != "acme" {
		t.Fatalf("created %+v", created)
	}
	// The new token works, as tenant acme.
	f.call(t, created.Token, "GET", "/api/v1/tenants/acme", nil).want(t, 200)
	f.call(t, created.Token, "GET", "/api/v1/tenants/beta", nil).wantErr(t, 403, model.CodeForbidden, "tenant")

	r := f.call(t, f.admin, "GET", "/api/v1/tokens", nil).want(t, 200)
	if strings.Contains(string(r.body), "hash") || strings.Contains(string(r.body), strings.TrimPrefix(created.Token, "acme-ci.")) {
		t.Fatalf("token list shows secrets: %s", r.body)
	}
	var l TokenList
	r.decode(t, &l)
	if len(l.Tokens) != 4 || l.Tokens[0].ID != "acme-ci" {
		t.Fatalf("tokens %+v", l.Tokens)
	}
	var ti TokenInfo
	f.call(t, f.admin, "GET", "/api/v1/tokens/acme-ci", nil).want(t, 200).decode(t, &ti)
	if ti != created.TokenInfo {
		t.Fatalf("get %+v, want %+v", ti, created.TokenInfo)
	}

	f.call(t, f.acme, "GET", "/api/v1/tokens", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.system, "GET", "/api/v1/tokens/acme-ci", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.acme, "POST", "/api/v1/tokens", `{"id":"mine","role":"admin"}`).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.admin, "POST", "/api/v1/tokens", `{"id":"acme-ci","role":"system"}`).wantErr(t, 409, model.CodeConflict, "id")
	f.call(t, f.admin, "POST", "/api/v1/tokens", `{"id":"x","role":"root"}`).wantErr(t, 400, model.CodeInvalid, "role")
	f.call(t, f.admin, "POST", "/api/v1/tokens", `{"id":"x","role":"tenant","tenant":"nope"}`).wantErr(t, 404, model.CodeNotFound, "tenant")
	f.call(t, f.admin, "GET", "/api/v1/tokens/nope", nil).wantErr(t, 404, model.CodeNotFound, "id")

	f.call(t, f.acme, "DELETE", "/api/v1/tokens/acme-ci", nil).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.admin, "DELETE", "/api/v1/tokens/acme-ci", nil).want(t, http.StatusNoContent)
	f.call(t, created.Token, "GET", "/api/v1/tenants/acme", nil).wantErr(t, 401, model.CodeUnauthenticated, "")
	f.call(t, f.admin, "DELETE", "/api/v1/tokens/acme-ci", nil).wantErr(t, 404, model.CodeNotFound, "id")
}
