package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/adapters/pki"
	"github.com/knitter-cni/knitter/manager"
)

func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	adminToken, err := ensureAdminToken(cfg.AdminTokenFile)
	if err != nil {
		return err
	}
	fit, nofile, err := fitConnections(cfg.Limits.MaxConnections)
	if err != nil {
		return err
	}
	if fit < cfg.Limits.MaxConnections {
		log.Warn("max_connections lowered to fit the file descriptor limit; raise the limit (ulimit -n, systemd LimitNOFILE=) to allow more",
			"max_connections", fit, "configured", cfg.Limits.MaxConnections, "nofile", nofile, "reserved", fdReserve)
		cfg.Limits.MaxConnections = fit
		cfg.Limits.MaxUnauthenticatedConnections = min(cfg.Limits.MaxUnauthenticatedConnections, fit)
	}
	storeCfg := etcdstore.Config{Endpoints: cfg.Etcd.Endpoints, Prefix: cfg.Etcd.Prefix,
		SessionTTL: time.Duration(cfg.Etcd.SessionTTL), MaxInflight: cfg.Etcd.MaxInflight,
		TLS: etcdstore.TLSFiles{CAFile: cfg.Etcd.CAFile, CertFile: cfg.Etcd.CertFile, KeyFile: cfg.Etcd.KeyFile}}
	if len(cfg.Etcd.Endpoints) == 0 {
		emb, err := etcdstore.StartEmbedded(etcdstore.EmbedConfig{DataDir: filepath.Join(cfg.DataDir, "etcd")})
		if err != nil {
			return fmt.Errorf("starting embedded etcd: %w", err)
		}
		defer emb.Close()
		storeCfg.Endpoints = emb.Endpoints()
		log.Info("embedded etcd started", "endpoints", strings.Join(emb.Endpoints(), ","), "dir", filepath.Join(cfg.DataDir, "etcd"))
	}
	store, err := etcdstore.Open(ctx, storeCfg)
	if err != nil {
		return err
	}
	defer store.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mgr, err := manager.New(manager.Options{Alloc: cfg.allocConfig(), AdminToken: adminToken,
		Logger: log, Metrics: manager.NewMetrics(reg)})
	if err != nil {
		return err
	}
	if err := manager.RegisterPoolMetrics(reg, mgr); err != nil {
		return err
	}
	var boot *Bootstrap
	if cfg.Bootstrap != "" {
		if boot, err = loadBootstrap(cfg.Bootstrap); err != nil {
			return err
		}
	}

	serverTLS, proxyTLS, err := tlsConfigs(cfg)
	if err != nil {
		return err
	}
	lead := &leadership{self: cfg.AdvertiseURL, probe: probeLeader(proxyTLS)}
	lim := cfg.Limits
	handler := httpapi.NewServer(backend{mgr, lead}, httpapi.Options{Logger: log, Registry: reg, Proxy: true, ProxyTLS: proxyTLS,
		MaxInFlightPerClient: lim.MaxRequestsPerClient})
	tcp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.AdvertiseURL == "" { // listen on port 0: advertise the port the kernel gave
		cfg.AdvertiseURL = cfg.scheme() + "://" + tcp.Addr().String()
		lead.self = cfg.AdvertiseURL
	}
	var ln net.Listener = httpapi.NewConnLimiter(tcp, lim.MaxConnections, lim.MaxUnauthenticatedConnections, log)
	srv := &http.Server{Handler: handler, ConnContext: httpapi.ConnContext,
		ReadHeaderTimeout: time.Duration(lim.ReadHeaderTimeout), ReadTimeout: time.Duration(lim.ReadTimeout),
		WriteTimeout: time.Duration(lim.WriteTimeout), IdleTimeout: time.Duration(lim.IdleTimeout),
		MaxHeaderBytes: 64 << 10, HTTP2: &http.HTTP2Config{MaxConcurrentStreams: lim.MaxRequestsPerClient},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if serverTLS != nil {
		// The TLS layer sits above the limiter, so the limiter counts and closes the TCP connections
		// and the server still sees *tls.Conn (for HTTP/2).
		serverTLS = serverTLS.Clone()
		serverTLS.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, serverTLS)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("knitter-manager serving", "listen", ln.Addr().String(), "advertise", cfg.AdvertiseURL, "tls", serverTLS != nil, "admin_token_file", cfg.AdminTokenFile)

	var wg sync.WaitGroup
	wg.Go(func() { lead.campaign(ctx, store, mgr, cfg.AdvertiseURL, boot, log) })
	wg.Go(func() { lead.watchLeader(ctx, store, mgr) })
	wg.Go(func() { mgr.Run(ctx, time.Second) })

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	if err := store.Resign(shutdownCtx); err != nil && !errors.Is(err, etcdstore.ErrNotLeader) {
		log.Warn("resigning", "err", err)
	}
	return nil
}

