package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/fakekube"
	"github.com/knitter-cni/knitter/monitor"
)

// monMgr is the monitor's Manager port over the running manager shell, in-process. released is
// told of every release the manager acknowledged.
type monMgr struct {
	sys      *system
	released func(uid string)
}

func (c monMgr) view(fn func(s *alloc.State)) error {
	if c.sys.mgr == nil {
		return fmt.Errorf("%w: no knitter-manager runs", monitor.ErrUnavailable)
	}
	return c.sys.mgr.View(fn)
}

func (c monMgr) AllocatePod(ctx context.Context, r alloc.PodRequest) (pod model.Pod, created bool, err error) {
	err = c.sys.monCall("allocate", true, func() (e error) { pod, created, e = c.allocatePod(ctx, r); return })
	return
}

func (c monMgr) allocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, bool, error) {
	var existed bool
	if err := c.view(func(s *alloc.State) { _, existed = s.Pod(r.Pod.UID) }); err != nil {
		return model.Pod{}, false, err
	}
	res, err := c.sys.mgr.Do(ctx, alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: r})
	if err != nil {
		return model.Pod{}, false, err
	}
	return res.(model.Pod), !existed, nil
}

func (c monMgr) Pod(_ context.Context, uid string) (pod model.Pod, err error) {
	err = c.sys.monCall("pod", true, func() (e error) { pod, e = c.pod(uid); return })
	return
}

func (c monMgr) pod(uid string) (pod model.Pod, err error) {
	var ok bool
	if err := c.view(func(s *alloc.State) { pod, ok = s.Pod(uid) }); err != nil {
		return model.Pod{}, err
	}
	if !ok {
		return model.Pod{}, model.Errorf(model.CodeNotFound, "uid", "pod %s has no ports; allocate them first", uid)
	}
	return pod, nil
}

func (c monMgr) ReleasePod(ctx context.Context, uid string) error {
	return c.sys.monCall("release", false, func() error { return c.releasePod(ctx, uid) })
}

func (c monMgr) releasePod(ctx context.Context, uid string) error {
	if c.sys.mgr == nil {
		return fmt.Errorf("%w: no knitter-manager runs", monitor.ErrUnavailable)
	}
	_, err := c.sys.mgr.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: uid})
	if err == nil && c.released != nil {
		c.released(uid)
	}
	return err
}

func (c monMgr) Tenant(_ context.Context, name string) (t model.Tenant, err error) {
	err = c.sys.monCall("tenant", true, func() (e error) { t, e = c.tenant(name); return })
	return
}

func (c monMgr) tenant(name string) (t model.Tenant, err error) {
	var ok bool
	if err := c.view(func(s *alloc.State) { t, ok = s.Tenant(name) }); err != nil {
		return model.Tenant{}, err
	}
	if !ok {
		return model.Tenant{}, model.Errorf(model.CodeNotFound, "tenant", "tenant %s does not exist; create it first", name)
	}
	return t, nil
}

func (c monMgr) Ports(ctx context.Context, node string, page func([]model.Port)) error {
	return c.sys.monCall("ports", true, func() error { return c.ports(node, page) })
}

func (c monMgr) ports(node string, page func([]model.Port)) error {
	var ports []model.Port
	if err := c.view(func(s *alloc.State) { ports = s.Ports(alloc.System, alloc.PortFilter{Node: node}) }); err != nil {
		return err
	}
	page(ports)
	return nil
}

type worldClock struct{ w *World }

func (c worldClock) Now() time.Time { return c.w.Clock() }

// kube is the Kubernetes side of the world: the fake API server and the real monitor shell, whose
// queues the simulator drains on its own goroutine.
type kube struct {
	w       *World
	api     *fakekube.API
	mon     *monitor.Monitor
	sys     *system
	rng     *rand.Rand
	gen     int
	retries []monitor.PodKey // pod keys whose sync failed, synced again on the next step
	nodeAt  map[string]int64 // node -> when SyncNode asked to look again
	stats   *Stats
	// released is told of every release the manager acknowledged to the monitor.
	released func(uid string)
	knobs    Knobs
	probe    *probe // nil: nothing measured
	// reconciling is set while the monitor's reconcile runs.
	reconciling bool
}

func newKube(w *World, sys *system, nodeNames []string, st *Stats, knobs Knobs, pr *probe) (*kube, error) {
	k := &kube{w: w, api: fakekube.New(), sys: sys, rng: w.Rand("kube"), nodeAt: map[string]int64{}, stats: st, knobs: knobs, probe: pr}
	for _, t := range tenants {
		if err := k.api.CreateNamespace(t.name); err != nil {
			return nil, err
		}
	}
	for _, n := range nodeNames {
		if err := k.putNode(n); err != nil {
			return nil, err
		}
	}
	if err := k.start(); err != nil {
		return nil, err
	}
	k.api.Pump()
	return k, nil
}

// putNode creates a Ready node object.
func (k *kube) putNode(name string) error {
	return k.api.PutNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}})
}

