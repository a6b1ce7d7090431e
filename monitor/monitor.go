package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/knitter-cni/knitter/core/podnet"
)

// NADResource is the NetworkAttachmentDefinition resource of the NPWG multi-net-spec.
var NADResource = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1", Resource: "network-attachment-definitions"}

// TenantAnnotation on a namespace names the Knitter tenant of its pods; without it the tenant is
// the namespace's name.
const TenantAnnotation = podnet.TenantAnnotation

// Config tunes the monitor. The zero value of a field means its default.
type Config struct {
	// OrphanGrace is how long the reconcile waits before it releases a pod the informer does not
	// have (see reconcile.Config). Default 5s.
	OrphanGrace time.Duration
	// NodeGrace is how long a node may be NotReady before the ports of its deleting pods are
	// released. Default 5m.
	NodeGrace time.Duration
	// TenantCacheTTL is how long a tenant's default network is remembered. Default 10s.
	TenantCacheTTL time.Duration
	// NetworkStatus makes the monitor write the network-status annotation of bound pods. Turn it off
	// when Multus is the cluster's CNI: Multus writes the annotation itself.
	NetworkStatus bool
	// AllocateAtAdd leaves every allocation to the agent's CNI ADD: the monitor allocates no pod
	// ahead of its sandbox (it still releases, reconciles and writes the network status). The
	// default, pre-allocation, takes the manager's write out of the ADD's path.
	AllocateAtAdd bool
}

func (c Config) withDefaults() Config {
	if c.OrphanGrace == 0 {
		c.OrphanGrace = 5 * time.Second
	}
	if c.NodeGrace == 0 {
		c.NodeGrace = 5 * time.Minute
	}
	if c.TenantCacheTTL == 0 {
		c.TenantCacheTTL = 10 * time.Second
	}
	return c
}

// Deps are the monitor's ports and informers.
type Deps struct {
	// Kube writes the network-status annotation.
	Kube kubernetes.Interface
	// Informers supplies the pod, node and namespace informers.
	Informers informers.SharedInformerFactory
	// NADs supplies the NetworkAttachmentDefinition informer; nil when the CRD is not installed
	// (every NPWG name is then a Knitter network of the pod's tenant).
	NADs     dynamicinformer.DynamicSharedInformerFactory
	Manager  Manager
	Recorder record.EventRecorder
	Clock    Clock
	Metrics  *Metrics // nil: a private set
	Log      *slog.Logger
}

// PodKey is a pod's work-queue key. It carries the UID so that a pod deleted and created again
// under the same name is two keys: the old UID is released, the new one allocated.
type PodKey struct {
	Namespace, Name, UID string
}

// String formats k as "namespace/name".
func (k PodKey) String() string { return k.Namespace + "/" + k.Name }

// Monitor is knitter-monitor's logic. Build it with New, drive it with SyncPod, SyncNode and
// Reconcile, or run it with Run.
type Monitor struct {
	cfg        Config
	kube       kubernetes.Interface
	pods       corelisters.PodLister
	nodes      corelisters.NodeLister
	namespaces corelisters.NamespaceLister
	nads       cache.GenericLister // nil without the CRD
	synced     []cache.InformerSynced
	mgr        Manager
	rec        record.EventRecorder
	clock      Clock
	metrics    *Metrics
	log        *slog.Logger

	// PodQueue and NodeQueue are the work queues the informer handlers fill.
	PodQueue  workqueue.TypedRateLimitingInterface[PodKey]
	NodeQueue workqueue.TypedRateLimitingInterface[string]

	mu       sync.Mutex
	known    map[string]bool      // UIDs the manager holds ports for, as far as the monitor knows
	warned   map[string]string    // UID -> the last warning sent, so retries do not repeat it
	suspects map[string]time.Time // the reconcile's orphan suspects
	tenants  map[string]tenantEntry
	seen     map[string]time.Time // UID -> when PodAdded delivered it, until it is allocated
}

type tenantEntry struct {
	defaultNetwork string
	until          time.Time
}