// campaign holds or waits for leadership for as long as ctx lives: win a term, load the state into
// it, serve, and when that term ends (lost, or a failed write of it) stop serving and campaign again.
func (l *leadership) campaign(ctx context.Context, store *etcdstore.Store, mgr *manager.Manager, self string, boot *Bootstrap, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		t, err := store.Campaign(ctx, self)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("campaign failed", "err", err)
				sleep(ctx, backoff)
				backoff = min(2*backoff, 5*time.Second)
			}
			continue
		}
		term := etcdstore.ManagerTerm(t)
		if err := mgr.Activate(ctx, term); err != nil {
			log.Error("won the election but could not load the state", "err", err)
			resign(ctx, t, log)
			sleep(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		// The bootstrap objects exist before the manager reports itself the leader, so clients that
		// wait for /readyz find them.
		if boot != nil {
			if err := boot.apply(ctx, mgr, log); err != nil {
				log.Error("bootstrap failed", "err", err)
			}
			boot = nil
		}
		l.set(true)
		log.Info("leading", "advertise", self)
		select {
		case <-ctx.Done():
		case <-t.Lost():
			mgr.Deactivate(term, "lost the leadership")
		case <-mgr.Done(term):
			resign(ctx, t, log)
		}
		l.set(false)
	}
}

// resign gives up term t so that a standby need not wait for the session TTL. A failed
// resignation still ends the term, and the store fences the next one apart from it.
func resign(ctx context.Context, t *etcdstore.Term, log *slog.Logger) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := t.Resign(rctx); err != nil {
		log.Warn("resigning", "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func tlsConfigs(cfg Config) (server, proxy *tls.Config, err error) {
	if cfg.TLS.InsecureHTTP {
		return nil, nil, nil
	}
	files := pki.Files{CA: cfg.TLS.CAFile, Cert: cfg.TLS.CertFile, Key: cfg.TLS.KeyFile}
	if files.Cert == "" {
		host, _, _ := net.SplitHostPort(cfg.Listen)
		if files, err = pki.Ensure(filepath.Join(cfg.DataDir, "pki"), append([]string{host}, cfg.TLS.Hosts...)); err != nil {
			return nil, nil, fmt.Errorf("tls: generating certificates: %w", err)
		}
	}
	if server, err = pki.ServerTLS(files); err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	if files.CA != "" {
		if proxy, err = pki.ClientTLS(files.CA); err != nil {
			return nil, nil, fmt.Errorf("tls.ca_file: %w", err)
		}
	}
	return server, proxy, nil
}

// ensureAdminToken reads the admin token, creating the file with a new random token the first time.
// A file that group or others may read or write is refused: anyone who can read it is admin.
func ensureAdminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if err := checkPrivate(path); err != nil {
			return "", err
		}
		tok := strings.TrimSpace(string(b))
		if len(tok) < 16 {
			return "", fmt.Errorf("admin_token_file %s: the token is %d characters; use at least 16 (or delete the file to generate one)", path, len(tok))
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin_token_file: %w", err)
	}
	secret, err := manager.NewSecret()
	if err != nil {
		return "", err
	}
	tok := "admin." + secret
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("admin_token_file: %w", err)
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin_token_file: %w", err)
	}
	return tok, nil
}

// checkPrivate refuses a secret file with any permission bit for group or others.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("admin_token_file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("admin_token_file %s has mode %04o: group or others may read or change the admin token; run \"chmod 600 %s\" (and replace the token if others may have read it)", path, perm, path)
	}
	return nil
}
