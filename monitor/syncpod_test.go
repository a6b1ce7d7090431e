package monitor_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

func TestAllocatesBeforeScheduling(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"})
	e.add(p)
	e.m.PodAdded(p)
	e.drain()
	mp, ok := e.managerPod("u1")
	if !ok || ifaces(mp) != "eth0@acme/net,net1@acme/vl" || mp.Tenant != "acme" || mp.Name != "web" {
		t.Fatalf("manager pod = %+v (%v), want eth0 on the default network and net1 on vl", mp, ok)
	}
	// A second sync of a pod the monitor allocated asks the manager nothing.
	calls := e.mgr.Calls("AllocatePod")
	e.sync(p)
	if e.mgr.Calls("AllocatePod") != calls {
		t.Fatalf("a synced pod was allocated again")
	}
	if ev := e.events(); len(ev) != 0 {
		t.Fatalf("events %v, want none", ev)
	}
}

func TestHostNetworkPodsAreIgnored(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("kube-proxy", "u1", nil)
	p.Spec.HostNetwork = true
	e.add(p)
	e.m.PodAdded(p)
	if e.m.PodQueue.Len() != 0 {
		t.Fatalf("a hostNetwork pod was queued")
	}
	e.sync(p)
	if _, ok := e.managerPod("u1"); ok {
		t.Fatalf("a hostNetwork pod got ports")
	}
}

func TestReleaseByUIDIntoCooldown(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", nil)
	e.add(p)
	e.sync(p)
	if _, ok := e.managerPod("u1"); !ok {
		t.Fatal("not allocated")
	}
	e.remove(p)
	e.m.PodDeleted(p)
	e.drain()
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("the deleted pod's ports are still allocated")
	}
	if c := e.cooling("net"); c != 1 {
		t.Fatalf("%d addresses cooling, want the released one", c)
	}
}

func TestTombstoneReleases(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", nil)
	e.add(p)
	e.sync(p)
	e.remove(p)
	// The watch missed the delete; the relist hands the handler a tombstone.
	e.m.PodDeleted(cache.DeletedFinalStateUnknown{Key: "acme/web", Obj: p})
	e.drain()
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("a tombstoned pod's ports are still allocated")
	}
}

func TestSameNameNewUID(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	old := e.pod("web", "u-old", nil)
	e.add(old)
	e.sync(old)
	// Force-deleted and created again; a relist shows it as an update with another UID.
	e.remove(old)
	cur := e.pod("web", "u-new", nil)
	e.add(cur)
	e.m.PodUpdated(old, cur)
	e.drain()
	if _, ok := e.managerPod("u-old"); ok {
		t.Fatal("the old UID's ports are still allocated")
	}
	if _, ok := e.managerPod("u-new"); !ok {
		t.Fatal("the new pod has no ports")
	}
	// A late sync of the old key must not touch the namesake.
	e.sync(old)
	if _, ok := e.managerPod("u-new"); !ok {
		t.Fatal("syncing the old UID released the new pod")
	}
}

func TestFinishedPodReleased(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("job", "u1", nil)
	e.add(p)
	e.sync(p)
	p = p.DeepCopy()
	p.Status.Phase = corev1.PodSucceeded
	e.update(p)
	e.sync(p)
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("a Succeeded pod keeps its ports")
	}
}

func TestStatefulSetKeepsAddresses(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	yes := true
	sts := func(uid string) *corev1.Pod {
		p := e.pod("db-0", uid, map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"})
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: &yes}}
		return p
	}
	first := sts("u1")
	e.add(first)
	e.sync(first)
	before, _ := e.managerPod("u1")
	if before.Owner != "statefulset/acme/db/0" {
		t.Fatalf("owner = %q", before.Owner)
	}
	e.remove(first)
	e.sync(first)
	// Another pod allocates meanwhile: it must not get the held addresses.
	other := e.pod("other", "u9", map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"})
	e.add(other)
	e.sync(other)
	e.clock.Step(time.Minute)
	second := sts("u2")
	e.add(second)
	e.sync(second)
	after, _ := e.managerPod("u2")
	for i := range before.Ports {
		b, a := before.Ports[i], after.Ports[i]
		if !slices.Equal(b.IPs, a.IPs) || b.MAC != a.MAC {
			t.Fatalf("%s: %v %s before, %v %s after the recreate", b.Interface, b.IPs, b.MAC, a.IPs, a.MAC)
		}
	}
	o, _ := e.managerPod("u9")
	if slices.Equal(o.Ports[0].IPs, before.Ports[0].IPs) {
		t.Fatalf("another pod took the StatefulSet pod's held address %v", o.Ports[0].IPs)
	}
}

func TestInvalidAnnotationWarnsOnce(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name": "vl", "interface": "eth0/x"}]`})
	e.add(p)
	e.sync(p)
	e.sync(p)
	ev := e.events()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning InvalidNetworks pod acme/web: ") ||
		!strings.Contains(ev[0], `annotations["k8s.v1.cni.cncf.io/networks"][0].interface`) {
		t.Fatalf("events = %q, want one InvalidNetworks warning naming the field", ev)
	}
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("an invalid pod got ports")
	}
}

