package main_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// serving is a real manager (embedded etcd, generated TLS, by default the example bootstrap) that
// leads.
type serving struct {
	p     *proc
	dir   string
	ca    string
	admin string
	addr  string // host:port
	tls   *tls.Config
	hc    *http.Client
}

func startServing(t *testing.T, extra ...string) *serving {
	t.Helper()
	return startServingArgs(t, append([]string{"--bootstrap", "../../examples/bootstrap.yaml"}, extra...)...)
}

// startServingArgs starts a manager with only args (and its data directory).
func startServingArgs(t *testing.T, args ...string) *serving {
	t.Helper()
	dir := t.TempDir()
	p := startManager(t, append([]string{"--data-dir", dir}, args...)...)
	ca := filepath.Join(dir, "pki", "ca.crt")
	waitFile(t, ca, p)
	admin := readFile(t, filepath.Join(dir, "admin.token"))
	waitLeader(t, 30*time.Second, client(t, p.url, admin, ca))
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &serving{p: p, dir: dir, ca: ca, admin: admin, addr: strings.TrimPrefix(p.url, "https://"),
		tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, hc: httpsClient(t, ca)}
}

// raw sends one HTTP/1.1 request exactly as written (no client-side path cleaning) over TLS.
func (s *serving) raw(t *testing.T, line, token string) (int, http.Header, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", s.addr, s.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := line + "\r\nHost: " + s.addr + "\r\nConnection: close\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, r.Header, string(b)
}

// TestAdminTokenFileMustBePrivate: a pre-existing admin token file that group or others may read is
// refused at start, with an error naming the file and the fix; the same file with mode 0600 is used.
func TestAdminTokenFileMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(tokFile, []byte("admin.readable-by-everyone-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(tokFile, mode); err != nil {
			t.Fatal(err)
		}
		p := startManager(t, "--data-dir", filepath.Join(dir, "data"), "--admin-token-file", tokFile)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			t.Fatalf("mode %04o: knitter-manager still runs:\n%s", mode, p.logs())
		}
		if p.cmd.ProcessState.ExitCode() == 0 {
			t.Fatalf("mode %04o: exit code 0", mode)
		}
		logs := p.logs()
		if !strings.Contains(logs, tokFile) || !strings.Contains(logs, "chmod 600 "+tokFile) || !strings.Contains(logs, fmt.Sprintf("%04o", mode)) {
			t.Fatalf("mode %04o: the error does not name the file, its mode and the fix:\n%s", mode, logs)
		}
	}
	if err := os.Chmod(tokFile, 0o600); err != nil {
		t.Fatal(err)
	}
	p := startManager(t, "--data-dir", filepath.Join(dir, "data"), "--admin-token-file", tokFile)
	waitFile(t, filepath.Join(dir, "data", "pki", "ca.crt"), p)
	waitLeader(t, 30*time.Second, client(t, p.url, "admin.readable-by-everyone-0123456789", filepath.Join(dir, "data", "pki", "ca.crt")))
}

