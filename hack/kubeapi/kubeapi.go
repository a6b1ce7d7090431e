// Package kubeapi runs a real kube-apiserver on loopback for integration tests: an embedded etcd
// (the manager's own etcdstore adapter) and the kube-apiserver binary that hack/kube-build.sh
// builds, authenticating one admin bearer token from a token file. It writes a kubeconfig for that
// token. Nothing listens beyond 127.0.0.1.
package kubeapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
)

// Server is a running etcd + kube-apiserver.
type Server struct {
	// URL is the API server's https address; Kubeconfig a file that reaches it with Token.
	URL, Kubeconfig, Token string
	etcd                   *etcdstore.Embedded
	cmd                    *exec.Cmd
	exited                 chan error
}

// Start runs etcd and kube-apiserver (from binDir) with their state under dir, and waits until
// the API server is ready. Its log goes to dir/kube-apiserver.log.
func Start(ctx context.Context, binDir, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	bin := filepath.Join(binDir, "kube-apiserver")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w; build it with hack/kube-build.sh", err)
	}
	e, err := etcdstore.StartEmbedded(etcdstore.EmbedConfig{DataDir: filepath.Join(dir, "etcd"), Name: "kube", LogLevel: "error"})
	if err != nil {
		return nil, fmt.Errorf("starting etcd: %w", err)
	}
	s := &Server{etcd: e, Token: "knitter-admin-" + strconv.FormatInt(time.Now().UnixNano(), 36), exited: make(chan error, 1)}
	if err := s.start(ctx, bin, dir); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin, dir string) error {
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(s.Token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := writeRSAKey(saKey); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	log, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	s.cmd = exec.Command(bin,
		"--etcd-servers="+s.etcd.Endpoints()[0],
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "pki"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		// No controller-manager creates default service accounts here.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		// Clients create pods as fast as they can; do not let priority and fairness queue them.
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000",
	)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	go func() { s.exited <- s.cmd.Wait(); log.Close() }()
	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`, s.URL, s.Token)
	if err := os.WriteFile(s.Kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	return s.waitReady(ctx, filepath.Join(dir, "kube-apiserver.log"))
}

// waitReady polls /readyz until it answers 200.
func (s *Server) waitReady(ctx context.Context, logFile string) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.exited:
			return fmt.Errorf("kube-apiserver exited (%v); see %s", err, logFile)
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready: %w; see %s", ctx.Err(), logFile)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop ends the API server, then etcd.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.etcd != nil {
		_ = s.etcd.Close()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeRSAKey(path string) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if b == nil {
		return errors.New("encoding the service-account key")
	}
	return os.WriteFile(path, b, 0o600)
}
