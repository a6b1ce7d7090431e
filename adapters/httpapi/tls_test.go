package httpapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/core/model"
)

// tlsFixture serves the fixture's backend over TLS with certificates from pki.Ensure.
func tlsFixture(t *testing.T) (*fixture, *httptest.Server, pki.Files) {
	t.Helper()
	f := newFixture(t)
	files, err := pki.Ensure(t.TempDir(), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := pki.ServerTLS(files)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(NewServer(f.b, Options{Logger: quietLogger()}))
	srv.TLS = conf
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return f, srv, files
}

func TestTLS(t *testing.T) {
	f, srv, files := tlsFixture(t)
	ctx := context.Background()

	withCA, err := NewClient(ClientConfig{URL: srv.URL, Token: f.acme, CAFile: files.CA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withCA.GetTenant(ctx, "acme"); err != nil {
		t.Fatalf("client with the CA: %v", err)
	}
	conf, err := pki.ClientTLS(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	withConf, err := NewClient(ClientConfig{URL: srv.URL, Token: f.acme, TLSConfig: conf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withConf.GetTenant(ctx, "acme"); err != nil {
		t.Fatalf("client with a TLS config: %v", err)
	}

	// Without the CA the certificate is refused, and the error says to fix the configuration rather
	// than to retry.
	without, err := NewClient(ClientConfig{URL: srv.URL, Token: f.acme})
	if err != nil {
		t.Fatal(err)
	}
	_, err = without.GetTenant(ctx, "acme")
	if model.CodeOf(err) != model.CodeInvalid || errors.Is(err, ErrUnavailable) {
		t.Fatalf("client without the CA: %v", err)
	}
	// Another CA does not do either.
	other, err := pki.Ensure(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := NewClient(ClientConfig{URL: srv.URL, Token: f.acme, CAFile: other.CA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.GetTenant(ctx, "acme"); model.CodeOf(err) != model.CodeInvalid {
		t.Fatalf("client with another CA: %v", err)
	}
}

func TestProxyOverTLS(t *testing.T) {
	f, leader, files := tlsFixture(t)
	conf, err := pki.ClientTLS(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t)
	b.setStatus(Status{Ready: true, LeaderURL: leader.URL})
	trusting := httptest.NewServer(NewServer(b, Options{Logger: quietLogger(), Proxy: true, ProxyTLS: conf}))
	defer trusting.Close()
	doRequest(t, trusting.Client(), trusting.URL, f.acme, "GET", "/api/v1/tenants/acme", nil).want(t, 200)

	untrusting := httptest.NewServer(NewServer(b, Options{Logger: quietLogger(), Proxy: true}))
	defer untrusting.Close()
	doRequest(t, untrusting.Client(), untrusting.URL, f.acme, "GET", "/api/v1/tenants/acme", nil).wantErr(t, 503, model.CodeUnavailable, "")
}
