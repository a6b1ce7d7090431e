package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// The end-to-end tests run the real command tree against the real API server and manager (on the
// in-memory store) over TLS: only the process boundary is missing.

const e2eAdmin = "admin.e2e-admin-secret"

// e2eBackend is the manager as the API's backend; down makes it answer like a standby without a
// leader.
type e2eBackend struct {
	*manager.Manager
	down atomic.Bool
}

func (b *e2eBackend) Status() httpapi.Status {
	if b.down.Load() {
		return httpapi.Status{Reason: "e2e: no leader elected"}
	}
	return httpapi.Status{Ready: true, Leader: true}
}

type e2e struct {
	t       *testing.T
	backend *e2eBackend
	srv     *httptest.Server
	dir     string
	caFile  string
	env     map[string]string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), AdminToken: e2eAdmin,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	term, err := memstore.New().Campaign(context.Background(), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	b := &e2eBackend{Manager: m}
	srv := httptest.NewUnstartedServer(httpapi.NewServer(b, httpapi.Options{Logger: slog.New(slog.DiscardHandler)}))
	// The error tests fail TLS handshakes on purpose; the server need not log them.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, backend: b, srv: srv, dir: dir, caFile: ca, env: map[string]string{
		envServer: srv.URL, envCAFile: ca, envToken: e2eAdmin,
	}}
}

// result is one knitterctl run.
type result struct {
	args        []string
	out, errOut string
	code        int
}

// run runs knitterctl with args in the test's environment.
func (e *e2e) run(args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errOut}, testEnv(e.dir, e.env))
	return result{args: args, out: out.String(), errOut: errOut.String(), code: code}
}