// start builds a monitor process; its caches are what the watch delivered (a restart relists).
func (k *kube) start() error {
	k.gen++
	m, err := monitor.New(monitor.Config{NetworkStatus: true, AllocateAtAdd: k.knobs.AllocateAtAdd}, monitor.Deps{Kube: k.api.Client, Informers: k.api.Informers,
		Manager: monMgr{k.sys, func(uid string) {
			if k.probe != nil {
				k.probe.monitorRelease(uid, k.reconciling)
			}
			k.released(uid)
		}}, Recorder: &record.FakeRecorder{}, Clock: worldClock{k.w}})
	if err != nil {
		return fmt.Errorf("starting monitor %d: %w", k.gen, err)
	}
	if k.mon != nil {
		k.mon.PodQueue.ShutDown()
		k.mon.NodeQueue.ShutDown()
	}
	k.mon = m
	k.retries = nil
	k.api.SetHandler(m)
	return nil
}

// crash is a monitor process crash and start: its memory is gone and its caches are relisted.
func (k *kube) crash() error {
	if err := k.start(); err != nil {
		return err
	}
	return k.api.Relist()
}

// step is one turn of the monitor's loops: deliver the watch's events, then run every queued sync.
func (k *kube) step(ctx context.Context) {
	k.api.Pump()
	for _, key := range k.retries {
		k.mon.PodQueue.Add(key)
	}
	k.retries = nil
	for k.mon.PodQueue.Len() > 0 {
		key, _ := k.mon.PodQueue.Get()
		err := k.mon.SyncPod(ctx, key)
		k.mon.PodQueue.Forget(key)
		k.mon.PodQueue.Done(key)
		if err != nil {
			k.retries = append(k.retries, key)
			k.w.Record("monitor sync %s %s: %v", key, key.UID, err)
			continue
		}
		k.w.Record("monitor sync %s %s ok", key, key.UID)
	}
	for k.mon.NodeQueue.Len() > 0 {
		name, _ := k.mon.NodeQueue.Get()
		after, err := k.mon.SyncNode(ctx, name)
		k.mon.NodeQueue.Forget(name)
		k.mon.NodeQueue.Done(name)
		k.w.Record("monitor node %s after %s: %v", name, after, err)
		if err != nil || after > 0 {
			k.w.After(max(after.Milliseconds(), 200), "node "+name, func() { k.mon.NodeQueue.Add(name) })
		}
	}
}

// reconcile is the monitor's periodic full pass.
func (k *kube) reconcile(ctx context.Context) {
	k.api.Pump()
	k.reconciling = true
	err := k.mon.Reconcile(ctx, "")
	k.reconciling = false
	k.w.Record("monitor reconcile: %v", err)
}

// createPod is the controller's create of p's object, scheduled on its node. A namesake whose
// object is not gone yet makes it fail (a StatefulSet waits for that); the caller retries.
func (k *kube) createPod(p *simPod, node string) error {
	err := k.api.CreatePod(podObject(p, node, metav1.NewTime(k.w.Clock())))
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("pod %s/%s still exists; waiting for it to go", p.tenant, p.name)
	}
	return err
}

// sandboxReady is the kubelet's status write after a successful ADD.
func (k *kube) sandboxReady(p *simPod) {
	cur, err := k.api.Pod(p.tenant, p.name)
	if err != nil || string(cur.UID) != p.uid {
		return
	}
	cur = cur.DeepCopy()
	cur.Status.Conditions = append(cur.Status.Conditions, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue})
	_ = k.api.UpdatePod(cur)
}

// deletePod removes p's object, as the kubelet does once the sandbox is torn down.
func (k *kube) deletePod(p *simPod) error {
	cur, err := k.api.Pod(p.tenant, p.name)
	if apierrors.IsNotFound(err) || err == nil && string(cur.UID) != p.uid {
		return nil
	}
	if err != nil {
		return err
	}
	return k.api.DeletePod(p.tenant, p.name)
}

// scheduleKubeFaults plants the Kubernetes-side faults: dropped watches (relisted 0.2-3.2 s later),
// write conflicts and monitor crashes.
func scheduleKubeFaults(w *World, k *kube, st *Stats, end int64, on *bool) {
	rng := w.Rand("kube-faults")
	every := faultProcess(w, rng, end, on)
	every("watch-drop", 8_000, func(r *rand.Rand) {
		if k.api.Dropped() {
			return
		}
		st.WatchDrops++
		k.api.DropWatch()
		d := 200 + int64(r.IntN(3000))
		w.Record("fault watch-drop %dms", d)
		w.After(d, "relist", func() { w.Record("relist %v", k.api.Relist()) })
	})
	every("conflict", 5_000, func(r *rand.Rand) {
		n := 1 + r.IntN(3)
		k.api.Conflicts(n) // Stats.Conflicts counts those that happen (fakekube's Conflicted)
		w.Record("fault conflicts %d", n)
	})
	every("monitor-crash", 20_000, func(*rand.Rand) {
		st.MonitorCrashes++
		w.Record("fault monitor-crash")
		if err := k.crash(); err != nil {
			panic(err)
		}
	})
}
