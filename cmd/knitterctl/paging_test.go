package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// TestE2EListsReadEveryPage: knitterctl reads every page of a list. With --page-size 3 each request
// answers at most 3 items; the listings still hold every tenant, network, node, token and port.
func TestE2EListsReadEveryPage(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	do := func(c alloc.Command) {
		t.Helper()
		if _, err := e.backend.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	do(alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme"}})
	e.ok("network", "create", "acme/net1", "--type", "overlay", "--ipv4", "10.1.0.0/24")
	const n = 11
	for i := range n {
		do(alloc.CreateTenantCmd{Tenant: model.Tenant{Name: fmt.Sprintf("t%02d", i)}})
		do(alloc.RegisterNodeCmd{Node: model.Node{Name: fmt.Sprintf("node-%02d", i)}})
		do(alloc.AllocatePodCmd{PodRequest: alloc.PodRequest{Pod: model.PodRef{UID: fmt.Sprintf("u%02d", i), Namespace: "acme", Name: "p"},
			Tenant: "acme", Requests: []model.AttachRequest{{Network: "net1", Interface: "eth0"}}}})
	}
	if ports := decode[httpapi.PortList](t, e.ok("--page-size", "3", "port", "get", "-o", "json")).Ports; len(ports) != n {
		t.Fatalf("%d ports listed in pages of 3; want %d", len(ports), n)
	}
	if tenants := decode[httpapi.TenantList](t, e.ok("--page-size", "3", "tenant", "get", "-o", "json")).Tenants; len(tenants) != n+1 {
		t.Fatalf("%d tenants; want %d", len(tenants), n+1)
	}
	if nodes := decode[httpapi.NodeList](t, e.ok("--page-size", "2", "node", "get", "-o", "json")).Nodes; len(nodes) != n {
		t.Fatalf("%d nodes; want %d", len(nodes), n)
	}
	e.fails(exitUsage, []string{"--page-size"}, "--page-size", "5001", "port", "get")
}
