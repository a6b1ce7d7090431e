// Command knitter-agent runs on every node: it serves knitter-plugin on a unix socket, builds pods'
// interfaces with netlink, keeps a checkpoint of every attachment, registers the node with
// knitter-manager and programs the overlays' VXLAN peers.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "knitter-agent:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var (
		configFile string
		f          Config
		uplinks    []string
		heartbeat  time.Duration
		peerPoll   time.Duration
		reclaim    time.Duration
	)
	cmd := &cobra.Command{
		Use:           "knitter-agent",
		Short:         "Knitter's node agent: serves knitter-plugin, builds pods' interfaces, keeps checkpoints",
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
			override("node-name", func() { cfg.NodeName = f.NodeName })
			override("vtep", func() { cfg.VTEP = f.VTEP })
			override("vtep-device", func() { cfg.VTEPDevice = f.VTEPDevice })
			override("mtu", func() { cfg.MTU = f.MTU })
			override("socket", func() { cfg.Socket = f.Socket })
			override("state-dir", func() { cfg.StateDir = f.StateDir })
			override("max-concurrent", func() { cfg.MaxConcurrent = f.MaxConcurrent })
			override("manager-url", func() { cfg.Manager.URL = f.Manager.URL })
			override("manager-token-file", func() { cfg.Manager.TokenFile = f.Manager.TokenFile })
			override("manager-ca", func() { cfg.Manager.CAFile = f.Manager.CAFile })
			override("kubeconfig", func() { cfg.Kubeconfig = f.Kubeconfig })
			override("in-cluster", func() { cfg.InCluster = f.InCluster })
			override("pod-dir", func() { cfg.PodDir = f.PodDir })
			override("dns-nameserver", func() { cfg.DNS.Nameservers = f.DNS.Nameservers })
			override("dns-search", func() { cfg.DNS.Search = f.DNS.Search })
			override("host-netns", func() { cfg.HostNetns = f.HostNetns })
			override("sriov-sysfs-root", func() { cfg.SRIOV.SysfsRoot = f.SRIOV.SysfsRoot })
			override("heartbeat", func() { cfg.Heartbeat = Duration(heartbeat) })
			override("peer-poll", func() { cfg.PeerPoll = Duration(peerPoll) })
			override("reclaim-interval", func() { cfg.Reclaim = Duration(reclaim) })
			override("log-level", func() { cfg.LogLevel = f.LogLevel })
			override("cni-bin-dir", func() { cfg.CNI.BinDir = f.CNI.BinDir })
			override("cni-conf-dir", func() { cfg.CNI.ConfDir = f.CNI.ConfDir })
			override("cni-plugin", func() { cfg.CNI.Plugin = f.CNI.Plugin })
			override("cni-conf-name", func() { cfg.CNI.ConfName = f.CNI.ConfName })
			override("cni-plugin-socket", func() { cfg.CNI.PluginSocket = f.CNI.PluginSocket })
			override("cni-uninstall-with", func() { cfg.CNI.UninstallWith = f.CNI.UninstallWith })
			if set("uplink") {
				cfg.Uplinks = map[string]string{}
				for _, u := range uplinks {
					phys, nic, ok := strings.Cut(u, "=")
					if !ok || phys == "" || nic == "" {
						return fmt.Errorf("--uplink %q: write it as PHYSICAL_NETWORK=NIC, e.g. physnet1=eth1", u)
					}
					cfg.Uplinks[phys] = nic
				}
			}
			if err := cfg.defaults(); err != nil {
				return err
			}
			if err := cfg.validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, cfg, newLogger(cfg.LogLevel))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&configFile, "config", "", "configuration file (YAML or JSON); flags override it")
	fl.StringVar(&f.NodeName, "node-name", "", "Kubernetes node name (default $NODE_NAME, else the host name)")
	fl.StringVar(&f.VTEP, "vtep", "", "this node's VXLAN tunnel endpoint address (needed for overlay networks)")
	fl.StringVar(&f.VTEPDevice, "vtep-device", "", "the NIC that carries the VTEP address")
	fl.StringSliceVar(&uplinks, "uplink", nil, "PHYSICAL_NETWORK=NIC mapping for vlan/macvlan/sriov networks (repeatable)")
	fl.IntVar(&f.MTU, "mtu", 0, "node NIC MTU, the default for networks without one (default 1500)")
	fl.StringVar(&f.Socket, "socket", "", "unix socket for knitter-plugin (default /run/knitter/agent.sock)")
	fl.StringVar(&f.StateDir, "state-dir", "", "checkpoint directory (default "+DefaultStateDir+", tmpfs: lost on reboot, when the runtime re-ADDs; give a disk path to keep them)")
	fl.IntVar(&f.MaxConcurrent, "max-concurrent", 0, "CNI calls served at once (default 16)")
	fl.StringVar(&f.Manager.URL, "manager-url", "", "knitter-manager's URL, e.g. https://10.0.0.2:9527")
	fl.StringVar(&f.Manager.TokenFile, "manager-token-file", "", "file holding the agent's bearer token")
	fl.StringVar(&f.Manager.CAFile, "manager-ca", "", "CA certificate of the manager")
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig for reading pods")
	fl.BoolVar(&f.InCluster, "in-cluster", false, "read pods with the pod's service account")
	fl.StringVar(&f.PodDir, "pod-dir", "", "without an API server: Pod manifests at DIR/<namespace>/<name>.yaml")
	fl.StringSliceVar(&f.DNS.Nameservers, "dns-nameserver", nil, "nameserver for ADD results (repeatable)")
	fl.StringSliceVar(&f.DNS.Search, "dns-search", nil, "search domain for ADD results (repeatable)")
	fl.StringVar(&f.HostNetns, "host-netns", "", "network namespace that is the node's (default: the agent's own)")
	fl.StringVar(&f.SRIOV.SysfsRoot, "sriov-sysfs-root", "", "sysfs root for SR-IOV VFs, e.g. /sys (default: SR-IOV off)")
	fl.DurationVar(&heartbeat, "heartbeat", 30*time.Second, "interval of the node's registration heartbeat")
	fl.DurationVar(&peerPoll, "peer-poll", 5*time.Second, "interval of the VXLAN peer poll")
	fl.DurationVar(&reclaim, "reclaim-interval", time.Minute, "interval of the reclaim of attachments whose pod or network namespace is gone without a DEL")
	fl.StringVar(&f.LogLevel, "log-level", "", "debug, info, warn or error (default info)")
	fl.StringVar(&f.CNI.BinDir, "cni-bin-dir", "", "install knitter-plugin into this CNI bin directory at start (e.g. /host/opt/cni/bin)")
	fl.StringVar(&f.CNI.ConfDir, "cni-conf-dir", "", "write Knitter's network configuration into this directory at start (e.g. /host/etc/cni/net.d)")
	fl.StringVar(&f.CNI.Plugin, "cni-plugin", "", "the knitter-plugin binary to install (default: next to knitter-agent)")
	fl.StringVar(&f.CNI.ConfName, "cni-conf-name", "", "file name of the network configuration (default "+defaultConfName+")")
	fl.StringVar(&f.CNI.PluginSocket, "cni-plugin-socket", "", "the agent's socket as the plugin sees it on the node (default --socket)")
	fl.StringVar(&f.CNI.UninstallWith, "cni-uninstall-with", "", "NAMESPACE/NAME of the agent's DaemonSet: on exit, remove the plugin and configuration if it is gone")
	return cmd
}
