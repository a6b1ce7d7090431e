package etcdstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/core/alloc"
)

// clientCert issues a client certificate signed by the CA in dir (pki.Ensure's layout) and returns
// the certificate and key files.
func clientCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	caPair, err := tls.LoadX509KeyPair(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caPair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caPair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(t.TempDir(), "client.crt"), filepath.Join(t.TempDir(), "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLSEndpoint runs the store against an etcd that serves TCP clients over TLS with client
// certificates, as an external etcd does: with the CA and a client certificate the round trip works;
// without the certificate, or without TLS, Open fails.
func TestTLSEndpoint(t *testing.T) {
	pkiDir := filepath.Join(t.TempDir(), "pki")
	files, err := pki.Ensure(pkiDir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := StartEmbedded(EmbedConfig{DataDir: filepath.Join(t.TempDir(), "etcd"), LogLevel: "error",
		ClientCertFile: files.Cert, ClientKeyFile: files.Key, ClientCAFile: files.CA})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if ep := emb.Endpoints()[0]; !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s is not https", ep)
	}
	ctx := context.Background()
	cert, key := clientCert(t, pkiDir)
	cfg := emb.ClientConfig()
	cfg.TLS = TLSFiles{CAFile: files.CA, CertFile: cert, KeyFile: key}
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
	for name, tf := range map[string]TLSFiles{"no TLS": {}, "no client certificate": {CAFile: files.CA}} {
		other := emb.ClientConfig()
		other.TLS = tf
		other.DialTimeout = 2 * time.Second
		if s2, err := Open(ctx, other); err == nil {
			s2.Close()
			t.Fatalf("Open with %s succeeded against a client-certificate etcd", name)
		}
	}
}

// TestEmbeddedServesNoOpenTCP: by default the embedded etcd's clients are on a unix socket in a
// 0700 directory, and its one TCP listener (the peer port, which a single member needs) refuses
// plain HTTP and TLS without a client certificate — no local process can reach the state.
func TestEmbeddedServesNoOpenTCP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	emb, err := StartEmbedded(EmbedConfig{DataDir: dir, LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	want := "unix://" + filepath.Join(dir, SocketName)
	if eps := emb.Endpoints(); len(eps) != 1 || eps[0] != want {
		t.Fatalf("Endpoints() = %v, want [%s]", eps, want)
	}
	for _, l := range emb.etcd.Clients {
		if l.Addr().Network() != "unix" {
			t.Fatalf("the embedded etcd serves clients on %s %s", l.Addr().Network(), l.Addr())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode = %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	s := openStore(t, emb.ClientConfig())
	campaign(t, s, "m1")
	apply(t, s, put("k", "v"))
	if len(emb.PeerAddrs()) == 0 {
		t.Fatal("no peer listener reported")
	}
	for _, addr := range emb.PeerAddrs() {
		plain := &http.Client{Timeout: 5 * time.Second}
		if resp, err := plain.Get("http://" + addr + "/members"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("plain HTTP to the peer port %s answered 200", addr)
			}
		}
		noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		if resp, err := noCert.Get("https://" + addr + "/members"); err == nil {
			resp.Body.Close()
			t.Fatalf("TLS without a client certificate to the peer port %s answered %s", addr, resp.Status)
		}
		if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			c.Close() // the port is open, but as shown it speaks only to certificate holders
		}
	}
}