// ok runs knitterctl and requires success.
func (e *e2e) ok(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("knitterctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r
}

// fails runs knitterctl and requires exit code code and stderr lines containing each of want.
func (e *e2e) fails(code int, want []string, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != code {
		e.t.Fatalf("knitterctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.out, r.errOut)
	}
	if !strings.HasPrefix(r.errOut, "error: ") {
		e.t.Fatalf("knitterctl %s: stderr does not start with \"error: \": %q", strings.Join(args, " "), r.errOut)
	}
	for _, w := range want {
		if !strings.Contains(r.errOut, w) {
			e.t.Fatalf("knitterctl %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.errOut)
		}
	}
	return r
}

// decode parses a -o json answer.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("knitterctl %s: stdout is not the JSON expected: %v\n%s", strings.Join(r.args, " "), err, r.out)
	}
	return v
}

func wantOut(t *testing.T, r result, want string) {
	t.Helper()
	if r.out != want {
		t.Fatalf("knitterctl %s:\n--- got ---\n%s--- want ---\n%s", strings.Join(r.args, " "), r.out, want)
	}
}

func TestE2EOperatorWorkflow(t *testing.T) {
	e := newE2E(t)
	wantOut(t, e.ok("tenant", "create", "acme", "--quota-networks", "5"), "tenant acme created\n")
	wantOut(t, e.ok("tenant", "create", "infra", "--admin"), "tenant infra created\n")
	wantOut(t, e.ok("network", "create", "acme/net1", "--type", "overlay", "--ipv4", "10.1.0.0/24", "--gateway", "10.1.0.1",
		"--range", "10.1.0.10-10.1.0.19", "--exclude", "10.1.0.10", "--route", "192.168.0.0/16=10.1.0.254"),
		"network acme/net1 created\n")
	// A bare name is --tenant's; -o json prints the stored network with the VNI the manager chose.
	n := decode[model.Network](t, e.ok("network", "create", "net2", "--tenant", "acme", "--type", "overlay",
		"--ipv4", "10.2.0.0/24", "--ipv6", "fd00:2::/64", "-o", "json"))
	if n.Key() != "acme/net2" || n.VNI == 0 || n.IPv6 == nil {
		t.Fatalf("created network %+v", n)
	}
	// -f: a YAML body of the model type.
	yamlFile := filepath.Join(e.dir, "shared.yaml")
	if err := os.WriteFile(yamlFile, []byte("name: shared\ntenant: infra\npublic: true\ntype: overlay\nipv4: {cidr: 10.100.0.0/16, gateway: 10.100.0.1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantOut(t, e.ok("network", "create", "-f", yamlFile), "network infra/shared created\n")
	wantOut(t, e.ok("ipgroup", "create", "acme/front", "--network", "net1", "--ip", "10.1.0.18-10.1.0.19"),
		"ipgroup acme/front created with 2 addresses\n")
	wantOut(t, e.ok("tenant", "update", "acme", "--default-network", "net1"), "tenant acme updated\n")

	// Allocate by hand: the default network as eth0, then a pod on two networks with a static IP and the group.
	r := e.ok("pod", "allocate", "--uid", "u1", "--namespace", "acme", "--name", "web-0")
	if !strings.Contains(r.errOut, "pod u1 (acme/web-0) allocated") || !strings.Contains(r.out, "u1        eth0        acme/web-0   acme/net1   10.1.0.11") {
		t.Fatalf("allocate with the default network:\n%s%s", r.out, r.errOut)
	}
	pod := decode[model.Pod](t, e.ok("pod", "allocate", "--uid", "u2", "--namespace", "acme", "--name", "db-0",
		"--network", "net1,ip-group=front", "--network", "infra/shared@net1,ip=10.100.0.50,default-route", "-o", "json"))
	if len(pod.Ports) != 2 || pod.Ports[0].IPs[0].String() != "10.1.0.18" || pod.Ports[1].IPs[0].String() != "10.100.0.50" ||
		!pod.Ports[1].DefaultRoute || pod.Ports[0].Interface != "eth0" {
		t.Fatalf("allocated pod %+v", pod)
	}
	// The same request again is idempotent.
	r = e.ok("pod", "allocate", "--uid", "u2", "--namespace", "acme", "--name", "db-0",
		"--network", "net1,ip-group=front", "--network", "infra/shared@net1,ip=10.100.0.50,default-route")
	if !strings.Contains(r.errOut, "was already allocated") {
		t.Fatalf("second allocate: %s", r.errOut)
	}
	wantOut(t, e.ok("node", "create", "worker-1", "--vtep", "192.168.10.11"), "node worker-1 registered\n")
	e.ok("pod", "bind", "u2", "--node", "worker-1")

	wantOut(t, e.ok("port", "get", "--tenant", "acme"), `POD-UID   INTERFACE   POD          NETWORK        IPS           MAC                 NODE       STATE
u1        eth0        acme/web-0   acme/net1      10.1.0.11     66:4e:00:00:00:01   -          allocated
u2        eth0        acme/db-0    acme/net1      10.1.0.18     66:4e:00:00:00:02   worker-1   bound
u2        net1*       acme/db-0    infra/shared   10.100.0.50   4e:7b:00:00:00:01   worker-1   bound
`)
	ports := decode[httpapi.PortList](t, e.ok("port", "get", "--node", "worker-1", "-o", "json")).Ports
	if len(ports) != 2 || ports[0].ID != "u2/eth0" {
		t.Fatalf("ports on worker-1: %+v", ports)
	}
	if got := decode[httpapi.PortList](t, e.ok("port", "get", "--network", "infra/shared", "-o", "json")).Ports; len(got) != 1 {
		t.Fatalf("ports on infra/shared: %+v", got)
	}
	wantOut(t, e.ok("pod", "get", "--node", "worker-1"), `UID   NAMESPACE   NAME   TENANT   NODE       INTERFACES
u2    acme        db-0   acme     worker-1   eth0=10.1.0.18 net1=10.100.0.50
`)
	if p := decode[model.Port](t, e.ok("port", "get", "u2/net1", "-o", "json")); p.IPs[0].String() != "10.100.0.50" {
		t.Fatalf("port u2/net1: %+v", p)
	}

	wantOut(t, e.ok("network", "describe", "acme/net1"), `Name:    acme/net1
Type:    overlay
VNI:     1000
MTU:     node default
Public:  no
IPv4:
  CIDR:     10.1.0.0/24
  Gateway:  10.1.0.1
  Ranges:   10.1.0.10-10.1.0.19
  Exclude:  10.1.0.10
  Routes:   192.168.0.0/16 via 10.1.0.254
  Pool:     3 used, 0 cooling, 0 held, 6 free of 9 (33.3% taken)
`)
	wantOut(t, e.ok("tenant", "get"), `NAME    ADMIN   DEFAULT-NETWORK   NETWORKS   PORTS
acme    no      net1              2/5        3
infra   yes     -                 1          0
`)
	if !strings.Contains(e.ok("ipgroup", "describe", "acme/front").out, "10.1.0.18   acme/db-0 eth0 (port u2/eth0)") {
		t.Fatal("ipgroup describe does not show the group's user")
	}
	yml := e.ok("network", "get", "acme/net2", "-o", "yaml").out
	if !strings.Contains(yml, "name: net2\n") || !strings.Contains(yml, "stats:\n") {
		t.Fatalf("network get -o yaml:\n%s", yml)
	}

	// Release, then the IP group can be edited and the network deleted.
	// Release says what it released: a UID that cannot be a pod's is refused before any call, and a
	// second release finds nothing.
	e.fails(exitUsage, []string{"UID: ", "position 1"}, "pod", "release", "u/../u1")
	e.fails(exitUsage, []string{"UID: "}, "pod", "release", "u1 x")
	e.fails(exitUsage, []string{"UID: "}, "pod", "release", "u1%2F")
	wantOut(t, e.ok("pod", "release", "u1"), "pod u1 released: 1 port\n")
	e.fails(exitNotFound, []string{"pod u1 has no ports", "nothing was released"}, "pod", "release", "u1")
	e.fails(exitNotFound, []string{"pod u1 has no ports"}, "pod", "get", "u1")
	wantOut(t, e.ok("pod", "delete", "u2"), "pod u2 released: 2 ports\n")
	wantOut(t, e.ok("ipgroup", "update", "acme/front", "--add-ip", "10.1.0.17", "--remove-ip", "10.1.0.18"),
		"ipgroup acme/front updated: 2 addresses\n")
	wantOut(t, e.ok("ipgroup", "delete", "acme/front"), "ipgroup acme/front deleted\n")
	wantOut(t, e.ok("tenant", "update", "acme", "--default-network", ""), "tenant acme updated\n")
	wantOut(t, e.ok("network", "delete", "acme/net1"), "network acme/net1 deleted\n")
	wantOut(t, e.ok("node", "delete", "worker-1"), "node worker-1 deleted\n")
	r = e.ok("node", "get")
	if r.out != "" || r.errOut != "No nodes found.\n" {
		t.Fatalf("empty node list: %q %q", r.out, r.errOut)
	}
}

// TestE2ETenantIsolation creates a tenant token and checks what it sees and what it is refused.
func TestE2ETenantIsolation(t *testing.T) {
	e := newE2E(t)
	e.ok("tenant", "create", "acme")
	e.ok("tenant", "create", "beta")
	e.ok("tenant", "create", "infra", "--admin")
	e.ok("network", "create", "acme/net-a", "--type", "overlay", "--ipv4", "10.1.0.0/24")
	e.ok("network", "create", "beta/net-b", "--type", "overlay", "--ipv4", "10.2.0.0/24")
	e.ok("network", "create", "infra/shared", "--type", "overlay", "--ipv4", "10.9.0.0/24", "--public")
	e.ok("pod", "allocate", "--uid", "b1", "--namespace", "beta", "--network", "net-b")

	r := e.ok("token", "create", "acme-ops", "--role", "tenant", "--tenant", "acme")
	token := strings.TrimSpace(r.out)
	if !strings.HasPrefix(token, "acme-ops.") || strings.Count(r.out, "\n") != 1 {
		t.Fatalf("token create should print the bearer string alone: %q", r.out)
	}
	if !strings.Contains(r.errOut, "shown only now") {
		t.Fatalf("token create stderr: %q", r.errOut)
	}
	if strings.Contains(e.ok("token", "get").out, token[len("acme-ops."):]) {
		t.Fatal("token get shows the secret")
	}

	// The tenant's token from a file given by flag (overriding the admin token in the environment).
	tokFile := filepath.Join(e.dir, "acme.token")
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) []string { return append([]string{"--token-file", tokFile}, args...) }

	nets := decode[httpapi.NetworkList](t, e.ok(as("network", "get", "-o", "json")...)).Networks
	var keys []string
	for _, n := range nets {
		keys = append(keys, n.Key())
	}
	if strings.Join(keys, " ") != "acme/net-a infra/shared" {
		t.Fatalf("acme sees networks %v, want its own and the public one", keys)
	}
	wantOut(t, e.ok(as("tenant", "get")...), "NAME   ADMIN   DEFAULT-NETWORK   NETWORKS   PORTS\nacme   no      -                 1          0\n")
	e.ok(as("network", "describe", "infra/shared")...) // public: readable

	forbidden := []string{"error: tenant: ", "hint: this token's role may not do that"}
	e.fails(exitFailure, forbidden, as("network", "get", "beta/net-b")...)
	// Another tenant's pod is, for acme, a pod without ports: its UID is not confirmed.
	e.fails(exitNotFound, []string{"pod b1 has no ports"}, as("pod", "get", "b1")...)
	e.fails(exitNotFound, []string{"pod b1 has no ports", "nothing was released"}, as("pod", "release", "b1")...)
	e.ok("pod", "get", "b1") // still beta's, with its ports
	e.fails(exitFailure, []string{"hint: this token's role"}, as("network", "create", "beta/x", "--type", "overlay", "--ipv4", "10.3.0.0/24")...)
	e.fails(exitFailure, []string{"hint: this token's role"}, as("network", "delete", "infra/shared")...)
	e.fails(exitFailure, []string{"only an admin may"}, as("token", "get")...)
	e.fails(exitFailure, []string{"hint: this token's role"}, as("node", "get")...)
	e.fails(exitFailure, []string{"hint: this token's role"}, as("pod", "allocate", "--uid", "x", "--namespace", "beta", "--network", "net-b")...)
	if ports := decode[httpapi.PortList](t, e.ok(as("port", "get", "-o", "json")...)).Ports; len(ports) != 0 {
		t.Fatalf("acme sees beta's ports: %+v", ports)
	}

	// In its own tenant it works, with bare names qualified by KNITTER_TENANT.
	e.env[envTenant] = "acme"
	wantOut(t, e.ok(as("ipgroup", "create", "g", "--network", "net-a", "--size", "2")...), "ipgroup acme/g created with 2 addresses\n")
	e.ok(as("pod", "allocate", "--uid", "a1", "--network", "net-a", "--network", "shared")...)
	wantOut(t, e.ok(as("pod", "get")...), "UID   NAMESPACE   NAME   TENANT   NODE   INTERFACES\na1    acme        a1     acme     -      eth0=10.1.0.3 net1=10.9.0.1\n")

	// Revoked, the token no longer works.
	e.ok("token", "delete", "acme-ops")
	e.fails(exitFailure, []string{"hint: the manager did not accept the token"}, as("network", "get")...)
}

func TestE2EErrors(t *testing.T) {
	e := newE2E(t)
	e.ok("tenant", "create", "acme")
	e.ok("network", "create", "acme/net1", "--type", "overlay", "--ipv4", "10.1.0.0/30")

	// 401: a bad token.
	e.fails(exitFailure, []string{"error: ", "hint: the manager did not accept the token; check --token"}, "--token", "nobody.nothing", "tenant", "get")
	delete(e.env, envToken)
	e.fails(exitFailure, []string{"hint: no token was given; pass --token or --token-file"}, "tenant", "get")
	e.env[envToken] = e2eAdmin
	// 404 and 409.
	e.fails(exitNotFound, []string{`error: name: network "nope" does not exist in tenant "acme"`}, "network", "describe", "acme/nope")
	e.fails(exitNotFound, []string{"error: "}, "pod", "get", "ghost")
	e.fails(exitNotFound, []string{"error: PORT-ID: port ghost/eth0 does not exist"}, "port", "get", "ghost/eth0")
	e.fails(exitConflict, []string{`error: name: network "net1" already exists`}, "network", "create", "acme/net1", "--type", "overlay", "--ipv4", "10.2.0.0/24")
	e.ok("pod", "allocate", "--uid", "p1", "--namespace", "acme", "--network", "net1")
	e.ok("pod", "allocate", "--uid", "p2", "--namespace", "acme", "--network", "net1")
	e.fails(exitConflict, []string{"error: "}, "pod", "allocate", "--uid", "p3", "--namespace", "acme", "--network", "net1") // a /30 holds two
	e.fails(exitConflict, []string{"release the pods"}, "network", "delete", "acme/net1")
	e.fails(exitConflict, []string{"error: "}, "pod", "allocate", "--uid", "p1", "--namespace", "acme", "--network", "net1", "--network", "net1")

	// 400 from the manager and invalid input caught here are both usage errors.
	e.fails(exitUsage, []string{"error: --range: "}, "network", "create", "acme/n2", "--type", "overlay", "--ipv4", "10.2.0.0/24", "--range", "10.2.0.9-x")
	e.fails(exitUsage, []string{"error: quota.networks: "}, "tenant", "create", "-f", writeFile(t, filepath.Join(e.dir, "t.json"), `{"name":"t","quota":{"networks":-1}}`))
	e.fails(exitUsage, []string{`error: -f: `, `unknown field "tpye"`}, "network", "create", "-f", writeFile(t, filepath.Join(e.dir, "n.yaml"), "name: nw\ntenant: acme\ntpye: overlay\n"))
	e.fails(exitUsage, []string{"error: -f: ", `quote names such as "no"`}, "network", "create", "-f", writeFile(t, filepath.Join(e.dir, "no.yaml"), "name: no\ntenant: acme\n"))
	e.fails(exitUsage, []string{"error: -f: cannot be combined with --type"}, "network", "create", "-f", filepath.Join(e.dir, "n.yaml"), "--type", "vlan")
	e.fails(exitUsage, []string{`error: NETWORK: "net1" names no tenant; write tenant/net1 or pass --tenant`}, "network", "get", "net1")
	e.fails(exitUsage, []string{"error: --role: is missing"}, "token", "create", "x")

	// Cobra's own refusals are usage errors too, with a pointer to --help.
	e.fails(exitUsage, []string{"unknown flag: --colour", "Run 'knitterctl network create --help' for usage."}, "network", "create", "--colour")
	e.fails(exitUsage, []string{`unknown command "frob" for "knitterctl"`}, "frob")
	e.fails(exitUsage, []string{`"frob" is not a verb of knitterctl network; use one of create, delete, describe, get`}, "network", "frob")
	e.fails(exitUsage, []string{`"xml" is not an output format`}, "tenant", "get", "-o", "xml")

	// 503: the manager has no leader.
	e.backend.down.Store(true)
	e.fails(exitUnavailable, []string{"hint: knitter-manager is not ready"}, "tenant", "get")
	e.backend.down.Store(false)

	// No trusted CA: retrying would not help, so it is not "unavailable".
	delete(e.env, envCAFile)
	e.fails(exitFailure, []string{"error: ca_file: ", "hint: the manager's certificate is signed by a CA this client does not trust; pass --ca-file"}, "tenant", "get")
	// --insecure-skip-tls-verify skips the check.
	e.ok("--insecure-skip-tls-verify", "tenant", "get")
	// A certificate for another name.
	e.fails(exitFailure, []string{"does not match the URL", "hint: the manager's certificate is not valid for this address"},
		"--ca-file", e.caFile, "--server", strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1), "tenant", "get")

	// Nothing listening.
	e.env[envCAFile] = e.caFile
	url := e.srv.URL
	e.srv.Close()
	e.fails(exitUnavailable, []string{"error: cannot reach knitter-manager at " + url, "connection refused", "hint: is knitter-manager running at " + url + "?"}, "tenant", "get")
}

func TestE2EConfigFileAndCommand(t *testing.T) {
	e := newE2E(t)
	// Everything from the config file at the default place; nothing from the environment.
	tokFile := writeFile(t, filepath.Join(e.dir, "knitter", "admin.token"), e2eAdmin+"\n")
	writeFile(t, filepath.Join(e.dir, "knitter", "config.yaml"),
		"server: "+e.srv.URL+"\ntoken_file: admin.token\nca_file: "+e.caFile+"\ntenant: acme\n")
	e.env = map[string]string{}
	e.ok("tenant", "create", "acme")
	wantOut(t, e.ok("network", "create", "net1", "--type", "overlay", "--ipv4", "10.1.0.0/24"), "network acme/net1 created\n")

	cfg := filepath.Join(e.dir, "knitter", "config.yaml")
	wantOut(t, e.ok("config"), strings.Join([]string{
		"SETTING       VALUE" + strings.Repeat(" ", len(cfg)-2) + "SOURCE",
		"config file   " + cfg + "   loaded",
		"server        " + pad(e.srv.URL, len(cfg)) + "   config " + cfg,
		"token         " + pad("admin.<redacted>", len(cfg)) + "   config " + cfg + " (token_file): " + tokFile,
		"ca file       " + pad(e.caFile, len(cfg)) + "   config " + cfg,
		"tenant        " + pad("acme", len(cfg)) + "   config " + cfg,
		"timeout       " + pad("30s", len(cfg)) + "   -",
		""}, "\n"))
	eff := decode[effective](t, e.ok("config", "-o", "json", "--token", "acme-ops.very-secret"))
	if eff.Token != "acme-ops.<redacted>" || eff.TokenSource != "flag --token" || strings.Contains(e.ok("config", "--token", "acme-ops.very-secret").out, "very-secret") {
		t.Fatalf("config shows %+v", eff)
	}
	if v := e.ok("version").out; !strings.HasPrefix(v, "knitterctl dev (") {
		t.Fatalf("version: %q", v)
	}
}

func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }

