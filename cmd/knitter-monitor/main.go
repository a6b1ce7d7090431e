// Command knitter-monitor watches the Kubernetes API: it allocates every pod's ports in
// knitter-manager as soon as the pod is created, releases them by UID when the pod is gone (into the
// cooldown, or the sticky hold of a StatefulSet's pod), writes the network-status annotation, and
// reconciles the manager against the live pods and nodes. One monitor is active (Lease); others
// stand by with warm caches.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "knitter-monitor:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		configFile                                          string
		f                                                   Config
		leaderElect, networkStatus                          bool
		leaseDuration, period, orphanGrace, nodeGrace, sync time.Duration
	)
	cmd := &cobra.Command{
		Use:           "knitter-monitor",
		Short:         "Knitter's Kubernetes controller: allocates pods' ports before CNI, releases them by UID, reconciles",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configFile)
			if err != nil {
				return err
			}
			set := cmd.Flags().Changed
			override := func(apply func(), names ...string) {
				for _, n := range names {
					if set(n) {
						apply()
						return
					}
				}
			}
			override(func() { cfg.Kubeconfig = f.Kubeconfig }, "kubeconfig")
			override(func() { cfg.Manager.URL = f.Manager.URL }, "manager-url", "manager")
			override(func() { cfg.Manager.TokenFile = f.Manager.TokenFile }, "manager-token-file", "token-file")
			override(func() { cfg.Manager.CAFile = f.Manager.CAFile }, "manager-ca", "ca")
			override(func() { cfg.Listen = f.Listen }, "listen")
			override(func() { cfg.LeaderElect = &leaderElect }, "leader-elect")
			override(func() { cfg.LeaseNamespace = f.LeaseNamespace }, "lease-namespace")
			override(func() { cfg.LeaseName = f.LeaseName }, "lease-name")
			override(func() { cfg.Identity = f.Identity }, "identity")
			override(func() { cfg.LeaseDuration = Duration(leaseDuration) }, "lease-duration")
			override(func() { cfg.Workers = f.Workers }, "workers")
			override(func() { cfg.ReconcilePeriod = Duration(period) }, "reconcile-period")
			override(func() { cfg.OrphanGrace = Duration(orphanGrace) }, "orphan-grace")
			override(func() { cfg.NodeGrace = Duration(nodeGrace) }, "node-grace")
			override(func() { cfg.NetworkStatus = &networkStatus }, "network-status")
			override(func() { cfg.Resync = Duration(sync) }, "resync")
			override(func() { cfg.LogLevel = f.LogLevel }, "log-level")
			if err := cfg.complete(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, cfg, newLogger(cfg.LogLevel))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&configFile, "config", "", "configuration file (YAML or JSON); flags override it")
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: the pod's service account)")
	fl.StringVar(&f.Manager.URL, "manager-url", "", "knitter-manager's URL, e.g. https://10.0.0.2:9527")
	fl.StringVar(&f.Manager.URL, "manager", "", "same as --manager-url")
	fl.StringVar(&f.Manager.TokenFile, "manager-token-file", "", "file holding the monitor's system bearer token")
	fl.StringVar(&f.Manager.TokenFile, "token-file", "", "same as --manager-token-file")
	fl.StringVar(&f.Manager.CAFile, "manager-ca", "", "CA certificate of the manager")
	fl.StringVar(&f.Manager.CAFile, "ca", "", "same as --manager-ca")
	fl.StringVar(&f.Listen, "listen", "", "address of /metrics, /healthz and /readyz (default :9529)")
	fl.BoolVar(&leaderElect, "leader-elect", true, "run only while holding the Lease (standbys take over)")
	fl.StringVar(&f.LeaseNamespace, "lease-namespace", "", "namespace of the Lease (default kube-system)")
	fl.StringVar(&f.LeaseName, "lease-name", "", "name of the Lease (default knitter-monitor)")
	fl.StringVar(&f.Identity, "identity", "", "this monitor's name in the Lease (default $POD_NAME, else the host name)")
	fl.DurationVar(&leaseDuration, "lease-duration", 15*time.Second, "how long a dead leader blocks a standby")
	fl.IntVar(&f.Workers, "workers", 0, "pods synced in parallel (default 4)")
	fl.DurationVar(&period, "reconcile-period", 30*time.Second, "interval of the full reconcile")
	fl.DurationVar(&orphanGrace, "orphan-grace", 5*time.Second, "age of an orphan before the reconcile releases it")
	fl.DurationVar(&nodeGrace, "node-grace", 5*time.Minute, "how long a node may be NotReady before its deleting pods' ports are released")
	fl.BoolVar(&networkStatus, "network-status", true, "write pods' network-status annotation (turn off behind Multus)")
	fl.DurationVar(&sync, "resync", 10*time.Minute, "informer resync period")
	fl.StringVar(&f.LogLevel, "log-level", "", "debug, info, warn or error (default info)")
	return cmd
}
