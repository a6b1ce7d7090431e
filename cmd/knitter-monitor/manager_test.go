package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
	"github.com/knitter-cni/knitter/monitor/monitortest"
)

// TestManagerContract runs one contract against the real REST client (over a real manager and
// server) and monitortest's fake: both have tenant acme whose default network is "net".
func TestManagerContract(t *testing.T) {
	real := agenttest.NewManager(t)
	fake := fakeManager(t)
	for name, c := range map[string]struct {
		m       monitor.Manager
		setDown func(bool)
	}{
		"client": {ManagerClient{C: real.Client}, real.SetDown},
		"fake":   {fake, fake.SetDown},
	} {
		t.Run(name, func(t *testing.T) { managerContract(t, c.m, c.setDown) })
	}
}

func managerContract(t *testing.T, m monitor.Manager, setDown func(bool)) {
	ctx := context.Background()
	tn, err := m.Tenant(ctx, "acme")
	if err != nil || tn.DefaultNetwork != "net" {
		t.Fatalf("Tenant = %+v, %v", tn, err)
	}
	if _, err := m.Tenant(ctx, "nosuch"); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("a missing tenant gave %v, want not found", err)
	}
	req := alloc.PodRequest{Pod: model.PodRef{UID: "c-1", Namespace: "acme", Name: "web"}, Tenant: "acme",
		Requests: []model.AttachRequest{{Network: "net", Interface: "eth0", DefaultRoute: true}}}
	p, created, err := m.AllocatePod(ctx, req)
	if err != nil || !created || len(p.Ports) != 1 {
		t.Fatalf("AllocatePod = %+v, %v, %v", p, created, err)
	}
	again, created, err := m.AllocatePod(ctx, req)
	if err != nil || created || again.Ports[0].IPs[0] != p.Ports[0].IPs[0] {
		t.Fatalf("a retried AllocatePod = %+v, %v, %v; want the same ports, not created", again, created, err)
	}
	if got, err := m.Pod(ctx, "c-1"); err != nil || got.Ports[0].ID != p.Ports[0].ID {
		t.Fatalf("Pod = %+v, %v", got, err)
	}
	if ports, err := allPorts(ctx, m, ""); err != nil || len(ports) != 1 || ports[0].Pod.UID != "c-1" {
		t.Fatalf("Ports = %+v, %v", ports, err)
	}
	if ports, err := allPorts(ctx, m, "other-node"); err != nil || len(ports) != 0 {
		t.Fatalf("Ports(other-node) = %+v, %v", ports, err)
	}
	bad := req
	bad.Pod.UID = "c-2"
	bad.Requests = []model.AttachRequest{{Network: "nosuch", Interface: "eth0"}}
	if _, _, err := m.AllocatePod(ctx, bad); err == nil || errors.Is(err, monitor.ErrUnavailable) {
		t.Fatalf("an unknown network gave %v, want a permanent error", err)
	}
	if err := m.ReleasePod(ctx, "c-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Pod(ctx, "c-1"); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("a released pod gave %v, want not found", err)
	}
	if err := m.ReleasePod(ctx, "c-1"); err != nil {
		t.Fatalf("releasing twice: %v", err)
	}
	setDown(true)
	defer setDown(false)
	if _, _, err := m.AllocatePod(ctx, req); !errors.Is(err, monitor.ErrUnavailable) {
		t.Fatalf("a manager that is down gave %v, want ErrUnavailable", err)
	}
	if err := m.ReleasePod(ctx, "c-1"); !errors.Is(err, monitor.ErrUnavailable) {
		t.Fatalf("a manager that is down gave %v, want ErrUnavailable", err)
	}
}

// fakeManager is monitortest's Manager with agenttest's world: tenant acme, default network net.
func fakeManager(t *testing.T) *monitortest.Manager {
	m, err := monitortest.NewManager(alloc.DefaultConfig(), func() time.Time { return time.Unix(1e9, 0) })
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("10.1.0.0/24")
	m.Do(func(s *alloc.State) {
		for _, c := range []alloc.Command{
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme"}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "net", Type: model.Overlay, IPv4: &model.Subnet{CIDR: p, Gateway: p.Addr().Next()}}},
			alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: "acme", DefaultNetwork: "net"}},
		} {
			if _, _, err := s.Apply(c); err != nil {
				t.Fatalf("%T: %v", c, err)
			}
		}
	})
	return m
}

// allPorts collects every page of m.Ports.
func allPorts(ctx context.Context, m monitor.Manager, node string) ([]model.Port, error) {
	var out []model.Port
	err := m.Ports(ctx, node, func(p []model.Port) { out = append(out, p...) })
	return out, err
}