func TestUnknownAndForbiddenNetworksWarn(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	unknown := e.pod("a", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "vl, nosuch"})
	forbidden := e.pod("b", "u2", map[string]string{"k8s.v1.cni.cncf.io/networks": "other/secret"})
	e.add(unknown, forbidden)
	e.sync(unknown)
	e.sync(forbidden)
	ev := e.events()
	if len(ev) != 2 || !strings.HasPrefix(ev[0], "Warning AllocationFailed allocating pod acme/a's ports: ") || !strings.Contains(ev[0], "nosuch") ||
		!strings.HasPrefix(ev[1], "Warning AllocationFailed allocating pod acme/b's ports: ") || !strings.Contains(ev[1], "secret") {
		t.Fatalf("events = %q", ev)
	}
	// All or nothing: vl is not half-allocated for the pod that also asked for nosuch.
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("partial allocation")
	}
	if _, ok := e.managerPod("u2"); ok {
		t.Fatal("a pod got a port on another tenant's private network")
	}
}

func TestManagerDownRetriesWithBackoffAndNoEvents(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	p := e.pod("web", "u1", nil)
	e.add(p)
	e.mgr.SetDown(true)
	e.m.PodAdded(p)
	for i := 1; i <= 3; i++ {
		if !e.m.ProcessNextPod(e.ctx) {
			t.Fatal("queue shut down")
		}
		if n := e.m.PodQueue.NumRequeues(key(p)); n != i {
			t.Fatalf("after failure %d the key was requeued %d times", i, n)
		}
		// The retry waits out a backoff: the key is not back in the queue at once.
		if e.m.PodQueue.Len() != 0 {
			t.Fatalf("failure %d requeued the key without a backoff", i)
		}
		e.m.PodQueue.Add(key(p)) // what the backoff timer does once it runs out
	}
	if ev := e.events(); len(ev) != 0 {
		t.Fatalf("an unavailable manager caused events: %v", ev)
	}
	e.mgr.SetDown(false)
	e.m.ProcessNextPod(e.ctx)
	if _, ok := e.managerPod("u1"); !ok || e.m.PodQueue.NumRequeues(key(p)) != 0 {
		t.Fatalf("not allocated after the manager came back (requeues %d)", e.m.PodQueue.NumRequeues(key(p)))
	}
}

func TestNADResolution(t *testing.T) {
	e := newEnv(t, monitor.Config{NetworkStatus: true})
	e.add(nad("acme", "fast", `{"cniVersion":"1.1.0","type":"knitter","network":"acme/vl"}`),
		nad("acme", "bare", `{"cniVersion":"1.1.0","type":"knitter","network":"vl"}`),
		nad("acme", "mv", `{"cniVersion":"1.1.0","type":"macvlan","master":"eth0"}`),
		nad("acme", "broken", `{"cniVersion":"1.1.0","type":"knitter"}`))
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "fast, mv@net5"})
	e.add(p)
	e.sync(p)
	mp, ok := e.managerPod("u1")
	if !ok || ifaces(mp) != "eth0@acme/net,net1@acme/vl" {
		t.Fatalf("manager pod = %s (%v), want net1 on vl through the NAD and nothing for the macvlan NAD", ifaces(mp), ok)
	}
	bad := e.pod("bad", "u2", map[string]string{"k8s.v1.cni.cncf.io/networks": "broken"})
	e.add(bad)
	e.sync(bad)
	if ev := e.events(); len(ev) != 1 || !strings.Contains(ev[0], "NetworkAttachmentDefinition acme/broken: spec.config.network") {
		t.Fatalf("events = %q, want a warning naming the NAD's field", ev)
	}
}

func TestNamespaceTenantOverride(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	e.add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Annotations: map[string]string{monitor.TenantAnnotation: "acme"}}})
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "vl"})
	p.Namespace = "team-a"
	e.add(p)
	e.sync(p)
	mp, ok := e.managerPod("u1")
	if !ok || mp.Tenant != "acme" || ifaces(mp) != "eth0@acme/net,net1@acme/vl" {
		t.Fatalf("manager pod = %+v (%v), want tenant acme's networks", mp, ok)
	}
}

