package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/adapters/kube"
	"github.com/knitter-cni/knitter/monitor"
)

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(level)))
	if level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// run wires the real adapters into the monitor and serves until ctx ends or the lease is lost.
func run(ctx context.Context, cfg Config, log *slog.Logger) error {
	rc, err := kube.RestConfig(cfg.Kubeconfig, 0)
	if err != nil {
		return err
	}
	rc.UserAgent = "knitter-monitor"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	mgr, err := managerClient(cfg.Manager)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := monitor.NewMetrics(reg)

	factory := informers.NewSharedInformerFactory(client, time.Duration(cfg.Resync))
	var nads dynamicinformer.DynamicSharedInformerFactory
	if ok, err := nadInstalled(client); err != nil {
		return err
	} else if ok {
		nads = dynamicinformer.NewDynamicSharedInformerFactory(dyn, time.Duration(cfg.Resync))
	} else {
		log.Warn("the NetworkAttachmentDefinition CRD is not installed; NPWG names select Knitter networks of the pod's tenant (apply deploy/crds/ to use NADs)")
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "knitter-monitor"})

	m, err := monitor.New(monitor.Config{OrphanGrace: time.Duration(cfg.OrphanGrace), NodeGrace: time.Duration(cfg.NodeGrace), NetworkStatus: *cfg.NetworkStatus,
		AllocateAtAdd: cfg.AllocateAtAdd},
		monitor.Deps{Kube: client, Informers: factory, NADs: nads, Manager: ManagerClient{C: mgr}, Recorder: recorder,
			Clock: monitor.WallClock{}, Metrics: metrics, Log: log})
	if err != nil {
		return err
	}
	var leaderHealth *leaderelection.HealthzAdaptor
	if *cfg.LeaderElect {
		leaderHealth = leaderelection.NewLeaderHealthzAdaptor(5 * time.Second)
	}
	var ready atomic.Bool
	srv, err := serveHTTP(cfg.Listen, reg, &ready, leaderHealth, log)
	if err != nil {
		return err
	}
	defer srv.Close()

	factory.Start(ctx.Done())
	if nads != nil {
		nads.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), m.Synced()...) {
		return errors.New("the informers did not sync before shutdown")
	}
	ready.Store(true)
	log.Info("knitter-monitor caches synced", "manager", cfg.Manager.URL, "leader_elect", *cfg.LeaderElect, "identity", cfg.Identity)

	serve := func(ctx context.Context) {
		metrics.Leader.Set(1)
		defer metrics.Leader.Set(0)
		m.Run(ctx, cfg.Workers, time.Duration(cfg.ReconcilePeriod))
	}
	if !*cfg.LeaderElect {
		serve(ctx)
		return nil
	}
	lost := make(chan struct{})
	lease := time.Duration(cfg.LeaseDuration)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.LeaseNamespace, Name: cfg.LeaseName},
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
		},
		LeaseDuration:   lease,
		RenewDeadline:   lease * 2 / 3,
		RetryPeriod:     lease / 6,
		ReleaseOnCancel: true,
		Name:            "knitter-monitor",
		WatchDog:        leaderHealth,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				log.Info("leading", "lease", cfg.LeaseNamespace+"/"+cfg.LeaseName, "identity", cfg.Identity)
				serve(ctx)
			},
			OnStoppedLeading: func() { close(lost) },
			OnNewLeader: func(id string) {
				if id != cfg.Identity {
					log.Info("standing by", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(ctx)
	<-lost
	if ctx.Err() != nil {
		return nil
	}
	// A monitor that lost its lease may have work in flight; exiting lets the next leader start clean.
	return errors.New("lost the lease; exiting so that a standby leads")
}

// nadInstalled asks discovery whether the API server serves NetworkAttachmentDefinitions.
func nadInstalled(client kubernetes.Interface) (bool, error) {
	list, err := client.Discovery().ServerResourcesForGroupVersion(monitor.NADResource.GroupVersion().String())
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("asking the API server for NetworkAttachmentDefinitions: %w", err)
	}
	for _, r := range list.APIResources {
		if r.Name == monitor.NADResource.Resource {
			return true, nil
		}
	}
	return false, nil
}

func managerClient(m ManagerConfig) (*httpapi.Client, error) {
	b, err := os.ReadFile(m.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("manager.token_file: %w", err)
	}
	return httpapi.NewClient(httpapi.ClientConfig{URL: m.URL, Token: strings.TrimSpace(string(b)), CAFile: m.CAFile, Timeout: 30 * time.Second})
}

// serveHTTP serves /metrics, /healthz (the process runs and, when electing, its lease is renewed)
// and /readyz (the informers have synced).
func serveHTTP(addr string, reg *prometheus.Registry, ready *atomic.Bool, leader *leaderelection.HealthzAdaptor, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if leader != nil {
			if err := leader.Check(r); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "informers not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen (--listen): %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving /metrics, /healthz, /readyz", "listen", ln.Addr().String())
	return srv, nil
}