// TestE2EEveryReadVerb runs get (list and one) and describe of every noun in every output format:
// each must succeed, JSON and YAML must parse, and the table must name the object.
func TestE2EEveryReadVerb(t *testing.T) {
	e := newE2E(t)
	e.ok("tenant", "create", "acme")
	e.ok("network", "create", "acme/net1", "--type", "overlay", "--ipv4", "10.1.0.0/24")
	e.ok("ipgroup", "create", "acme/g", "--network", "net1", "--ip", "10.1.0.100")
	e.ok("node", "create", "worker-1", "--vtep", "192.168.10.11")
	e.ok("pod", "allocate", "--uid", "u1", "--namespace", "acme", "--network", "net1,ip-group=g")
	e.ok("pod", "bind", "u1", "--node", "worker-1")
	e.ok("token", "create", "agent", "--role", "system")
	for _, c := range []struct{ noun, name, inTable string }{
		{"tenant", "acme", "acme"}, {"network", "acme/net1", "net1"}, {"ipgroup", "acme/g", "10.1.0.100"},
		{"pod", "u1", "u1"}, {"port", "u1/eth0", "u1"}, {"node", "worker-1", "192.168.10.11"}, {"token", "agent", "system"},
	} {
		for _, args := range [][]string{{c.noun, "get"}, {c.noun, "get", c.name}, {c.noun, "describe", c.name}} {
			if r := e.ok(args...); !strings.Contains(r.out, c.inTable) {
				t.Errorf("knitterctl %s: output lacks %q:\n%s", strings.Join(args, " "), c.inTable, r.out)
			}
			decode[any](t, e.ok(append(args, "-o", "json")...))
			if y := e.ok(append(args, "-o", "yaml")...).out; !strings.Contains(y, ": ") {
				t.Errorf("knitterctl %s -o yaml: %q", strings.Join(args, " "), y)
			}
		}
		e.fails(exitUsage, []string{"give one"}, c.noun, "describe", c.name, "extra")
		e.fails(exitUsage, []string{"is missing"}, c.noun, "describe")
	}
	if out := e.ok("port", "describe", "u1/eth0").out; !strings.Contains(out, "IP group:       g\n") || !strings.Contains(out, "Node:           worker-1\n") {
		t.Errorf("port describe:\n%s", out)
	}
	if out := e.ok("node", "describe", "worker-1").out; !strings.Contains(out, "Ports (1):") || !strings.Contains(out, "u1        eth0") {
		t.Errorf("node describe:\n%s", out)
	}
	wantOut(t, e.ok("token", "describe", "agent"), "ID:       agent\nRole:     system\nCreated:  2026-11-26T10:00:00Z\nSecret:   not shown: the manager keeps only its hash\n")
	// The network's own group list, and a network filter that matches nothing.
	if gs := decode[httpapi.IPGroupList](t, e.ok("ipgroup", "get", "--network", "net1", "-t", "acme", "-o", "json")).IPGroups; len(gs) != 1 {
		t.Errorf("ipgroup get --network net1: %+v", gs)
	}
	if r := e.ok("ipgroup", "get", "--network", "other", "-t", "acme"); r.errOut != "No IP groups found.\n" {
		t.Errorf("ipgroup get --network other: %q %q", r.out, r.errOut)
	}
	e.fails(exitUsage, []string{"port IDs are <pod uid>/<interface>"}, "port", "get", "u1")
	e.fails(exitUsage, []string{"names pod u1"}, "port", "get", "u1/eth0", "--pod", "u2")
}