// TestStrictAnswersOfTheRealServer: paths that clean to other paths, CONNECT, unknown methods and
// 404s answer in the JSON error shape (no redirect, no HTML or text); /metrics needs an admin or
// system token; unknown query parameters on mutating routes and duplicate JSON keys are refused
// naming the parameter or key, and change nothing.
func TestStrictAnswersOfTheRealServer(t *testing.T) {
	s := startServing(t)
	c := client(t, s.p.url, s.admin, s.ca)
	ctx := context.Background()
	for _, name := range []string{"ta", "tb"} {
		if _, err := c.CreateTenant(ctx, model.Tenant{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	tenantTok, err := c.CreateToken(ctx, httpapi.TokenRequest{ID: "ta-ci", Role: model.RoleTenant, Tenant: "ta"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, token string
		status      int
		code        string
	}{
		{"GET //api/v1/tenants HTTP/1.1", s.admin, 404, "not_found"},
		{"GET /api/v1/tenants/ta/../tb HTTP/1.1", tenantTok.Token, 404, "not_found"},
		{"DELETE /api/v1/tenants/ta/../tb HTTP/1.1", s.admin, 404, "not_found"},
		{"GET /api/v1/./tenants HTTP/1.1", s.admin, 404, "not_found"},
		{"CONNECT 127.0.0.1:22 HTTP/1.1", "", 405, "method_not_allowed"},
		{"CONNECT /api/v1/tenants HTTP/1.1", s.admin, 405, "method_not_allowed"},
		{"PROPFIND /api/v1/tenants HTTP/1.1", s.admin, 405, "method_not_allowed"},
		{"GET /no/such/route HTTP/1.1", "", 404, "not_found"},
		{"GET /metrics HTTP/1.1", "", 401, "unauthenticated"},
		{"GET /metrics HTTP/1.1", tenantTok.Token, 403, "forbidden"},
		{"DELETE /api/v1/tenants/tb?force=true HTTP/1.1", s.admin, 400, "invalid"},
	} {
		status, h, body := s.raw(t, tc.line, tc.token)
		if status != tc.status || h.Get("Content-Type") != "application/json" || h.Get("Location") != "" ||
			!strings.Contains(body, `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %q Location %q: %s", tc.line, status, h.Get("Content-Type"), h.Get("Location"), body)
		}
	}
	if status, _, body := s.raw(t, "DELETE /api/v1/tenants/tb?force=true HTTP/1.1", s.admin); !strings.Contains(body, `"field":"force"`) {
		t.Errorf("DELETE ?force=true: %d %s; want the field force", status, body)
	}
	if status, _, body := s.raw(t, "GET /metrics HTTP/1.1", s.admin); status != 200 || !strings.Contains(body, "knitter_http_requests_total") {
		t.Errorf("GET /metrics as admin: %d", status)
	}
	status, body := call(t, s.hc, s.p.url, s.admin, "POST", "/api/v1/tenants", `{"name":"tc","name":"td"}`)
	if status != 400 || !strings.Contains(body, `"field":"name"`) || !strings.Contains(body, "twice") {
		t.Errorf("duplicate key: %d %s", status, body)
	}
	status, body = call(t, s.hc, s.p.url, s.admin, "POST", "/api/v1/pods",
		`{"pod":{"uid":"u1","namespace":"ta","name":"p"},"tenant":"ta","tenant":"tb","requests":[]}`)
	if status != 400 || !strings.Contains(body, `"field":"tenant"`) {
		t.Errorf("duplicate tenant key: %d %s", status, body)
	}
	tenants, err := c.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range tenants {
		names = append(names, tn.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "ta,tb") || strings.Contains(got, "tc") || strings.Contains(got, "td") {
		t.Fatalf("tenants after the refused requests: %s", got)
	}
}

// TestPagingOfTheRealServer: a tenant with more ports than a page, listed in pages, equals the whole
// list; while writers allocate new pods during a paged listing, every port that existed before is
// listed exactly once and no port twice.
func TestPagingOfTheRealServer(t *testing.T) {
	s := startServing(t)
	c := client(t, s.p.url, s.admin, s.ca)
	ctx := context.Background()
	const pods = 600 // 1,200 ports: more than two default pages
	if _, err := c.CreateTenant(ctx, model.Tenant{Name: "big"}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"big-a", "big-b"} {
		cidr := netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", 200+i))
		if _, err := c.CreateNetwork(ctx, model.Network{Tenant: "big", Name: name, Type: model.Overlay, IPv4: &model.Subnet{CIDR: cidr}}); err != nil {
			t.Fatal(err)
		}
	}
	bigPod := func(uid string) alloc.PodRequest {
		return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "big", Name: uid}, Tenant: "big",
			Requests: []model.AttachRequest{{Network: "big-a", Interface: "eth0"}, {Network: "big-b", Interface: "net1"}}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < pods; i += 8 {
				if _, _, err := c.AllocatePod(ctx, bigPod(fmt.Sprintf("pod-%04d", i))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	whole, err := c.ListPorts(ctx, httpapi.PortQuery{Tenant: "big"})
	if err != nil || len(whole) != 2*pods {
		t.Fatalf("ListPorts: %d ports, %v", len(whole), err)
	}
	// One request without limit answers the default page and a continue token.
	var first httpapi.PortList
	status, body := call(t, s.hc, s.p.url, s.admin, "GET", "/api/v1/ports?tenant=big", "")
	if status != 200 {
		t.Fatalf("GET /api/v1/ports: %d %s", status, body)
	}
	decodeInto(t, body, &first)
	if len(first.Ports) != httpapi.DefaultPageSize || first.Continue == "" {
		t.Fatalf("first page: %d ports, continue %q", len(first.Ports), first.Continue)
	}
	if status, body := call(t, s.hc, s.p.url, s.admin, "GET", fmt.Sprintf("/api/v1/ports?limit=%d", httpapi.MaxPageSize+1), ""); status != 400 || !strings.Contains(body, `"field":"limit"`) {
		t.Fatalf("limit over the maximum: %d %s", status, body)
	}

	paged := listInPages(t, c, 97, nil)
	if fmt.Sprint(portIDs(paged)) != fmt.Sprint(portIDs(whole)) {
		t.Fatal("the pages differ from the whole list")
	}

	// Concurrent allocations (UIDs that sort before, between and after the existing ones) during a
	// paged listing.
	stop := make(chan struct{})
	landed := make(chan struct{})
	var writers sync.WaitGroup
	written := 0
	for w := range 4 {
		writers.Go(func() {
			for i := 0; ; i++ {
				uid := fmt.Sprintf("%s-%d-%d", []string{"a", "pod-0300x", "zz"}[i%3], w, i)
				if _, _, err := c.AllocatePod(ctx, bigPod(uid)); err != nil {
					t.Errorf("allocating %s: %v", uid, err)
					return
				}
				select {
				case landed <- struct{}{}:
				case <-stop:
					return
				}
			}
		})
	}
	pageNo := 0
	during := listInPages(t, c, 50, func() {
		// Three allocations land between every two pages.
		pageNo++
		for range 3 {
			<-landed
			written++
		}
	})
	close(stop)
	writers.Wait()
	seen := map[string]int{}
	for _, p := range during {
		seen[p.ID]++
		if seen[p.ID] > 1 {
			t.Fatalf("port %s listed twice", p.ID)
		}
	}
	for _, p := range whole {
		if seen[p.ID] != 1 {
			t.Fatalf("port %s existed for the whole listing but was listed %d times", p.ID, seen[p.ID])
		}
	}
	t.Logf("%d pages; %d pods allocated during the listing; %d ports listed", pageNo+1, written, len(during))
}

func listInPages(t *testing.T, c *httpapi.Client, limit int, between func()) []model.Port {
	t.Helper()
	var out []model.Port
	p := httpapi.Page{Limit: limit}
	for {
		page, next, err := c.ListPortsPage(context.Background(), httpapi.PortQuery{Tenant: "big"}, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > limit {
			t.Fatalf("a page of %d ports; limit %d", len(page), limit)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		p.Continue = next
		if between != nil {
			between()
		}
	}
}

func portIDs(ps []model.Port) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}
