package main_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// TestEndpointsOfTheRealServer drives every route of a real knitter-manager (embedded etcd, TLS,
// bootstrap file) with admin, system and tenant tokens: each route's success and its error paths,
// tenant isolation, the original Knitter /nw/v1 paths, and what is stored surviving a restart.
func TestEndpointsOfTheRealServer(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--bootstrap", "../../examples/bootstrap.yaml"}
	p := startManager(t, args...)
	ca := filepath.Join(dir, "pki", "ca.crt")
	waitFile(t, ca, p)
	admin := readFile(t, filepath.Join(dir, "admin.token"))
	waitLeader(t, 30*time.Second, client(t, p.url, admin, ca))
	hc := httpsClient(t, ca)
	ctx := context.Background()
	c := client(t, p.url, admin, ca)
	mint := func(id string, role model.Role, tenant string) string {
		tok, err := c.CreateToken(ctx, httpapi.TokenRequest{ID: id, Role: role, Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	if _, err := c.CreateTenant(ctx, model.Tenant{Name: "beta"}); err != nil {
		t.Fatal(err)
	}
	tok := map[string]string{
		"admin": admin, "none": "", "bad": "nobody.secret",
		"demo":   mint("demo-ci", model.RoleTenant, "demo"),
		"beta":   mint("beta-ci", model.RoleTenant, "beta"),
		"system": mint("agents", model.RoleSystem, ""),
	}
	pod := `{"pod":{"uid":"u-1","namespace":"demo","name":"web-0"},"tenant":"demo","requests":[{"network":"demo-overlay","interface":"eth0","default_route":true},{"network":"demo-vlan100","interface":"net1"}]}`
	steps := []struct {
		who, method, path, body string
		status                  int
		contains                string
	}{
		{"none", "GET", "/healthz", "", 200, ""},
		{"none", "GET", "/readyz", "", 200, `"leader":true`},
		{"none", "GET", "/metrics", "", 401, `"code":"unauthenticated"`},
		{"demo", "GET", "/metrics", "", 403, `"code":"forbidden"`},
		{"system", "GET", "/metrics", "", 200, "knitter_pool_capacity_addresses"},
		{"admin", "GET", "/metrics", "", 200, "knitter_pool_capacity_addresses"},
		{"none", "GET", "/api/v1/tenants", "", 401, `"code":"unauthenticated"`},
		{"bad", "GET", "/api/v1/tenants", "", 401, `"code":"unauthenticated"`},
		// tenants
		{"admin", "GET", "/api/v1/tenants", "", 200, `"name":"demo"`},
		{"demo", "GET", "/api/v1/tenants", "", 200, `"name":"demo"`},
		{"admin", "POST", "/api/v1/tenants", `{"name":"acme","quota":{"networks":1}}`, 201, `"name":"acme"`},
		{"admin", "POST", "/api/v1/tenants", `{"name":"acme"}`, 409, `already exists`},
		{"admin", "POST", "/api/v1/tenants", `{"nmae":"x"}`, 400, `"field":"nmae"`},
		{"demo", "POST", "/api/v1/tenants", `{"name":"evil"}`, 403, `"code":"forbidden"`},
		{"admin", "GET", "/api/v1/tenants/acme", "", 200, `"usage"`},
		{"beta", "GET", "/api/v1/tenants/acme", "", 403, ""},
		{"admin", "GET", "/api/v1/tenants/nope", "", 404, `"code":"not_found"`},
		{"admin", "PUT", "/api/v1/tenants/acme", `{"name":"acme","quota":{"networks":2}}`, 200, `"networks":2`},
		// networks
		{"demo", "GET", "/api/v1/networks", "", 200, `"name":"shared"`},
		{"admin", "POST", "/api/v1/tenants/acme/networks", `{"name":"n1","type":"overlay","ipv4":{"cidr":"10.50.0.0/24"}}`, 201, `"vni"`},
		{"admin", "POST", "/api/v1/tenants/acme/networks", `{"name":"n2","type":"overlay","ipv4":{"cidr":"10.50.0.0/25"}}`, 409, `overlaps`},
		{"admin", "POST", "/api/v1/tenants/acme/networks", `{"name":"n2","type":"vlan","ipv4":{"cidr":"10.51.0.0/24"}}`, 400, `"field":"vlan"`},
		{"admin", "POST", "/api/v1/tenants/acme/networks", `{"name":"n2","type":"overlay","ipv4":{"cidrr":"10.51.0.0/24"}}`, 400, `"field":"ipv4.cidrr"`},
		{"beta", "POST", "/api/v1/tenants/acme/networks", `{"name":"n3","type":"overlay","ipv4":{"cidr":"10.52.0.0/24"}}`, 403, ""},
		{"beta", "POST", "/api/v1/tenants/beta/networks", `{"name":"pub","public":true,"type":"overlay","ipv4":{"cidr":"10.53.0.0/24"}}`, 403, "public"},
		{"admin", "GET", "/api/v1/tenants/acme/networks", "", 200, `"name":"n1"`},
		{"admin", "GET", "/api/v1/tenants/demo/networks/demo-overlay", "", 200, `"capacity"`},
		{"beta", "GET", "/api/v1/tenants/demo/networks/demo-overlay", "", 403, ""},
		{"beta", "GET", "/api/v1/tenants/admin/networks/shared", "", 200, `"public":true`},
		{"beta", "DELETE", "/api/v1/tenants/admin/networks/shared", "", 403, ""},
		{"admin", "GET", "/api/v1/tenants/acme/networks/nope", "", 404, ""},
		// ip groups
		{"demo", "GET", "/api/v1/tenants/demo/ipgroups", "", 200, `"name":"frontends"`},
		{"demo", "POST", "/api/v1/tenants/demo/ipgroups", `{"name":"g2","network":"demo-overlay","size":2}`, 201, `"ips"`},
		{"demo", "POST", "/api/v1/tenants/demo/ipgroups", `{"name":"g3","network":"demo-overlay","ips":["10.99.0.1"]}`, 400, "outside"},
		{"demo", "GET", "/api/v1/tenants/demo/ipgroups/g2", "", 200, `"size":2`},
		{"demo", "PUT", "/api/v1/tenants/demo/ipgroups/frontends", `{"ips":["10.10.0.200","10.10.0.202"]}`, 200, `10.10.0.202`},
		{"beta", "GET", "/api/v1/tenants/demo/ipgroups/g2", "", 403, ""},
		{"demo", "DELETE", "/api/v1/tenants/demo/ipgroups/g2", "", 204, ""},
		{"demo", "DELETE", "/api/v1/tenants/demo/ipgroups/g2", "", 404, ""},
		// pods and ports
		{"system", "POST", "/api/v1/pods", pod, 201, `"ports"`},
		{"system", "POST", "/api/v1/pods", pod, 200, `"ports"`},
		{"system", "POST", "/api/v1/pods", strings.Replace(pod, "net1", "net9", 1), 409, "different request"},
		{"beta", "POST", "/api/v1/pods", strings.Replace(pod, "u-1", "u-2", 1), 403, ""},
		{"system", "POST", "/api/v1/pods", `{"pod":{"uid":"u-3"},"tenant":"demo","requests":[]}`, 400, `"field":"requests"`},
		{"demo", "GET", "/api/v1/pods/u-1", "", 200, `"interface":"net1"`},
		{"beta", "GET", "/api/v1/pods/u-1", "", 404, ""},
		{"system", "POST", "/api/v1/pods/u-1/bind", `{"node":"worker-1"}`, 404, "not registered"},
		{"system", "PUT", "/api/v1/nodes/worker-1", `{"vtep":"192.0.2.11"}`, 200, `"vtep":"192.0.2.11"`},
		{"demo", "PUT", "/api/v1/nodes/worker-2", `{"vtep":"192.0.2.12"}`, 403, ""},
		{"system", "POST", "/api/v1/pods/u-1/bind", `{"node":"worker-1"}`, 200, `"state":"bound"`},
		{"admin", "GET", "/api/v1/ports?node=worker-1", "", 200, `"u-1/eth0"`},
		{"demo", "GET", "/api/v1/ports?tenant=demo", "", 200, `"u-1/net1"`},
		{"beta", "GET", "/api/v1/ports", "", 200, `"ports":[]`},
		{"admin", "GET", "/api/v1/ports?colour=red", "", 400, "colour"},
		{"system", "GET", "/api/v1/nodes", "", 200, "worker-1"},
		{"system", "GET", "/api/v1/nodes/worker-1", "", 200, "192.0.2.11"},
		{"demo", "GET", "/api/v1/nodes", "", 403, ""},
		{"admin", "DELETE", "/api/v1/tenants/demo/networks/demo-overlay", "", 409, "ports"},
		// tokens
		{"admin", "GET", "/api/v1/tokens", "", 200, `"id":"demo-ci"`},
		{"admin", "GET", "/api/v1/tokens/agents", "", 200, `"role":"system"`},
		{"demo", "GET", "/api/v1/tokens", "", 403, ""},
		{"admin", "POST", "/api/v1/tokens", `{"id":"x","role":"root"}`, 400, `"field":"role"`},
		// the original Knitter paths
		{"admin", "GET", "/nw/v1/tenants", "", 200, `"demo"`},
		{"admin", "POST", "/nw/v1/tenants/legacy", "", 200, `"id":"legacy"`},
		{"admin", "PUT", "/nw/v1/tenants/legacy/quota?value=3", "", 200, ""},
		{"admin", "POST", "/nw/v1/tenants/legacy/networks", `{"network":{"name":"net_api","cidr":"10.60.0.0/24","gateway":"10.60.0.1"}}`, 200, `"net_api"`},
		{"admin", "GET", "/nw/v1/tenants/legacy/networks", "", 200, `"net_api"`},
		{"admin", "GET", "/nw/v1/tenants/legacy/networks/net_api", "", 200, `10.60.0.0/24`},
		{"admin", "POST", "/nw/v1/tenants/legacy/ipgroups", `{"ipgroup":{"name":"g","network_id":"net_api","ips":"[10.60.0.10,10.60.0.11]"}}`, 200, `10.60.0.10`},
		{"admin", "GET", "/nw/v1/tenants/legacy/ipgroups/g", "", 200, `"ip_addr"`},
		{"admin", "DELETE", "/nw/v1/tenants/legacy/ipgroups/g", "", 204, ""},
		{"admin", "DELETE", "/nw/v1/tenants/legacy/networks/net_api", "", 200, ""},
		{"admin", "DELETE", "/nw/v1/tenants/legacy", "", 200, ""},
		// releases and deletions
		{"system", "DELETE", "/api/v1/pods/u-1", "", 204, ""},
		{"system", "DELETE", "/api/v1/pods/u-1", "", 204, ""},
		{"admin", "DELETE", "/api/v1/tokens/beta-ci", "", 204, ""},
		{"beta", "GET", "/api/v1/tenants", "", 401, ""},
		{"admin", "DELETE", "/api/v1/tenants/acme", "", 409, "networks"},
		{"admin", "DELETE", "/api/v1/tenants/acme/networks/n1", "", 204, ""},
		{"admin", "DELETE", "/api/v1/tenants/acme", "", 204, ""},
		{"admin", "DELETE", "/api/v1/nodes/worker-1", "", 204, ""},
	}
	for i, s := range steps {
		status, body := call(t, hc, p.url, tok[s.who], s.method, s.path, s.body)
		if status != s.status || !strings.Contains(body, s.contains) {
			t.Errorf("step %d: %s %s %s as %s = %d %s; want %d containing %q", i, s.method, s.path, s.body, s.who, status, body, s.status, s.contains)
		}
		if status >= 400 && s.path != "/healthz" && !strings.Contains(body, `"code"`) {
			t.Errorf("step %d: error body is not {code, message, field}: %s", i, body)
		}
	}

	// Bodies of random bytes and mangled JSON never get a 500, and every refusal has the error shape.
	rng := rand.New(rand.NewPCG(7, 7))
	valid := []byte(`{"name":"fz","type":"overlay","mtu":1400,"ipv4":{"cidr":"10.70.0.0/24","gateway":"10.70.0.1","ranges":[{"start":"10.70.0.10","end":"10.70.0.20"}]}}`)
	for i := range 300 {
		b := append([]byte(nil), valid...)
		for range 1 + rng.IntN(4) {
			switch rng.IntN(3) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			case 1:
				j := rng.IntN(len(b))
				b = append(b[:j], b[j+1:]...)
			case 2:
				j := rng.IntN(len(b))
				b = append(b[:j], append([]byte{"{}[],:\"0a"[rng.IntN(9)]}, b[j:]...)...)
			}
		}
		status, body := call(t, hc, p.url, admin, "POST", "/api/v1/tenants/demo/networks", string(b))
		if status >= 500 || (status >= 400 && !strings.Contains(body, `"code"`)) {
			t.Fatalf("fuzzed body %d %q: %d %s", i, b, status, body)
		}
		if status == 201 {
			var n model.Network
			_ = json.Unmarshal([]byte(body), &n)
			call(t, hc, p.url, admin, "DELETE", "/api/v1/tenants/demo/networks/"+n.Name, "")
		}
	}

	// What the API stored survives a restart.
	before, _ := call(t, hc, p.url, admin, "GET", "/api/v1/tenants/demo/ipgroups/frontends", "")
	_, beforeBody := call(t, hc, p.url, admin, "GET", "/api/v1/tenants/demo/ipgroups/frontends", "")
	p.stop()
	p = startManager(t, args...)
	waitLeader(t, 30*time.Second, client(t, p.url, admin, ca))
	after, afterBody := call(t, hc, p.url, admin, "GET", "/api/v1/tenants/demo/ipgroups/frontends", "")
	if before != 200 || after != 200 || beforeBody != afterBody {
		t.Fatalf("ip group after restart: %d %s; before: %d %s", after, afterBody, before, beforeBody)
	}
	if status, _ := call(t, hc, p.url, tok["demo"], "GET", "/api/v1/tenants/demo", ""); status != 200 {
		t.Fatalf("tenant token after restart: %d", status)
	}
}

func httpsClient(t *testing.T, ca string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func call(t *testing.T, hc *http.Client, base, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
