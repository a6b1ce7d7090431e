package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// demoWorld is a real manager with the demo tenant: its default overlay, a macvlan, a vlan and an
// sriov network, a public network of another tenant, and a private one it must not attach.
func demoWorld(t *testing.T) *httpapi.Client {
	t.Helper()
	m := agenttest.NewManager(t)
	subnet := func(cidr string) *model.Subnet {
		p := netip.MustParsePrefix(cidr)
		return &model.Subnet{CIDR: p, Gateway: p.Addr().Next()}
	}
	ctx := context.Background()
	for _, c := range []alloc.Command{
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "ops", Admin: true}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: "ops", Name: "shared", Public: true, Type: model.Overlay, IPv4: subnet("10.100.0.0/16")}},
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: demoTenant, PhysicalNetworks: []string{"eth1", "eth3", "eth4"}}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: demoTenant, Name: "ov", Type: model.Overlay, IPv4: subnet("10.10.0.0/24")}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: demoTenant, Name: "mv", Type: model.MACVLAN, PhysicalNetwork: "eth4", IPv4: subnet("10.30.0.0/24")}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: demoTenant, Name: "vl", Type: model.VLAN, VLAN: 300, PhysicalNetwork: "eth1", IPv4: subnet("10.40.0.0/24")}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: demoTenant, Name: "vf", Type: model.SRIOV, PhysicalNetwork: "eth3", IPv4: subnet("10.50.0.0/24")}},
		alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: demoTenant, DefaultNetwork: "ov", PhysicalNetworks: []string{"eth1", "eth3", "eth4"}}},
	} {
		if _, err := m.M.Do(ctx, c); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	admin, err := httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, Token: "admin-secret", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return admin
}

func TestDemoNetworks(t *testing.T) {
	mc := demoWorld(t)
	ctx := context.Background()
	for _, c := range []struct {
		probe error
		want  string
		says  string
		lines int
	}{
		{nil, "demo/mv@net1, demo/vl@net2, ops/shared@net3", "SR-IOV", 1},
		{errors.New("this kernel has no TCX"), "demo/mv@net1, ops/shared@net2", "cannot run the eBPF VLAN datapath: this kernel has no TCX", 2},
	} {
		var out strings.Builder
		got, err := demoNetworks(ctx, &out, mc, func() error { return c.probe })
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("probe %v: annotation %q, want %q", c.probe, got, c.want)
		}
		if !strings.Contains(out.String(), c.says) || strings.Count(out.String(), "\n") != c.lines {
			t.Errorf("probe %v: printed %q", c.probe, out.String())
		}
	}
}

func TestDemoNetworksNeedTheDemoTenant(t *testing.T) {
	m := agenttest.NewManager(t)
	admin, err := httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, Token: "admin-secret", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = demoNetworks(context.Background(), &strings.Builder{}, admin, func() error { return nil })
	if err == nil || !strings.Contains(err.Error(), "bootstrap.yaml") {
		t.Fatalf("without tenant demo: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	if dirFlag(defaultDir) != "" || dirFlag("/tmp/x") != " --dir /tmp/x" {
		t.Error("dirFlag")
	}
	var b strings.Builder
	if _, err := prefixed(&b, "==> ").Write([]byte("step\n")); err != nil || b.String() != "==> step\n" {
		t.Errorf("prefixed wrote %q, %v", b.String(), err)
	}
	cmd := newCommand()
	cmd.SetArgs([]string{"up", "extra"})
	cmd.SetOut(&strings.Builder{})
	if err := cmd.Execute(); err == nil {
		t.Error("up with an argument succeeded")
	}
}
