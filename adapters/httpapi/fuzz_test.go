package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// FuzzCreateNetworkBody sends arbitrary bodies to POST /api/v1/tenants/acme/networks. Whatever the
// body, the server must not panic or answer 500, an error must be in the API's shape with the status
// its code maps to, and a created network must be valid and really exist.
func FuzzCreateNetworkBody(f *testing.F) {
	f.Add([]byte(`{"name":"n","type":"overlay","ipv4":{"cidr":"10.4.0.0/24"}}`))
	b := newTestBackend(f)
	if _, err := b.Do(context.Background(), alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme"}}); err != nil {
		f.Fatal(err)
	}
	h := NewServer(b, Options{Logger: quietLogger()})
	allowed := map[int]bool{201: true, 400: true, 403: true, 404: true, 409: true, 413: true}

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/tenants/acme/networks", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != http.StatusCreated {
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("error answer %q is not in the API's shape (%v)", rec.Body, err)
			}
			if statusOf(e.Code) != rec.Code {
				t.Fatalf("code %q with status %d", e.Code, rec.Code)
			}
			return
		}
		var n model.Network
		if err := json.Unmarshal(rec.Body.Bytes(), &n); err != nil {
			t.Fatal(err)
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("created an invalid network %+v: %v", n, err)
		}
		var stored bool
		_ = b.View(func(s *alloc.State) { _, stored = s.Network(n.Tenant, n.Name) })
		if !stored || n.Tenant != "acme" {
			t.Fatalf("answered 201 for %+v but the state does not hold it", n)
		}
		// Keep the state small so that later inputs do not all collide.
		if _, err := b.Do(context.Background(), alloc.DeleteNetworkCmd{Tenant: n.Tenant, Name: n.Name}); err != nil {
			t.Fatal(err)
		}
	})
}
