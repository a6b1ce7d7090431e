package monitor_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

// allocateBehindTheMonitorsBack allocates as the agent does when the monitor has not seen a pod.
func (e *env) allocateBehindTheMonitorsBack(uid, name string) {
	e.t.Helper()
	e.mgr.Do(func(s *alloc.State) {
		if _, _, err := s.AllocatePod(alloc.System, alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "acme", Name: name}, Tenant: "acme",
			Requests: []model.AttachRequest{{Network: "net", Interface: "eth0", DefaultRoute: true}}}); err != nil {
			e.t.Fatal(err)
		}
	})
}

func TestReconcileReleasesOrphansAfterTheGraceOnly(t *testing.T) {
	e := newEnv(t, monitor.Config{OrphanGrace: 5 * time.Second})
	live := e.pod("live", "u-live", nil)
	e.add(live)
	e.sync(live)
	// Ports of a pod deleted while the monitor was down, and of one the informer has not heard of yet.
	e.allocateBehindTheMonitorsBack("u-orphan", "gone")
	if err := e.m.Reconcile(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.managerPod("u-orphan"); !ok {
		t.Fatal("an orphan was released before the grace: it could be a pod the informer has not seen yet")
	}
	e.clock.Step(5 * time.Second)
	if err := e.m.Reconcile(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.managerPod("u-orphan"); ok {
		t.Fatal("the orphan survived a pass after the grace")
	}
	if _, ok := e.managerPod("u-live"); !ok {
		t.Fatal("the reconcile released a live pod")
	}
}

func TestReconcileQueuesUnallocatedPods(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "later"})
	e.add(p)
	e.sync(p) // network "later" does not exist yet
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("allocated on a missing network")
	}
	e.mgr.Do(func(s *alloc.State) {
		if _, _, err := s.Apply(alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "later", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.3.0.0/24"), Gateway: netip.MustParseAddr("10.3.0.1")}}}); err != nil {
			t.Fatal(err)
		}
	})
	if err := e.m.Reconcile(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if _, ok := e.managerPod("u1"); !ok {
		t.Fatal("the reconcile did not retry a pod without ports")
	}
}

// TestRestartCostsNoAllocationPerPod: after a restart the first reconcile learns what the manager
// holds, so the informer's initial list of every pod makes no AllocatePod call.
func TestRestartCostsNoAllocationPerPod(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	var pods []*corev1.Pod
	for _, n := range []string{"a", "b", "c"} {
		p := e.pod(n, "u-"+n, nil)
		e.add(p)
		e.sync(p)
		pods = append(pods, p)
	}
	fresh, err := monitor.New(monitor.Config{}, monitor.Deps{Kube: e.client, Informers: e.factory, NADs: e.nads, Manager: e.mgr, Recorder: e.rec, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.PodQueue.ShutDown()
	if err := fresh.Reconcile(e.ctx, ""); err != nil {
		t.Fatal(err)
	}
	calls := e.mgr.Calls("AllocatePod")
	for _, p := range pods {
		if err := fresh.SyncPod(e.ctx, key(p)); err != nil {
			t.Fatal(err)
		}
	}
	if e.mgr.Calls("AllocatePod") != calls {
		t.Fatalf("the restarted monitor allocated %d known pods again", e.mgr.Calls("AllocatePod")-calls)
	}
}

func TestNodeDeletedReleasesOnceItsPodsAreGone(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, monitor.Config{})
	e.m, _ = monitor.New(monitor.Config{OrphanGrace: 5 * time.Second, NodeGrace: time.Minute},
		monitor.Deps{Kube: e.client, Informers: e.factory, NADs: e.nads, Manager: e.mgr, Recorder: e.rec, Clock: e.clock, Metrics: monitor.NewMetrics(reg)})
	n := node("node-1", true, t0)
	running := e.pod("running", "u-run", nil)
	gone := e.pod("gone", "u-gone", nil)
	e.add(n, running, gone)
	e.sync(running)
	e.sync(gone)
	e.bind("u-run", "node-1")
	e.bind("u-gone", "node-1")
	// The node dies; the pod GC deletes one pod while the monitor is not watching.
	e.remove(n)
	e.remove(gone)
	e.m.NodeChanged(n)
	for range 2 {
		if after, err := e.m.SyncNode(e.ctx, "node-1"); err != nil || after != 0 {
			t.Fatalf("SyncNode = %v, %v", after, err)
		}
		e.clock.Step(5 * time.Second)
	}
	if _, ok := e.managerPod("u-gone"); ok {
		t.Fatal("the deleted node's gone pod keeps its ports")
	}
	if _, ok := e.managerPod("u-run"); !ok {
		t.Fatal("a pod that still exists lost its ports with its node")
	}
	if v := testutil.ToFloat64(counter(t, reg, "knitter_monitor_releases_total", "node-gone")); v != 1 {
		t.Fatalf("releases{node-gone} = %v, want 1", v)
	}
}

func TestNodeNotReadyWaitsForTheGrace(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	e.m, _ = monitor.New(monitor.Config{OrphanGrace: time.Second, NodeGrace: time.Minute},
		monitor.Deps{Kube: e.client, Informers: e.factory, Manager: e.mgr, Recorder: e.rec, Clock: e.clock})
	p := e.pod("stuck", "u1", nil)
	p.Spec.NodeName = "node-1"
	e.add(node("node-1", false, t0), p)
	e.sync(p)
	e.bind("u1", "node-1")
	// Deleted, but its kubelet is not there to confirm: the pod stays Terminating.
	p = p.DeepCopy()
	now := metav1.NewTime(t0)
	p.DeletionTimestamp = &now
	e.update(p)
	after, err := e.m.SyncNode(e.ctx, "node-1")
	if err != nil || after != time.Minute {
		t.Fatalf("SyncNode = %v, %v; want to look again in 1m", after, err)
	}
	if _, ok := e.managerPod("u1"); !ok {
		t.Fatal("released before the node grace")
	}
	e.clock.Step(time.Minute)
	if after, err := e.m.SyncNode(e.ctx, "node-1"); err != nil || after != 0 {
		t.Fatalf("SyncNode = %v, %v", after, err)
	}
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("a pod stuck deleting on a NotReady node keeps its ports past the grace")
	}
}

