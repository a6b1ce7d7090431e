package httpapi

import (
	"net/http"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestTenantList(t *testing.T) {
	f := newFixture(t)
	var all TenantList
	f.call(t, f.admin, "GET", "/api/v1/tenants", nil).want(t, 200).decode(t, &all)
	if len(all.Tenants) != 3 || all.Tenants[0].Name != "acme" || all.Tenants[0].Usage.Networks != 1 {
		t.Fatalf("admin sees %+v", all.Tenants)
	}
	var own TenantList
	f.call(t, f.acme, "GET", "/api/v1/tenants", nil).want(t, 200).decode(t, &own)
	if len(own.Tenants) != 1 || own.Tenants[0].Name != "acme" {
		t.Fatalf("acme sees %+v, want only itself", own.Tenants)
	}
	f.call(t, f.admin, "GET", "/api/v1/tenants?lmit=3", nil).wantErr(t, 400, model.CodeInvalid, "lmit")
	f.call(t, f.admin, "GET", "/api/v1/tenants?limit=0", nil).wantErr(t, 400, model.CodeInvalid, "limit")
}

func TestTenantGet(t *testing.T) {
	f := newFixture(t)
	var ti TenantInfo
	f.call(t, f.acme, "GET", "/api/v1/tenants/acme", nil).want(t, 200).decode(t, &ti)
	if ti.Name != "acme" || ti.Usage != (Usage{Networks: 1}) {
		t.Fatalf("got %+v", ti)
	}
	f.call(t, f.acme, "GET", "/api/v1/tenants/beta", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	// A tenant cannot learn whether another tenant exists.
	f.call(t, f.acme, "GET", "/api/v1/tenants/nope", nil).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.admin, "GET", "/api/v1/tenants/nope", nil).wantErr(t, 404, model.CodeNotFound, "tenant")
	f.call(t, f.system, "GET", "/api/v1/tenants/beta", nil).want(t, 200)
}

func TestTenantCreate(t *testing.T) {
	f := newFixture(t)
	var ti TenantInfo
	f.call(t, f.admin, "POST", "/api/v1/tenants", model.Tenant{Name: "gamma", Quota: model.Quota{Networks: 2}}).want(t, 201).decode(t, &ti)
	if ti.Name != "gamma" || ti.Quota.Networks != 2 {
		t.Fatalf("got %+v", ti)
	}
	f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"gamma"}`).wantErr(t, 409, model.CodeConflict, "name")
	f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"Gamma2"}`).wantErr(t, 400, model.CodeInvalid, "name")
	f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"x","quota":{"networks":-1}}`).wantErr(t, 400, model.CodeInvalid, "quota.networks")
	f.call(t, f.acme, "POST", "/api/v1/tenants", `{"name":"delta"}`).wantErr(t, 403, model.CodeForbidden, "")
	f.call(t, f.system, "POST", "/api/v1/tenants", `{"name":"delta"}`).wantErr(t, 403, model.CodeForbidden, "")
}

func TestTenantUpdate(t *testing.T) {
	f := newFixture(t)
	var ti TenantInfo
	f.call(t, f.admin, "PUT", "/api/v1/tenants/acme", `{"quota":{"networks":5,"ports":100}}`).want(t, 200).decode(t, &ti)
	if ti.Quota != (model.Quota{Networks: 5, Ports: 100}) || ti.Usage.Networks != 1 {
		t.Fatalf("got %+v", ti)
	}
	f.call(t, f.admin, "PUT", "/api/v1/tenants/acme", `{"name":"beta"}`).wantErr(t, 400, model.CodeInvalid, "name")
	// A tenant may set its own default network but not its quota.
	f.call(t, f.acme, "PUT", "/api/v1/tenants/acme", `{"quota":{"networks":9,"ports":100}}`).wantErr(t, 403, model.CodeForbidden, "quota")
	f.call(t, f.acme, "PUT", "/api/v1/tenants/acme", `{"quota":{"networks":5,"ports":100},"default_network":"net-a"}`).want(t, 200).decode(t, &ti)
	if ti.DefaultNetwork != "net-a" {
		t.Fatalf("default network not set: %+v", ti)
	}
	f.call(t, f.acme, "PUT", "/api/v1/tenants/beta", `{}`).wantErr(t, 403, model.CodeForbidden, "tenant")
	f.call(t, f.admin, "PUT", "/api/v1/tenants/nope", `{}`).wantErr(t, 404, model.CodeNotFound, "name")
}

func TestTenantDelete(t *testing.T) {
	f := newFixture(t)
	f.call(t, f.admin, "DELETE", "/api/v1/tenants/acme", nil).wantErr(t, 409, model.CodeConflict, "name")
	f.call(t, f.admin, "POST", "/api/v1/tenants", `{"name":"empty"}`).want(t, 201)
	f.call(t, f.acme, "DELETE", "/api/v1/tenants/empty", nil).wantErr(t, 403, model.CodeForbidden, "")
	r := f.call(t, f.admin, "DELETE", "/api/v1/tenants/empty", nil).want(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Fatalf("204 with body %q", r.body)
	}
	f.call(t, f.admin, "DELETE", "/api/v1/tenants/empty", nil).wantErr(t, 404, model.CodeNotFound, "name")
}