// New builds the monitor and registers its handlers on the informers. Start the informer
// factories after New (their informers are created here).
func New(cfg Config, d Deps) (*Monitor, error) {
	if d.Kube == nil || d.Informers == nil || d.Manager == nil || d.Recorder == nil || d.Clock == nil {
		return nil, errors.New("monitor.New: Kube, Informers, Manager, Recorder and Clock are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	limiter := func() workqueue.TypedRateLimiter[PodKey] {
		return workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[PodKey](100*time.Millisecond, 60*time.Second),
			&workqueue.TypedBucketRateLimiter[PodKey]{Limiter: newLimiter()})
	}
	m := &Monitor{
		cfg: cfg.withDefaults(), kube: d.Kube, mgr: d.Manager, rec: d.Recorder, clock: d.Clock, metrics: d.Metrics, log: d.Log,
		PodQueue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter(), workqueue.TypedRateLimitingQueueConfig[PodKey]{Name: "pods"}),
		NodeQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "nodes"}),
		known: map[string]bool{}, warned: map[string]string{}, suspects: map[string]time.Time{}, tenants: map[string]tenantEntry{}, seen: map[string]time.Time{},
	}
	pods := d.Informers.Core().V1().Pods()
	nodes := d.Informers.Core().V1().Nodes()
	namespaces := d.Informers.Core().V1().Namespaces()
	m.pods, m.nodes, m.namespaces = pods.Lister(), nodes.Lister(), namespaces.Lister()
	m.synced = []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced, namespaces.Informer().HasSynced}
	if d.NADs != nil {
		nad := d.NADs.ForResource(NADResource)
		m.nads = nad.Lister()
		m.synced = append(m.synced, nad.Informer().HasSynced)
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    m.PodAdded,
		UpdateFunc: m.PodUpdated,
		DeleteFunc: m.PodDeleted,
	}); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { m.NodeChanged(obj) },
		DeleteFunc: m.NodeChanged,
	}); err != nil {
		return nil, fmt.Errorf("watching nodes: %w", err)
	}
	m.metrics.watchQueues(m.PodQueue, m.NodeQueue)
	return m, nil
}

// HasSynced reports whether every informer has its first full list.
func (m *Monitor) HasSynced() bool {
	for _, s := range m.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Synced are the informers' HasSynced functions, for cache.WaitForCacheSync.
func (m *Monitor) Synced() []cache.InformerSynced { return m.synced }

func podKey(p *corev1.Pod) PodKey {
	return PodKey{Namespace: p.Namespace, Name: p.Name, UID: string(p.UID)}
}

// The informer handlers only enqueue; the simulator calls them directly.

// PodAdded queues a new pod (hostNetwork pods have no ports) and notes when it was delivered, for
// the observed allocation lag.
func (m *Monitor) PodAdded(obj any) {
	if p, ok := obj.(*corev1.Pod); ok && !p.Spec.HostNetwork {
		now := m.clock.Now()
		m.mu.Lock()
		if !m.known[string(p.UID)] {
			m.seen[string(p.UID)] = now
		}
		m.mu.Unlock()
		m.PodQueue.Add(podKey(p))
	}
}

// PodUpdated queues a changed pod, and the pod it replaced when the UID changed.
func (m *Monitor) PodUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || cur.Spec.HostNetwork {
		return
	}
	if old.UID != cur.UID {
		// A relist that missed the delete of the old pod and the create of its namesake.
		m.PodQueue.Add(podKey(old))
	}
	m.PodQueue.Add(podKey(cur))
}

// PodDeleted queues a deleted pod, also when the informer only knows it as a tombstone.
func (m *Monitor) PodDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj // the watch missed the delete; the relist found the pod gone
	}
	if p, ok := obj.(*corev1.Pod); ok && !p.Spec.HostNetwork {
		m.PodQueue.Add(podKey(p))
	}
}

// NodeChanged queues a node that changed or was deleted.
func (m *Monitor) NodeChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if n, ok := obj.(*corev1.Node); ok {
		m.NodeQueue.Add(n.Name)
	}
}
