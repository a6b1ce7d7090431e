// Command knitter-manager is Knitter's central API server: tenants, networks, IP groups and every
// pod's ports, persisted in etcd (embedded by default), with leader election among replicas.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "knitter-manager:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		configFile string
		flags      Config
		endpoints  []string
		cooldown   time.Duration
		stickyTTL  time.Duration
		sessionTTL time.Duration
		limits     struct{ readHeader, read, write, idle time.Duration }
	)
	cmd := &cobra.Command{
		Use:           "knitter-manager",
		Short:         "Knitter's central API server (tenants, networks, IP pools, ports) on etcd",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configFile)
			if err != nil {
				return err
			}
			set := cmd.Flags().Changed
			override := func(name string, apply func()) {
				if set(name) {
					apply()
				}
			}
			override("listen", func() { cfg.Listen = flags.Listen })
			override("advertise-url", func() { cfg.AdvertiseURL = flags.AdvertiseURL })
			override("data-dir", func() { cfg.DataDir = flags.DataDir })
			override("etcd-endpoints", func() { cfg.Etcd.Endpoints = endpoints })
			override("etcd-ca", func() { cfg.Etcd.CAFile = flags.Etcd.CAFile })
			override("etcd-cert", func() { cfg.Etcd.CertFile = flags.Etcd.CertFile })
			override("etcd-key", func() { cfg.Etcd.KeyFile = flags.Etcd.KeyFile })
			override("etcd-prefix", func() { cfg.Etcd.Prefix = flags.Etcd.Prefix })
			override("etcd-client-port", func() { cfg.Etcd.ClientPort = flags.Etcd.ClientPort })
			override("etcd-session-ttl", func() { cfg.Etcd.SessionTTL = Duration(sessionTTL) })
			override("etcd-max-inflight", func() { cfg.Etcd.MaxInflight = flags.Etcd.MaxInflight })
			override("tls-cert", func() { cfg.TLS.CertFile = flags.TLS.CertFile })
			override("tls-key", func() { cfg.TLS.KeyFile = flags.TLS.KeyFile })
			override("tls-ca", func() { cfg.TLS.CAFile = flags.TLS.CAFile })
			override("insecure-http", func() { cfg.TLS.InsecureHTTP = flags.TLS.InsecureHTTP })
			override("admin-token-file", func() { cfg.AdminTokenFile = flags.AdminTokenFile })
			override("cooldown", func() { cfg.Cooldown = Duration(cooldown) })
			override("sticky-ttl", func() { cfg.StickyTTL = Duration(stickyTTL) })
			override("underlay", func() { cfg.Underlay = flags.Underlay })
			override("bootstrap", func() { cfg.Bootstrap = flags.Bootstrap })
			override("log-level", func() { cfg.LogLevel = flags.LogLevel })
			override("max-connections", func() { cfg.Limits.MaxConnections = flags.Limits.MaxConnections })
			override("max-unauthenticated-connections", func() {
				cfg.Limits.MaxUnauthenticatedConnections = flags.Limits.MaxUnauthenticatedConnections
			})
			override("max-requests-per-client", func() { cfg.Limits.MaxRequestsPerClient = flags.Limits.MaxRequestsPerClient })
			override("read-header-timeout", func() { cfg.Limits.ReadHeaderTimeout = Duration(limits.readHeader) })
			override("read-timeout", func() { cfg.Limits.ReadTimeout = Duration(limits.read) })
			override("write-timeout", func() { cfg.Limits.WriteTimeout = Duration(limits.write) })
			override("idle-timeout", func() { cfg.Limits.IdleTimeout = Duration(limits.idle) })
			if err := cfg.complete(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, cfg, newLogger(cfg.LogLevel))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configFile, "config", "c", "", "configuration file (YAML); flags override it")
	f.StringVar(&flags.Listen, "listen", "127.0.0.1:9527", "API listen address")
	f.StringVar(&flags.AdvertiseURL, "advertise-url", "", "URL other managers and clients use for this one (default https://<listen>; with port 0, the port the kernel gave)")
	f.StringVar(&flags.DataDir, "data-dir", "/var/lib/knitter-manager", "state directory: embedded etcd, generated TLS material, admin token")
	f.StringSliceVar(&endpoints, "etcd-endpoints", nil, "external etcd client URLs (comma separated); empty runs an embedded etcd")
	f.StringVar(&flags.Etcd.CAFile, "etcd-ca", "", "CA file of the external etcd's server certificate")
	f.StringVar(&flags.Etcd.CertFile, "etcd-cert", "", "client certificate for the external etcd")
	f.StringVar(&flags.Etcd.KeyFile, "etcd-key", "", "client key for the external etcd")
	f.StringVar(&flags.Etcd.Prefix, "etcd-prefix", "/knitter/", "key prefix in etcd")
	f.IntVar(&flags.Etcd.ClientPort, "etcd-client-port", 0, "refused unless 0: the embedded etcd serves its clients only on <data-dir>/etcd/client.sock")
	f.DurationVar(&sessionTTL, "etcd-session-ttl", 5*time.Second, "how long after this manager dies a standby may take over")
	f.IntVar(&flags.Etcd.MaxInflight, "etcd-max-inflight", etcdstore.DefaultMaxInflight, "transactions of a term in flight to etcd at once (landing in order); 1 sends one at a time")
	f.StringVar(&flags.TLS.CertFile, "tls-cert", "", "API server certificate (default: generated in <data-dir>/pki)")
	f.StringVar(&flags.TLS.KeyFile, "tls-key", "", "API server key")
	f.StringVar(&flags.TLS.CAFile, "tls-ca", "", "CA of the managers' certificates (for proxying to the leader)")
	f.BoolVar(&flags.TLS.InsecureHTTP, "insecure-http", false, "serve plain HTTP (development on loopback only)")
	f.StringVar(&flags.AdminTokenFile, "admin-token-file", "", "admin bearer token file, created if missing (default <data-dir>/admin.token)")
	f.DurationVar(&cooldown, "cooldown", 30*time.Second, "how long a released address stays unused while others are free")
	f.DurationVar(&stickyTTL, "sticky-ttl", 10*time.Minute, "how long a released StatefulSet member's addresses are kept for it")
	f.StringSliceVar(&flags.Underlay, "underlay", nil, "physical networks (node NICs, comma separated) that carry the nodes' own traffic; never granted to a tenant")
	f.StringVar(&flags.Bootstrap, "bootstrap", "", "file of tenants, networks and IP groups to create at start when missing")
	f.StringVar(&flags.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.IntVar(&flags.Limits.MaxConnections, "max-connections", 4096, "open API connections at most")
	f.IntVar(&flags.Limits.MaxUnauthenticatedConnections, "max-unauthenticated-connections", 256,
		"connections without an authenticated request at most; beyond, the oldest of them is closed")
	f.IntVar(&flags.Limits.MaxRequestsPerClient, "max-requests-per-client", 128, "requests in flight per caller and address; more get 429")
	f.DurationVar(&limits.readHeader, "read-header-timeout", 10*time.Second, "bound on the TLS handshake and a request's headers")
	f.DurationVar(&limits.read, "read-timeout", 30*time.Second, "bound on reading a whole request")
	f.DurationVar(&limits.write, "write-timeout", 60*time.Second, "bound on a request from its headers to the end of its answer")
	f.DurationVar(&limits.idle, "idle-timeout", 90*time.Second, "keep-alive connections idle this long are closed")
	return cmd
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
