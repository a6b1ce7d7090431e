package httpapi

import (
	"net/http/httptest"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// standby serves a backend that is not the leader and knows the leader at leaderURL.
func standby(t *testing.T, leaderURL string, proxy bool) (*testBackend, *httptest.Server) {
	t.Helper()
	b := newTestBackend(t)
	b.setStatus(Status{Ready: true, LeaderURL: leaderURL, Reason: "standby"})
	srv := httptest.NewServer(NewServer(b, Options{Logger: quietLogger(), Proxy: proxy}))
	t.Cleanup(srv.Close)
	return b, srv
}

func TestProxyToLeader(t *testing.T) {
	f := newFixture(t)
	sb, srv := standby(t, f.srv.URL, true)
	call := func(token, method, path string, body any) resp {
		return doRequest(t, srv.Client(), srv.URL, token, method, path, body)
	}
	// A write through the standby lands in the leader, as the caller (acme) and not as anyone else.
	var n model.Network
	call(f.acme, "POST", "/api/v1/tenants/acme/networks", `{"name":"via-standby","type":"overlay","ipv4":{"cidr":"10.8.0.0/24"}}`).
		want(t, 201).decode(t, &n)
	if n.Tenant != "acme" || sb.calls != 0 {
		t.Fatalf("created %+v; standby applied %d commands", n, sb.calls)
	}
	if _, ok := f.b.st.Network("acme", "via-standby"); !ok {
		t.Fatal("the leader has no network made through the standby")
	}
	call(f.acme, "GET", "/api/v1/tenants/beta", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	call("", "GET", "/api/v1/tenants", nil).wantErr(t, 401, model.CodeUnauthenticated, "")
	var page NetworkList
	call(f.acme, "GET", "/api/v1/tenants/acme/networks?limit=1", nil).want(t, 200).decode(t, &page)
	if len(page.Networks) != 1 || page.Continue == "" {
		t.Fatalf("the query did not reach the leader: %+v", page)
	}
	call(f.acme, "GET", "/api/v1/tenants/acme/networks/via-standby?x=1", nil).wantErr(t, 400, model.CodeInvalid, "x")
	call(f.acme, "GET", "/nw/v1/tenants/acme/networks", nil).want(t, 200)
	// Probes stay local: the standby is ready but not the leader.
	var st Status
	call("", "GET", "/readyz", nil).want(t, 200).decode(t, &st)
	if st.Leader {
		t.Fatal("standby reports itself as leader")
	}
}

func TestProxyFailures(t *testing.T) {
	f := newFixture(t)
	// Without Proxy, a standby answers 503.
	_, plain := standby(t, f.srv.URL, false)
	doRequest(t, plain.Client(), plain.URL, f.admin, "GET", "/api/v1/tenants", nil).wantErr(t, 503, model.CodeUnavailable, "")

	// A leader that does not answer: 503.
	gone := httptest.NewServer(nil)
	gone.Close()
	_, srv := standby(t, gone.URL, true)
	doRequest(t, srv.Client(), srv.URL, f.admin, "GET", "/api/v1/tenants", nil).wantErr(t, 503, model.CodeUnavailable, "")

	// Two standbys naming each other (a stale leader address): one hop, then 503, never a loop.
	b1, s1 := standby(t, "", true)
	b2, s2 := standby(t, s1.URL, true)
	b1.setStatus(Status{Ready: true, LeaderURL: s2.URL})
	doRequest(t, s1.Client(), s1.URL, f.admin, "GET", "/api/v1/tenants", nil).wantErr(t, 503, model.CodeUnavailable, "")
	_ = b2

	// A leader URL that is not a URL: 503 rather than a crash.
	_, bad := standby(t, "10.0.0.2:9527", true)
	doRequest(t, bad.Client(), bad.URL, f.admin, "GET", "/api/v1/tenants", nil).wantErr(t, 503, model.CodeUnavailable, "")
}