func TestNetworkStatusAfterBind(t *testing.T) {
	e := newEnv(t, monitor.Config{NetworkStatus: true})
	e.add(nad("acme", "fast", `{"type":"knitter","network":"vl"}`))
	p := e.pod("web", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": "fast"})
	e.add(p)
	e.sync(p)
	// Not bound, no sandbox: nothing written.
	if got, _ := e.client.CoreV1().Pods("acme").Get(e.ctx, "web", metav1.GetOptions{}); got.Annotations[monitor.NetworkStatusAnnotation] != "" {
		t.Fatal("network-status written before the ADD")
	}
	e.bind("u1", "node-1")
	p = p.DeepCopy()
	p.Spec.NodeName = "node-1"
	p.Status.PodIP = "10.1.0.2"
	e.update(p)

	// The API server fails once: the sync reports it, for a retry.
	fails := 1
	e.client.PrependReactor("patch", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fails > 0 {
			fails--
			return true, nil, apierrors.NewInternalError(errors.New("etcd timeout"))
		}
		return false, nil, nil
	})
	if err := e.m.SyncPod(e.ctx, key(p)); err == nil {
		t.Fatal("a failed patch was not reported")
	}
	e.sync(p)
	got, _ := e.client.CoreV1().Pods("acme").Get(e.ctx, "web", metav1.GetOptions{})
	var status []monitor.NetworkStatus
	if err := json.Unmarshal([]byte(got.Annotations[monitor.NetworkStatusAnnotation]), &status); err != nil {
		t.Fatalf("network-status %q: %v", got.Annotations[monitor.NetworkStatusAnnotation], err)
	}
	mp, _ := e.managerPod("u1")
	if len(status) != 2 || status[0].Name != "acme/net" || status[0].Interface != "eth0" || !status[0].Default ||
		status[0].IPs[0] != mp.Ports[0].IPs[0].String() || status[0].MAC != mp.Ports[0].MAC.String() ||
		status[1].Name != "acme/fast" || status[1].Interface != "net1" || status[1].Default {
		t.Fatalf("network-status = %+v", status)
	}
}

func TestNetworkStatusPatchIsUIDGuarded(t *testing.T) {
	e := newEnv(t, monitor.Config{NetworkStatus: true})
	p := e.pod("web", "u1", nil)
	e.add(p)
	e.sync(p)
	e.bind("u1", "node-1")
	p = p.DeepCopy()
	p.Status.PodIP = "10.1.0.2"
	e.update(p)
	var patch string
	e.client.PrependReactor("patch", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		patch = string(a.(k8stesting.PatchAction).GetPatch())
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "web", errors.New("Precondition failed: UID in precondition: u1, UID in object meta: u2"))
	})
	e.sync(p) // a replaced pod is not an error: its own key handles the namesake
	if !strings.Contains(patch, `"uid":"u1"`) {
		t.Fatalf("patch %s carries no UID precondition", patch)
	}
}

func TestNPWGPrefixAndGatewayUsedOrRefused(t *testing.T) {
	e := newEnv(t, monitor.Config{})
	good := e.pod("good", "u1", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name":"vl","ips":["10.2.0.9/24"],"default-route":["10.2.0.1"]}]`})
	badPrefix := e.pod("bad-prefix", "u2", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name":"vl","ips":["10.2.0.10/16"]}]`})
	badGateway := e.pod("bad-gw", "u3", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name":"vl","default-route":["10.2.0.254"]}]`})
	e.add(good, badPrefix, badGateway)
	e.sync(good)
	e.sync(badPrefix)
	e.sync(badGateway)
	mp, ok := e.managerPod("u1")
	if !ok || mp.Ports[1].IPs[0].String() != "10.2.0.9" || !mp.Ports[1].DefaultRoute || mp.Ports[0].DefaultRoute {
		t.Fatalf("the pod with the subnet's prefix and gateway = %+v (%v)", mp, ok)
	}
	ev := e.events()
	if len(ev) != 2 || !strings.Contains(ev[0], "ips[0]: 10.2.0.10/16 has prefix length /16") || !strings.Contains(ev[1], "default-route[0]: 10.2.0.254 is not network \"vl\"'s gateway 10.2.0.1") {
		t.Fatalf("events = %q", ev)
	}
	for _, uid := range []string{"u2", "u3"} {
		if _, ok := e.managerPod(uid); ok {
			t.Fatalf("%s got ports", uid)
		}
	}
}

// TestAllocateAtAddLeavesAllocationToTheAgent: with AllocateAtAdd a new pod gets no ports from the
// monitor; once the agent's ADD allocated them, the monitor releases them when the pod goes.
func TestAllocateAtAddLeavesAllocationToTheAgent(t *testing.T) {
	e := newEnv(t, monitor.Config{AllocateAtAdd: true})
	p := e.pod("web", "u1", nil)
	e.add(p)
	e.m.PodAdded(p)
	e.drain()
	if _, ok := e.managerPod("u1"); ok || e.mgr.Calls("AllocatePod") != 0 {
		t.Fatalf("the monitor allocated (%d calls); want the agent's ADD to", e.mgr.Calls("AllocatePod"))
	}
	// The agent's ADD allocates.
	e.mgr.Do(func(s *alloc.State) {
		if _, _, err := s.Apply(alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: alloc.PodRequest{
			Pod: model.PodRef{UID: "u1", Namespace: "acme", Name: "web"}, Tenant: "acme",
			Requests: []model.AttachRequest{{Network: "net", Interface: "eth0", DefaultRoute: true}}}}); err != nil {
			t.Fatal(err)
		}
	})
	e.sync(p)
	e.remove(p)
	e.m.PodDeleted(p)
	e.drain()
	if _, ok := e.managerPod("u1"); ok {
		t.Fatal("the deleted pod's ports are still allocated")
	}
	if e.mgr.Calls("AllocatePod") != 0 {
		t.Fatal("the monitor allocated")
	}
}
