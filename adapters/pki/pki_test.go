package pki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	p, err := loadPair(file, strings.TrimSuffix(file, ".crt")+".key")
	if err != nil {
		t.Fatal(err)
	}
	return p.cert
}

func TestEnsureCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	f, err := ensure(dir, []string{"10.0.0.2", "manager.example.com", " ", "fd00::2"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if f.CA != filepath.Join(dir, "ca.crt") || f.Cert != filepath.Join(dir, "server.crt") || f.Key != filepath.Join(dir, "server.key") {
		t.Fatalf("files %+v", f)
	}
	for name, mode := range map[string]os.FileMode{"ca.key": 0o600, "server.key": 0o600, "ca.crt": 0o644, "server.crt": 0o644, ".": 0o700} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	ca, srv := readCert(t, f.CA), readCert(t, f.Cert)
	if !ca.IsCA || !ca.MaxPathLenZero || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA %+v", ca)
	}
	if srv.IsCA || !slices.Contains(srv.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Fatal("server certificate is a CA or not for servers")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, host := range []string{"10.0.0.2", "fd00::2", "manager.example.com", "127.0.0.1", "::1", "localhost"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: t0}); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: "10.0.0.3", CurrentTime: t0}); err == nil {
		t.Error("valid for a host it was not made for")
	}
	if srv.NotAfter.Sub(t0) < 365*24*time.Hour {
		t.Errorf("server certificate ends %v", srv.NotAfter)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range []string{"ca.crt", "ca.key", "server.crt", "server.key"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

func TestEnsureReuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := ensure(dir, []string{"10.0.0.2", "Manager.Example.com"}, t0); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	// Same hosts (in another order and case), a subset, or a month later: nothing changes.
	for _, hosts := range [][]string{{"manager.example.com", "10.0.0.2"}, {"10.0.0.2"}, nil} {
		if _, err := ensure(dir, hosts, t0.AddDate(0, 1, 0)); err != nil {
			t.Fatal(err)
		}
		for n, b := range snapshot(t, dir) {
			if !bytes.Equal(b, before[n]) {
				t.Fatalf("hosts %v: %s was rewritten", hosts, n)
			}
		}
	}
}

func TestEnsureReissuesServerOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hosts []string
		at    time.Time
		spoil func(dir string) error
	}{
		{"new host", []string{"10.0.0.2", "10.0.0.9"}, t0, nil},
		{"about to expire", []string{"10.0.0.2"}, t0.Add(serverValidity - renewBefore + time.Hour), nil},
		{"damaged cert", []string{"10.0.0.2"}, t0, func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "server.crt"), []byte("garbage"), 0o644)
		}},
		{"missing key", []string{"10.0.0.2"}, t0, func(dir string) error { return os.Remove(filepath.Join(dir, "server.key")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := ensure(dir, []string{"10.0.0.2"}, t0); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			if tc.spoil != nil {
				if err := tc.spoil(dir); err != nil {
					t.Fatal(err)
				}
			}
			f, err := ensure(dir, tc.hosts, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			after := snapshot(t, dir)
			if !bytes.Equal(after["ca.crt"], before["ca.crt"]) || !bytes.Equal(after["ca.key"], before["ca.key"]) {
				t.Fatal("the CA changed; clients would stop trusting the manager")
			}
			if bytes.Equal(after["server.crt"], before["server.crt"]) {
				t.Fatal("the server certificate was not reissued")
			}
			roots := x509.NewCertPool()
			roots.AddCert(readCert(t, f.CA))
			for _, h := range tc.hosts {
				if _, err := readCert(t, f.Cert).Verify(x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: tc.at}); err != nil {
					t.Fatalf("reissued certificate not valid for %s: %v", h, err)
				}
			}
		})
	}
}

func TestEnsureErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ensure(dir, nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := ensure(dir, nil, t0); err == nil || !strings.Contains(err.Error(), "ca.key is missing") {
		t.Fatalf("CA without key: %v", err)
	}
	for _, bad := range []string{"https://10.0.0.2", "10.0.0.2:9527", "a..b", "-x.example.com", "under_score.example.com"} {
		if _, err := ensure(t.TempDir(), []string{bad}, t0); err == nil || !strings.Contains(err.Error(), "neither an IP address nor a DNS name") {
			t.Errorf("host %q: %v", bad, err)
		}
	}
	// A server certificate signed by another CA is not kept.
	other, fresh := t.TempDir(), t.TempDir()
	if _, err := ensure(other, nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := ensure(fresh, nil, t0); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"server.crt", "server.key"} {
		b, _ := os.ReadFile(filepath.Join(other, n))
		if err := os.WriteFile(filepath.Join(fresh, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ensure(fresh, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if readCert(t, f.Cert).CheckSignatureFrom(readCert(t, f.CA)) != nil {
		t.Fatal("kept a server certificate of another CA")
	}
}

func TestTLSConfigs(t *testing.T) {
	dir := t.TempDir()
	f, err := Ensure(dir, []string{"10.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ServerTLS(f)
	if err != nil || len(srv.Certificates) != 1 || srv.MinVersion < 0x0303 {
		t.Fatalf("server config %+v, %v", srv, err)
	}
	cli, err := ClientTLS(f.CA)
	if err != nil || cli.RootCAs == nil || cli.MinVersion < 0x0303 {
		t.Fatalf("client config %+v, %v", cli, err)
	}
	if _, err := ServerTLS(Files{Cert: f.CA, Key: f.Key}); err == nil {
		t.Fatal("mismatched pair accepted")
	}
	if _, err := ClientTLS(f.Key); err == nil {
		t.Fatal("a key accepted as a CA")
	}
	if _, err := ClientTLS(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("a missing CA accepted")
	}
}
