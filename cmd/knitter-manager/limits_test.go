package main_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/model"
)

// waitClosed requires that the server closes conn: a read ends with EOF or a reset, not with the
// bounded wait running out.
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

// TestUnauthenticatedConnectionsCannotStarve: 200 TLS connections without a token — idle after the
// handshake, or sending a request whose body never comes — are closed or shed by the manager, while
// an authenticated client keeps its connection and gets every answer. The manager runs with 64
// unauthenticated and 128 connections at most.
func TestUnauthenticatedConnectionsCannotStarve(t *testing.T) {
	s := startServing(t, "--max-connections", "128", "--max-unauthenticated-connections", "64")
	ctx := context.Background()

	// The authenticated client holds one keep-alive connection from before the flood.
	tr := &http.Transport{TLSClientConfig: s.tls, MaxConnsPerHost: 1}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	reused := 0
	get := func() {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", s.p.url+"/api/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+s.admin)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("the authenticated client: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("the authenticated client: %d", resp.StatusCode)
		}
	}
	get()

	var idle, slow []net.Conn
	defer func() {
		for _, c := range append(idle, slow...) {
			c.Close()
		}
	}()
	for i := range 200 {
		c, err := tls.Dial("tcp", s.addr, s.tls)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 {
			idle = append(idle, c)
			continue
		}
		// A request without a token whose body is announced but never sent.
		if _, err := fmt.Fprintf(c, "POST /api/v1/pods HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"pod\":"); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
		if i%20 == 1 {
			get() // served during the flood, on the same connection
		}
	}
	get()
	// Every slow-body request was answered 401 and its connection closed.
	for i, c := range slow {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			// Closed to make room before it could be answered: shed, as it should be.
			continue
		}
		if resp.StatusCode != 401 {
			t.Fatalf("slow request %d: %d", i, resp.StatusCode)
		}
		waitClosed(t, c, fmt.Sprintf("slow request %d after its 401", i))
	}
	// Of the 100 idle connections, all but the newest 64 unauthenticated ones are closed already,
	// without any timeout running out.
	for i, c := range idle[:100-64] {
		waitClosed(t, c, fmt.Sprintf("idle connection %d", i))
	}
	get()
	if reused != 12 {
		t.Fatalf("the authenticated client's connection was reused %d times; want 12, every request after the first (it was closed)", reused)
	}
	// A new authenticated connection is served too.
	get2 := client(t, s.p.url, s.admin, s.ca)
	if _, err := get2.ListTenants(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRequestsPerClient: a client with max-requests-per-client requests in flight (bodies still
// coming) gets 429 with Retry-After for one more; another client is served meanwhile; once the
// first client's requests end it is served again.
func TestRequestsPerClient(t *testing.T) {
	s := startServing(t, "--max-requests-per-client", "4")
	c := client(t, s.p.url, s.admin, s.ca)
	ctx := context.Background()
	tok, err := c.CreateToken(ctx, httpapi.TokenRequest{ID: "demo-slow", Role: model.RoleTenant, Tenant: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	for i := range 4 {
		conn, err := tls.Dial("tcp", s.addr, s.tls)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Expect: 100-continue: the server answers 100 once the handler reads the body, so the
		// request is in flight when the 100 arrives.
		fmt.Fprintf(conn, "POST /api/v1/tenants/demo/ipgroups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n", tok.Token)
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(line, "100 Continue") {
			t.Fatalf("request %d: %q %v", i, line, err)
		}
		held = append(held, conn)
	}
	status, body := call(t, s.hc, s.p.url, tok.Token, "GET", "/api/v1/tenants/demo", "")
	if status != 429 || !strings.Contains(body, `"code":"too_many_requests"`) {
		t.Fatalf("a fifth request: %d %s", status, body)
	}
	if _, err := client(t, s.p.url, tok.Token, s.ca).GetTenant(ctx, "demo"); !errors.Is(err, httpapi.ErrUnavailable) {
		t.Fatalf("the Go client's error for 429 does not mean retry later: %v", err)
	}
	if status, _ := call(t, s.hc, s.p.url, s.admin, "GET", "/api/v1/tenants/demo", ""); status != 200 {
		t.Fatalf("another client: %d", status)
	}
	// The held requests end: their bodies arrive, they are answered, and (Connection: close) the
	// server closes each connection after its handler returned and freed its slot.
	for i, conn := range held {
		if _, err := io.WriteString(conn, strings.Repeat(" ", 1000)); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, conn, fmt.Sprintf("held request %d", i))
	}
	if status, body := call(t, s.hc, s.p.url, tok.Token, "GET", "/api/v1/tenants/demo", ""); status != 200 {
		t.Fatalf("after the held requests ended: %d %s", status, body)
	}
}

// TestIdleAndSlowConnectionsTimeOut: with short timeouts, an authenticated keep-alive connection
// left idle and an authenticated request whose body stalls are both closed by the manager.
func TestIdleAndSlowConnectionsTimeOut(t *testing.T) {
	s := startServing(t, "--idle-timeout", "1s", "--read-timeout", "2s")
	idle, err := tls.Dial("tcp", s.addr, s.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", s.admin)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	waitClosed(t, idle, "an idle keep-alive connection")

	slow, err := tls.Dial("tcp", s.addr, s.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n{\"name\":", s.admin)
	waitClosed(t, slow, "a request whose body stalls")
}

// TestLowFileDescriptorLimit: under a file descriptor limit of 600 the manager lowers its connection
// limit to fit (600 minus what it keeps for its store) and says so; 700 authenticated keep-alive
// connections then never run it out of descriptors: those beyond the limit are refused, the store
// keeps working, no "too many open files" appears, and the client's earlier connection is served
// throughout.
func TestLowFileDescriptorLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	dir := t.TempDir()
	p := launch(t, exec.Command(prlimit, "--nofile=600:600", binary, "--listen", "127.0.0.1:0", "--data-dir", dir,
		"--bootstrap", "../../examples/bootstrap.yaml"))
	ca := filepath.Join(dir, "pki", "ca.crt")
	waitFile(t, ca, p)
	admin := readFile(t, filepath.Join(dir, "admin.token"))
	c := client(t, p.url, admin, ca)
	waitLeader(t, 30*time.Second, c)
	if !strings.Contains(p.logs(), "max_connections lowered") || !strings.Contains(p.logs(), "max_connections=344") {
		t.Fatalf("no warning that max_connections was lowered to 344:\n%s", p.logs())
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsConf := &tls.Config{RootCAs: pool}
	ctx := context.Background()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// 700 authenticated keep-alive connections: more than the descriptors allow. The ones beyond the
	// lowered limit are refused; the manager itself never runs out.
	served := 0
	for i := range 700 {
		conn, err := tls.Dial("tcp", p.url[len("https://"):], tlsConf)
		if err != nil {
			continue // refused: every slot is held by authenticated clients
		}
		conns = append(conns, conn)
		fmt.Fprintf(conn, "GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", admin)
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil && resp.StatusCode == 200 {
			served++
		}
		if i%100 == 99 {
			// The client's own connection from before is still served, and the store still writes.
			if _, _, err := c.AllocatePod(ctx, podReq(fmt.Sprintf("fd-%d", i))); err != nil {
				t.Fatalf("allocating after %d connections: %v\n%s", i+1, err, p.logs())
			}
		}
	}
	t.Logf("%d of 700 authenticated connections served and held", served)
	if served < 300 || served > 344 {
		t.Fatalf("%d connections served and held; want at most the lowered limit of 344 (and most of it)", served)
	}
	if _, err := c.ListPorts(ctx, httpapi.PortQuery{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		t.Fatalf("knitter-manager exited:\n%s", p.logs())
	default:
	}
	if strings.Contains(p.logs(), "too many open files") {
		t.Fatalf("the manager ran out of file descriptors:\n%s", p.logs())
	}
}
