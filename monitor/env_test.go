package monitor_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
	"github.com/knitter-cni/knitter/monitor/monitortest"
)

// clock is a fake Clock the test steps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one test's world: a fake clientset and informers (filled directly, sample-controller
// style), the fake manager with tenants acme (default network "net", plus "vl") and other (a
// private network "secret"), a fake event recorder and a monitor.
type env struct {
	t       *testing.T
	ctx     context.Context
	client  *fake.Clientset
	factory informers.SharedInformerFactory
	nads    dynamicinformer.DynamicSharedInformerFactory
	mgr     *monitortest.Manager
	rec     *record.FakeRecorder
	clock   *clock
	m       *monitor.Monitor
}

const cooldown = 30 * time.Second

func newEnv(t *testing.T, cfg monitor.Config) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), client: fake.NewClientset(), rec: record.NewFakeRecorder(100), clock: &clock{t: t0}}
	e.factory = informers.NewSharedInformerFactory(e.client, 0)
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{monitor.NADResource: "NetworkAttachmentDefinitionList"})
	e.nads = dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	var err error
	e.mgr, err = monitortest.NewManager(alloc.Config{Cooldown: cooldown, StickyTTL: 10 * time.Minute, VNIStart: 1000}, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	subnet := func(cidr string) *model.Subnet {
		p := netip.MustParsePrefix(cidr)
		return &model.Subnet{CIDR: p, Gateway: p.Addr().Next()}
	}
	e.mgr.Do(func(s *alloc.State) {
		for _, c := range []alloc.Command{
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme", PhysicalNetworks: []string{"physnet1"}}},
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "other"}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "net", Type: model.Overlay, IPv4: subnet("10.1.0.0/24")}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "vl", Type: model.VLAN, VLAN: 100, PhysicalNetwork: "physnet1", IPv4: subnet("10.2.0.0/24")}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: "other", Name: "secret", Type: model.Overlay, IPv4: subnet("10.9.0.0/24")}},
			alloc.UpdateTenantCmd{Tenant: model.Tenant{Name: "acme", DefaultNetwork: "net", PhysicalNetworks: []string{"physnet1"}}},
		} {
			if _, _, err := s.Apply(c); err != nil {
				t.Fatalf("%T: %v", c, err)
			}
		}
	})
	e.m, err = monitor.New(cfg, monitor.Deps{Kube: e.client, Informers: e.factory, NADs: e.nads, Manager: e.mgr, Recorder: e.rec, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.m.PodQueue.ShutDown(); e.m.NodeQueue.ShutDown() })
	return e
}

// pod returns a pod of namespace acme created at the clock's time.
func (e *env) pod(name, uid string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, UID: k8stypes.UID(uid),
		Annotations: annotations, CreationTimestamp: metav1.NewTime(e.clock.Now())}}
}

// add puts the object in the API server and the informer's cache, as a watch event would.
func (e *env) add(objs ...runtime.Object) {
	e.t.Helper()
	for _, o := range objs {
		if err := e.client.Tracker().Add(o); err != nil {
			e.t.Fatal(err)
		}
		e.indexer(o).Add(o)
	}
}

// update replaces the object in both.
func (e *env) update(o runtime.Object) {
	e.t.Helper()
	gvr := map[bool]schema.GroupVersionResource{true: {Version: "v1", Resource: "pods"}, false: {Version: "v1", Resource: "nodes"}}
	_, isPod := o.(*corev1.Pod)
	ns := o.(metav1.Object).GetNamespace()
	if err := e.client.Tracker().Update(gvr[isPod], o, ns); err != nil {
		e.t.Fatal(err)
	}
	e.indexer(o).Update(o)
}

// remove deletes the object from both.
func (e *env) remove(o runtime.Object) {
	e.t.Helper()
	mo := o.(metav1.Object)
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	if _, ok := o.(*corev1.Pod); ok {
		gvr.Resource = "pods"
	}
	if err := e.client.Tracker().Delete(gvr, mo.GetNamespace(), mo.GetName()); err != nil {
		e.t.Fatal(err)
	}
	e.indexer(o).Delete(o)
}

func (e *env) indexer(o runtime.Object) interface {
	Add(any) error
	Update(any) error
	Delete(any) error
} {
	switch o.(type) {
	case *corev1.Pod:
		return e.factory.Core().V1().Pods().Informer().GetIndexer()
	case *corev1.Node:
		return e.factory.Core().V1().Nodes().Informer().GetIndexer()
	case *corev1.Namespace:
		return e.factory.Core().V1().Namespaces().Informer().GetIndexer()
	case *unstructured.Unstructured:
		return e.nads.ForResource(monitor.NADResource).Informer().GetIndexer()
	}
	e.t.Fatalf("no informer for %T", o)
	return nil
}

func key(p *corev1.Pod) monitor.PodKey {
	return monitor.PodKey{Namespace: p.Namespace, Name: p.Name, UID: string(p.UID)}
}

// sync runs SyncPod on the pod's key and fails the test on an error.
func (e *env) sync(p *corev1.Pod) {
	e.t.Helper()
	if err := e.m.SyncPod(e.ctx, key(p)); err != nil {
		e.t.Fatalf("SyncPod(%s %s): %v", p.Name, p.UID, err)
	}
}

// drain runs SyncPod on every key the handlers queued, as a worker would.
func (e *env) drain() {
	e.t.Helper()
	for e.m.PodQueue.Len() > 0 {
		if !e.m.ProcessNextPod(e.ctx) {
			return
		}
	}
}

// managerPod returns the manager's allocation of uid.
func (e *env) managerPod(uid string) (p model.Pod, ok bool) {
	e.mgr.Do(func(s *alloc.State) { p, ok = s.Pod(uid) })
	return p, ok
}

// cooling returns how many addresses of an acme network are in the cooldown.
func (e *env) cooling(network string) (n int) {
	e.mgr.Do(func(s *alloc.State) {
		v4, _, _ := s.PoolStats("acme/" + network)
		n = int(v4.Cooling)
	})
	return n
}

// events returns the events recorded so far.
func (e *env) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.rec.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func nad(ns, name, config string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("k8s.cni.cncf.io/v1")
	u.SetKind("NetworkAttachmentDefinition")
	u.SetNamespace(ns)
	u.SetName(name)
	_ = unstructured.SetNestedField(u.Object, config, "spec", "config")
	return u
}

func node(name string, ready bool, since time.Time) *corev1.Node {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, LastTransitionTime: metav1.NewTime(since)}}}}
}

func ifaces(p model.Pod) string {
	var s []string
	for _, port := range p.Ports {
		s = append(s, port.Interface+"@"+port.Network)
	}
	return strings.Join(s, ",")
}

// bind registers node and binds the pod's ports to it, as the agent does during ADD.
func (e *env) bind(uid, node string) {
	e.t.Helper()
	e.mgr.Do(func(s *alloc.State) {
		if _, _, err := s.RegisterNode(alloc.System, model.Node{Name: node, VTEP: netip.MustParseAddr("192.168.0.1")}); err != nil {
			e.t.Fatal(err)
		}
		if _, _, err := s.BindPod(alloc.System, uid, node); err != nil {
			e.t.Fatal(err)
		}
	})
}
