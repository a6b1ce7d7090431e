package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// TestFullWriteQueueAnswers503 wires the real HTTP server to a manager whose store's write queue is
// full: an allocation is answered 503 with Retry-After at once and changes nothing, while reads are
// served; when the queue drains, the held request completes and the refused one succeeds on retry.
func TestFullWriteQueueAnswers503(t *testing.T) {
	const admin = "admin-secret-0123456789"
	store := memstore.New()
	mgr, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), AdminToken: admin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	term, err := store.Campaign(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Activate(ctx, term); err != nil {
		t.Fatal(err)
	}
	for _, c := range []alloc.Command{
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme"}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "net", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.1.0.0/16")}}},
	} {
		if _, err := mgr.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	lead := &leadership{self: "http://self"}
	lead.set(true)
	srv := httptest.NewServer(httpapi.NewServer(backend{mgr, lead}, httpapi.Options{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	call := func(method, path string, body any) *http.Response {
		t.Helper()
		var buf bytes.Buffer
		if body != nil {
			_ = json.NewEncoder(&buf).Encode(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, &buf)
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pod := func(uid string) alloc.PodRequest {
		return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "acme", Name: uid}, Tenant: "acme",
			Requests: []model.AttachRequest{{Network: "net", Interface: "eth0"}}}
	}

	store.SetQueueSize(1)
	store.SetSlow(true)
	held := make(chan int, 1)
	go func() { held <- call("POST", "/api/v1/pods", pod("held")).StatusCode }()
	store.WaitHeld(1)

	resp := call("POST", "/api/v1/pods", pod("refused"))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("allocation with a full queue: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	if resp := call("GET", "/api/v1/tenants", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a read behind a full queue: %s", resp.Status)
	}
	var refused bool
	_ = mgr.View(func(s *alloc.State) { _, refused = s.Pod("refused") })
	if refused {
		t.Fatal("the refused allocation changed the state")
	}
	store.Flush()
	if code := <-held; code != http.StatusCreated {
		t.Fatalf("the held allocation: %d, want 201", code)
	}
	store.SetSlow(false)
	if resp := call("POST", "/api/v1/pods", pod("refused")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("retry after the queue drained: %s", resp.Status)
	}
}
