package etcdstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/core/alloc"
)

// TestTLSEndpoint runs the store against an etcd that serves clients over TLS: with the CA the
// round trip works; without it, Open fails and says so.
func TestTLSEndpoint(t *testing.T) {
	files, err := pki.Ensure(filepath.Join(t.TempDir(), "pki"), []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := StartEmbedded(EmbedConfig{DataDir: filepath.Join(t.TempDir(), "etcd"), ClientCertFile: files.Cert, ClientKeyFile: files.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if ep := emb.Endpoints()[0]; !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s is not https", ep)
	}
	ctx := context.Background()
	cfg := emb.ClientConfig()
	cfg.TLS = TLSFiles{CAFile: files.CA}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Campaign(ctx, "tls"); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, []alloc.Mutation{{Key: "tenants/a", Value: []byte(`{"name":"a"}`)}}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Load(ctx)
	if err != nil || len(recs) != 1 || recs[0].Key != "tenants/a" {
		t.Fatalf("Load over TLS = %v, %v", recs, err)
	}
	plain := emb.ClientConfig()
	plain.DialTimeout = 2e9
	if s2, err := Open(ctx, plain); err == nil {
		s2.Close()
		t.Fatal("Open without the CA succeeded against a TLS etcd")
	}
}
