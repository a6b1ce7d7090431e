package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/embed"
)

// etcdCmd serves a single-member etcd for the API server on loopback until SIGTERM.
func etcdCmd() *cobra.Command {
	var dataDir, listen string
	cmd := &cobra.Command{
		Use:   "etcd --data-dir DIR [--listen 127.0.0.1:2379]",
		Short: "serve the API server's etcd (single member, plain HTTP on loopback) until SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if dataDir == "" {
				return fmt.Errorf("--data-dir is required")
			}
			client, err := url.Parse("http://" + listen)
			if err != nil || client.Port() == "" {
				return fmt.Errorf("--listen %q: want host:port on loopback, e.g. 127.0.0.1:2379", listen)
			}
			peer := *client
			cfg := embed.NewConfig()
			cfg.Name = "kube"
			cfg.Dir = dataDir
			cfg.LogLevel = "warn"
			cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
			// The only member: its peer URL is never dialled, but must be a valid address.
			peer.Host = client.Hostname() + ":" + fmt.Sprint(portPlus(client.Port(), 1))
			cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
			cfg.InitialCluster = cfg.Name + "=" + peer.String()
			cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "periodic", "5m"
			cfg.QuotaBackendBytes = 2 << 30
			e, err := embed.StartEtcd(cfg)
			if err != nil {
				return fmt.Errorf("starting etcd in %s: %w", dataDir, err)
			}
			defer e.Close()
			select {
			case <-e.Server.ReadyNotify():
			case <-time.After(2 * time.Minute):
				return fmt.Errorf("etcd in %s did not become ready within 2m", dataDir)
			}
			slog.Info("etcd serving", "client", client.String(), "data_dir", dataDir)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			select {
			case <-ctx.Done():
				return nil
			case err := <-e.Err():
				return fmt.Errorf("etcd: %w", err)
			}
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "etcd's data directory")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:2379", "client address (the peer port is the next one)")
	return cmd
}

func portPlus(port string, d int) int {
	var p int
	fmt.Sscan(port, &p)
	return p + d
}
