package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/adapters/kube"
	"github.com/knitter-cni/knitter/adapters/netlinkdp"
	"github.com/knitter-cni/knitter/adapters/podfile"
	"github.com/knitter-cni/knitter/adapters/sriov"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/plan"
)

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	if level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// run wires the real adapters into the agent and serves until ctx ends.
func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	unlock, err := lockStateDir(cfg.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	mgr, err := managerClient(cfg.Manager)
	if err != nil {
		return err
	}
	pods, err := podSource(cfg)
	if err != nil {
		return err
	}
	dp, err := dataplane(cfg)
	if err != nil {
		return err
	}
	store, err := checkpoint.Open(cfg.StateDir)
	if err != nil {
		return err
	}
	node := plan.Node{Name: cfg.NodeName, VTEPDevice: cfg.VTEPDevice, Uplinks: cfg.Uplinks, MTU: cfg.MTU}
	if cfg.VTEP != "" {
		node.VTEP = netip.MustParseAddr(cfg.VTEP) // validated
	}
	watch, err := managerClientTimeout(cfg.Manager, httpapi.MaxNodeWatchWait+10*time.Second)
	if err != nil {
		return err
	}
	datapaths := dp.Datapaths()
	for _, d := range datapaths {
		attrs := []any{"type", d.Type, "datapath", d.Datapath, "why", d.Why}
		if d.Unavailable != "" {
			log.Warn("datapath unavailable", append(attrs, "unavailable", d.Unavailable)...)
			continue
		}
		log.Info("datapath", attrs...)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := agent.New(dp, pods, httpapi.AgentClient{C: mgr, Watch: watch}, store,
		agent.Options{Node: node, DNS: cfg.DNS, Logger: log, Datapaths: datapaths, Metrics: agent.NewMetrics(reg),
			// DEL answers once the pod's links are down; RunTeardowns below removes them.
			DeferTeardown: true})
	if err != nil {
		return err
	}
	reclaim(ctx, a, log) // at start: pods may have gone while the agent was down
	ln, err := agent.Listen(cfg.Socket)
	if err != nil {
		return err
	}
	if cfg.CNI.BinDir != "" {
		if err := installCNI(cfg.CNI); err != nil {
			ln.Close()
			return err
		}
		log.Info("installed knitter-plugin and its configuration", "bin_dir", cfg.CNI.BinDir, "conf", cfg.CNI.ConfDir+"/"+cfg.CNI.ConfName)
	}
	log.Info("knitter-agent serving", "socket", cfg.Socket, "node", cfg.NodeName, "vtep", cfg.VTEP,
		"manager", cfg.Manager.URL, "state_dir", cfg.StateDir, "checkpoints", len(a.Checkpoints()))
	loops := make(chan struct{}, 3)
	go func() {
		defer func() { loops <- struct{}{} }()
		a.RunTeardowns(ctx)
	}()
	go func() {
		defer func() { loops <- struct{}{} }()
		a.Run(ctx, agent.Intervals{Heartbeat: time.Duration(cfg.Heartbeat), Peers: time.Duration(cfg.PeerPoll)})
	}()
	go func() {
		defer func() { loops <- struct{}{} }()
		t := time.NewTicker(time.Duration(cfg.Reclaim))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				reclaim(ctx, a, log)
			}
		}
	}()
	srv := agent.NewServer(a, cfg.MaxConcurrent)
	srv.HandleMetrics(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	err = srv.Serve(ctx, ln)
	<-loops
	<-loops
	<-loops
	return errors.Join(err, maybeUninstall(cfg, log))
}

// maybeUninstall removes the installed plugin and configuration when the agent's DaemonSet is gone:
// the operator uninstalled Knitter. A restart keeps them, so the node's pods can still be deleted.
func maybeUninstall(cfg Config, log *slog.Logger) error {
	if cfg.CNI.BinDir == "" || cfg.CNI.UninstallWith == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gone, err := daemonSetGone(ctx, cfg, cfg.CNI.UninstallWith)
	if err != nil {
		log.Warn("cannot tell an uninstall from a restart; leaving the plugin installed", "err", err)
		return nil
	}
	if !gone {
		return nil
	}
	if err := uninstallCNI(cfg.CNI); err != nil {
		return fmt.Errorf("uninstalling the plugin: %w", err)
	}
	log.Info("DaemonSet gone: removed knitter-plugin and its configuration", "daemonset", cfg.CNI.UninstallWith)
	return nil
}

// reclaim runs one orphan-reclaim pass and logs its outcome (each attachment is logged by the agent).
func reclaim(ctx context.Context, a *agent.Agent, log *slog.Logger) {
	gone, err := a.Reclaim(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn("reclaim left some attachments; the next pass retries", "err", err, "removed", len(gone))
	}
}

func managerClient(m ManagerConfig) (*httpapi.Client, error) {
	return managerClientTimeout(m, 10*time.Second)
}

// managerClientTimeout is a client whose requests may take up to timeout (node watches wait).
func managerClientTimeout(m ManagerConfig, timeout time.Duration) (*httpapi.Client, error) {
	var token string
	if m.TokenFile != "" {
		b, err := os.ReadFile(m.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("manager.token_file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, Token: token, CAFile: m.CAFile, Timeout: timeout})
}

// podSource reads pods from the API server when one is configured, else from pod files.
func podSource(cfg Config) (agent.PodSource, error) {
	if cfg.Kubeconfig == "" && !cfg.InCluster {
		return podfile.Source{Dir: cfg.PodDir}, nil
	}
	rc, err := kube.RestConfig(cfg.Kubeconfig, 0)
	if err != nil {
		return nil, err
	}
	return kube.NewPodSource(rc)
}

func dataplane(cfg Config) (*netlinkdp.Dataplane, error) {
	opts := netlinkdp.Options{HostNetns: cfg.HostNetns}
	if cfg.SRIOV.SysfsRoot != "" {
		pool, err := sriov.NewPool(sriov.Options{Root: cfg.SRIOV.SysfsRoot, RecordFile: cfg.SRIOV.RecordFile})
		if err != nil {
			return nil, err
		}
		opts.VFs = pool
	}
	return netlinkdp.New(opts)
}
