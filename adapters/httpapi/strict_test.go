package httpapi

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// TestDuplicateKeys: a key given twice is refused with its path, at the top, nested, in arrays, in
// maps and across spellings that encoding/json treats as one field.
func TestDuplicateKeys(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/api/v1/tenants", `{"name":"dup","name":"dup2"}`, "name"},
		{"/api/v1/tenants", `{"name":"dup","NAME":"dup2"}`, "NAME"},
		{"/api/v1/tenants", `{"name":"dup","quota":{"ports":1,"ports":2}}`, "quota.ports"},
		{"/api/v1/tenants/acme/networks", `{"name":"x","type":"overlay","ipv4":{"cidr":"10.4.0.0/24","routes":[{"dst":"0.0.0.0/0","dst":"1.0.0.0/8"}]}}`, "ipv4.routes[0].dst"},
		{"/api/v1/pods", `{"pod":{"uid":"u","namespace":"n","name":"p"},"tenant":"acme","tenant":"beta","requests":[{"network":"net-a","interface":"eth0"}]}`, "tenant"},
		{"/api/v1/pods", `{"pod":{"uid":"u","namespace":"n","name":"p"},"tenant":"acme","requests":[{"network":"net-a","interface":"eth0","metadata":{"k":"1","k":"2"}}]}`, "requests[0].metadata.k"},
		{"/nw/v1/tenants/acme/networks", `{"network":{"name":"n","cidr":"10.5.0.0/24","cidr":"10.6.0.0/24"}}`, "network.cidr"},
	} {
		e := f.call(t, f.admin, "POST", tc.path, tc.body).wantErr(t, 400, model.CodeInvalid, tc.field)
		if !strings.Contains(e.Message, "twice") {
			t.Errorf("%s: message %q", tc.body, e.Message)
		}
	}
	// Distinct map keys that differ in case are distinct keys.
	f.call(t, f.admin, "POST", "/api/v1/pods", `{"pod":{"uid":"u2","namespace":"n","name":"p"},"tenant":"acme","requests":[{"network":"net-a","interface":"eth0","metadata":{"k":"1","K":"2"}}]}`).want(t, 201)
	if _, ok := f.b.st.Tenant("dup"); ok {
		t.Fatal("a refused body created its tenant")
	}
}

// TestMutatingRoutesRefuseUnknownQuery: every route refuses query parameters it does not take, the
// mutating ones included (DELETE ?force=true must not look as if it forced anything), and nothing
// changes.
func TestMutatingRoutesRefuseUnknownQuery(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"gone"}`).want(t, 201)
	for _, tc := range []struct{ method, path, body string }{
		{"DELETE", "/api/v1/tenants/gone?force=true", ""},
		{"POST", "/api/v1/tenants?dry_run=1", `{"name":"x"}`},
		{"PUT", "/api/v1/tenants/gone?force=true", `{"name":"gone"}`},
		{"DELETE", "/api/v1/tenants/acme/networks/net-a?force=true", ""},
		{"POST", "/api/v1/pods?force=true", `{}`},
		{"DELETE", "/api/v1/pods/p1?force=true", ""},
		{"DELETE", "/api/v1/nodes/n1?cascade=false", ""},
		{"DELETE", "/api/v1/tokens/acme-ops?force=true", ""},
		{"GET", "/api/v1/tenants/acme?verbose=1", ""},
		{"PUT", "/nw/v1/tenants/acme/quota?value=3&force=true", ""},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		field := "force"
		for _, k := range []string{"dry_run", "cascade", "verbose"} {
			if strings.Contains(tc.path, k) {
				field = k
			}
		}
		e := f.call(t, f.admin, tc.method, tc.path, body).wantErr(t, 400, model.CodeInvalid, field)
		if !strings.Contains(e.Message, "unknown query parameter") {
			t.Errorf("%s %s: %q", tc.method, tc.path, e.Message)
		}
	}
	if _, ok := f.b.st.Tenant("gone"); !ok {
		t.Fatal("DELETE ?force=true deleted the tenant")
	}
	if _, ok := f.b.st.Token("acme-ops"); !ok {
		t.Fatal("DELETE ?force=true deleted the token")
	}
	f.call(t, f.admin, "DELETE", "/api/v1/tenants/gone", nil).want(t, 204)
}

// rawRequest sends one HTTP/1.1 request line as written (no client-side cleaning) and returns the
// answer.
func rawRequest(t *testing.T, addr string, tlsConf *tls.Config, line, token string) *http.Response {
	t.Helper()
	var conn net.Conn
	var err error
	if tlsConf != nil {
		conn, err = tls.Dial("tcp", addr, tlsConf)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := line + "\r\nHost: " + addr + "\r\nConnection: close\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEveryAnswerIsJSON: paths the mux would redirect, CONNECT, unknown methods and unknown paths
// are all answered in the API's error shape, never with a redirect or an HTML or text body.
func TestEveryAnswerIsJSON(t *testing.T) {
	f := newFixture(t)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	for _, tc := range []struct {
		line   string
		status int
		code   model.Code
	}{
		{"GET //api/v1/tenants HTTP/1.1", 404, model.CodeNotFound},
		{"GET /api/v1/tenants/beta/../acme HTTP/1.1", 404, model.CodeNotFound},
		{"GET /api/v1/tenants/./acme HTTP/1.1", 404, model.CodeNotFound},
		{"DELETE /api/v1//tenants/acme HTTP/1.1", 404, model.CodeNotFound},
		{"GET /api/v1/tenants/acme%2F..%2Fbeta HTTP/1.1", 404, model.CodeNotFound},
		{"CONNECT 127.0.0.1:22 HTTP/1.1", 405, CodeMethodNotAllowed},
		{"CONNECT /api/v1/tenants HTTP/1.1", 405, CodeMethodNotAllowed},
		{"BREW /api/v1/tenants HTTP/1.1", 405, CodeMethodNotAllowed},
		{"OPTIONS /api/v1/tenants HTTP/1.1", 405, CodeMethodNotAllowed},
		{"TRACE /api/v1/tenants HTTP/1.1", 405, CodeMethodNotAllowed},
		{"GET /nowhere HTTP/1.1", 404, model.CodeNotFound},
		{"GET /api/v1/tenants/ HTTP/1.1", 404, model.CodeNotFound},
		{"GET /api/v1/pods/a/b HTTP/1.1", 404, model.CodeNotFound},
	} {
		r := rawRequest(t, addr, nil, tc.line, f.admin)
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != tc.status || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q Location %q: %s", tc.line, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Location"), b)
			continue
		}
		if !strings.Contains(string(b), fmt.Sprintf(`"code":%q`, tc.code)) {
			t.Errorf("%s: body %s", tc.line, b)
		}
	}
	// Nothing was deleted through a path that cleans to another one.
	if _, ok := f.b.st.Tenant("acme"); !ok {
		t.Fatal("acme is gone")
	}
}
