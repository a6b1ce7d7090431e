package agenttest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// The world NewManager builds: tenant Tenant whose default network is Overlay, plus a VLAN and a
// macvlan network.
const (
	Tenant   = "acme"
	Overlay  = "net"
	VLAN     = "vl"
	MACVLAN  = "mv"
	VNI      = 4096
	VLANID   = 100
	Uplink   = "eth1"
	MVParent = "eth2"
)

// Manager is a real knitter-manager (core, memstore) behind its real REST server on a loopback
// port, with a switch that makes the server answer 503 as a manager without a store would.
type Manager struct {
	M *manager.Manager
	// URL is the server's base URL; Client calls it with a system token, as an agent does.
	URL    string
	Client *httpapi.Client
	// Token is the system token Client uses.
	Token string
	down  atomic.Bool
	srv   *httptest.Server
}

type backend struct{ *manager.Manager }

func (b backend) Status() httpapi.Status { return httpapi.Status{Ready: true, Leader: true} }

// NewManager starts the manager and creates the world; it stops when the test ends.
func NewManager(t testing.TB) *Manager {
	t.Helper()
	ctx := context.Background()
	m, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), AdminToken: "admin-secret"})
	if err != nil {
		t.Fatal(err)
	}
	term, err := memstore.New().Campaign(ctx, "agenttest")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(ctx, term); err != nil {
		t.Fatal(err)
	}
	subnet := func(cidr string) *model.Subnet {
		p := netip.MustParsePrefix(cidr)
		return &model.Subnet{CIDR: p, Gateway: p.Addr().Next()}
	}
	for _, c := range []alloc.Command{
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: Tenant, PhysicalNetworks: []string{Uplink, MVParent}}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: Tenant, Name: Overlay, Type: model.Overlay, VNI: VNI, IPv4: subnet("10.1.0.0/24")}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: Tenant, Name: VLAN, Type: model.VLAN, VLAN: VLANID, PhysicalNetwork: Uplink, IPv4: subnet("10.2.0.0/24")}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: Tenant, Name: MACVLAN, Type: model.MACVLAN, PhysicalNetwork: MVParent, IPv4: subnet("10.3.0.0/24")}},
		alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: Tenant, DefaultNetwork: Overlay, PhysicalNetworks: []string{Uplink, MVParent}}},
	} {
		if _, err := m.Do(ctx, c); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	token, err := m.CreateToken(ctx, alloc.Admin, model.Token{ID: "agent", Role: model.RoleSystem})
	if err != nil {
		t.Fatal(err)
	}
	mgr := &Manager{M: m, Token: token}
	api := httpapi.NewServer(backend{m}, httpapi.Options{Logger: slog.New(slog.DiscardHandler)})
	mgr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mgr.down.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code":"unavailable","message":"the store is down"}`))
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(mgr.srv.Close)
	mgr.URL = mgr.srv.URL
	if mgr.Client, err = httpapi.NewClient(httpapi.ClientConfig{URL: mgr.URL, Token: token, Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return mgr
}

// Port returns the manager as the agent's ManagerClient port, over REST. Its node watches answer at
// once, so that a test stepping the agent on one goroutine never waits.
func (m *Manager) Port() agent.ManagerClient {
	return httpapi.AgentClient{C: m.Client, Wait: time.Millisecond}
}

// SetDown makes the server answer 503 to everything (true) or serve again (false).
func (m *Manager) SetDown(down bool) { m.down.Store(down) }

// Pod returns the manager's allocation of uid; ok is false if it has none.
func (m *Manager) Pod(t testing.TB, uid string) (pod model.Pod, ok bool) {
	t.Helper()
	if err := m.M.View(func(s *alloc.State) { pod, ok = s.Pod(uid) }); err != nil {
		t.Fatal(err)
	}
	return pod, ok
}

// Allocate allocates a pod's ports directly, as knitter-monitor does before the CNI call.
func (m *Manager) Allocate(t testing.TB, ref model.PodRef, reqs ...model.AttachRequest) model.Pod {
	t.Helper()
	res, err := m.M.Do(context.Background(), alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: alloc.PodRequest{Pod: ref, Tenant: ref.Namespace, Requests: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	return res.(model.Pod)
}

// Register registers a node as its agent would.
func (m *Manager) Register(t testing.TB, name, vtep string) {
	t.Helper()
	if _, err := m.M.Do(context.Background(), alloc.RegisterNodeCmd{As: alloc.AsSystem, Node: model.Node{Name: name, VTEP: netip.MustParseAddr(vtep)}}); err != nil {
		t.Fatal(err)
	}
}

// Bind binds a pod's ports to node.
func (m *Manager) Bind(t testing.TB, uid, node string) {
	t.Helper()
	if _, err := m.M.Do(context.Background(), alloc.BindPodCmd{As: alloc.AsSystem, UID: uid, Node: node}); err != nil {
		t.Fatal(err)
	}
}

// ClosedManager is a ManagerClient port whose server is gone: every call fails to connect.
func ClosedManager(t testing.TB) agent.ManagerClient {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := httpapi.NewClient(httpapi.ClientConfig{URL: url, Token: "x", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.AgentClient{C: c}
}

// Release frees a pod's ports, as knitter-monitor does once the pod object is gone.
func (m *Manager) Release(t testing.TB, uid string) {
	t.Helper()
	if _, err := m.M.Do(context.Background(), alloc.ReleasePodCmd{As: alloc.AsSystem, UID: uid}); err != nil {
		t.Fatal(err)
	}
}