// counter finds one labelled child of a counter vector in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, reason string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("no %s{reason=%q}", name, reason)
	return nil
}

// TestReconcileFoldsPages lists the manager one port per page: a pod's ports split across pages
// are still one allocation, released once, with every port counted.
func TestReconcileFoldsPages(t *testing.T) {
	e := newEnv(t, monitor.Config{OrphanGrace: time.Second})
	reg := prometheus.NewRegistry()
	var err error
	e.m, err = monitor.New(monitor.Config{OrphanGrace: time.Second},
		monitor.Deps{Kube: e.client, Informers: e.factory, NADs: e.nads, Manager: e.mgr, Recorder: e.rec, Clock: e.clock, Metrics: monitor.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	e.mgr.PageSize = 1
	two := map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"} // eth0 on net, net1 on vl
	live, gone := e.pod("live", "u-live", two), e.pod("gone", "u-gone", two)
	e.add(live, gone)
	e.sync(live)
	e.sync(gone)
	e.remove(gone) // the delete event is missed: only the reconcile can find it
	for range 2 {
		if err := e.m.Reconcile(e.ctx, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Step(time.Second)
	}
	if _, ok := e.managerPod("u-gone"); ok {
		t.Fatal("the orphan survived")
	}
	if mp, ok := e.managerPod("u-live"); !ok || len(mp.Ports) != 2 {
		t.Fatalf("the live pod lost ports: %+v %v", mp, ok)
	}
	if v := testutil.ToFloat64(counter(t, reg, "knitter_monitor_releases_total", "pod-gone")); v != 1 {
		t.Fatalf("releases{pod-gone} = %v, want 1 (one pod, however many pages)", v)
	}
	if v := testutil.ToFloat64(counter(t, reg, "knitter_monitor_reconcile_released_ports_total", "pod-gone")); v != 2 {
		t.Fatalf("released ports{pod-gone} = %v, want 2", v)
	}
	if n := e.mgr.Calls("Ports"); n != 2 {
		t.Fatalf("Ports called %d times for 2 passes", n)
	}
}

// TestAllocationLagMetrics: the creation lag counts from the pod's creationTimestamp (whole
// seconds), the observed lag from the moment the informer delivered the pod, at the clock's
// resolution; a pod the monitor already knows adds to neither.
func TestAllocationLagMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, monitor.Config{})
	var err error
	e.m, err = monitor.New(monitor.Config{},
		monitor.Deps{Kube: e.client, Informers: e.factory, NADs: e.nads, Manager: e.mgr, Recorder: e.rec, Clock: e.clock, Metrics: monitor.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	p := e.pod("web", "u1", nil)
	p.CreationTimestamp = metav1.NewTime(t0.Add(-700 * time.Millisecond).Truncate(time.Second)) // as the API server writes it
	e.clock.Step(200 * time.Millisecond)
	e.add(p)
	e.m.PodAdded(p)
	e.clock.Step(30 * time.Millisecond) // the queue wait
	e.drain()
	sample := func(name string) (count uint64, sum float64) {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				h := mf.GetMetric()[0].GetHistogram()
				return h.GetSampleCount(), h.GetSampleSum()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0, 0
	}
	if n, s := sample("knitter_monitor_allocation_lag_observed_seconds"); n != 1 || s < 0.0299 || s > 0.0301 {
		t.Fatalf("observed lag: %d samples, sum %v; want 1 of 30ms", n, s)
	}
	if n, s := sample("knitter_monitor_allocation_lag_seconds"); n != 1 || s < 1.229 || s > 1.231 {
		t.Fatalf("creation lag: %d samples, sum %v; want 1 of 1.23s (the truncated timestamp)", n, s)
	}
	// A resync delivers it again: known, so nothing more is observed.
	e.m.PodAdded(p)
	e.drain()
	if n, _ := sample("knitter_monitor_allocation_lag_observed_seconds"); n != 1 {
		t.Fatalf("observed lag has %d samples after a repeat delivery", n)
	}
}
