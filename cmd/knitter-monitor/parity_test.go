package main

import (
	"context"
	"net/netip"
	"strings"
	"testing"

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

	"github.com/knitter-cni/knitter/adapters/kube"
	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

// TestMonitorAndAgentResolveAlike feeds the same pods, namespaces and NetworkAttachmentDefinitions
// to the monitor (informers, its REST manager client) and to the agent allocating on its own (the
// kube PodSource over the same API objects, its REST manager client), each with a real manager of
// the same world: a bad pod's Warning event and the agent's ADD error are the same message, and a
// good pod gets the same tenant and interfaces from both.
func TestMonitorAndAgentResolveAlike(t *testing.T) {
	ctx := context.Background()
	w := agenttest.NewWorld(t)        // the agent's manager
	monMgr := agenttest.NewManager(t) // the monitor's, of the same world
	for _, m := range []*agenttest.Manager{w.Mgr, monMgr} {
		p := netip.MustParsePrefix("10.9.0.0/24")
		for _, c := range []alloc.Command{
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "other"}},
			alloc.CreateNetworkCmd{Network: model.Network{Tenant: "other", Name: "secret", Type: model.Overlay, VNI: 5000,
				IPv4: &model.Subnet{CIDR: p, Gateway: p.Addr().Next()}}},
			alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "bare"}}, // no default network
		} {
			if _, err := m.M.Do(ctx, c); err != nil {
				t.Fatalf("%T: %v", c, err)
			}
		}
	}

	namespaces := []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "acme"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Annotations: map[string]string{monitor.TenantAnnotation: "acme"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "lonely", Annotations: map[string]string{monitor.TenantAnnotation: "bare"}}},
	}
	nads := []*unstructured.Unstructured{
		nadObj("acme", "fast", `{"cniVersion":"1.1.0","type":"knitter","network":"acme/vl"}`),
		nadObj("acme", "mvx", `{"cniVersion":"1.1.0","type":"macvlan","master":"eth0"}`),
		nadObj("acme", "broken", `{"cniVersion":"1.1.0","type":"knitter"}`),
		nadObj("team-a", "fast", `{"cniVersion":"1.1.0","type":"knitter","network":"vl"}`),
	}
	type podCase struct {
		ns, name    string
		annotations map[string]string
		good        bool
	}
	cases := []podCase{
		{ns: "acme", name: "empty-ports", annotations: map[string]string{"networks": `{"ports": []}`}},
		{ns: "acme", name: "bad-iface", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name": "vl", "interface": "eth0/x"}]`}},
		{ns: "acme", name: "unknown", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "vl, nosuch"}},
		{ns: "acme", name: "forbidden", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "other/secret"}},
		{ns: "acme", name: "broken-nad", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "broken"}},
		{ns: "lonely", name: "no-default"},
		{ns: "team-a", name: "override-unknown", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "nosuch"}},
		{ns: "acme", name: "good", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "fast, mvx@net5"}, good: true},
		{ns: "team-a", name: "good-override", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "fast"}, good: true},
		{ns: "lonely", name: "cross-tenant-nad", annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "acme/fast@eth0"}},
	}

	client := fake.NewClientset()
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{monitor.NADResource: "NetworkAttachmentDefinitionList"})
	factory := informers.NewSharedInformerFactory(client, 0)
	nadFactory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	rec := record.NewFakeRecorder(100)
	m, err := monitor.New(monitor.Config{}, monitor.Deps{Kube: client, Informers: factory, NADs: nadFactory,
		Manager: ManagerClient{C: monMgr.Client}, Recorder: rec, Clock: monitor.WallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.PodQueue.ShutDown(); m.NodeQueue.ShutDown() })
	for _, n := range namespaces {
		if err := client.Tracker().Add(n); err != nil {
			t.Fatal(err)
		}
		_ = factory.Core().V1().Namespaces().Informer().GetIndexer().Add(n)
	}
	for _, n := range nads {
		if _, err := dyn.Resource(monitor.NADResource).Namespace(n.GetNamespace()).Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_ = nadFactory.ForResource(monitor.NADResource).Informer().GetIndexer().Add(n)
	}
	opts := agenttest.Options()
	opts.NetnsExists = func(p string) bool { return w.DP.Links(p) != nil }
	ag, err := agent.New(w.Dataplane, &kube.PodSource{Client: client, NADs: dyn}, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uid := "uid-" + c.name
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: c.name, UID: k8stypes.UID(uid), Annotations: c.annotations}}
			if err := client.Tracker().Add(pod); err != nil {
				t.Fatal(err)
			}
			_ = factory.Core().V1().Pods().Informer().GetIndexer().Add(pod)

			if err := m.SyncPod(ctx, monitor.PodKey{Namespace: c.ns, Name: c.name, UID: uid}); err != nil {
				t.Fatalf("SyncPod: %v", err)
			}
			var events []string
			for len(rec.Events) > 0 {
				events = append(events, <-rec.Events)
			}
			_, addErr := ag.Add(ctx, w.AddRequest("c"+string(rune('a'+i)), c.ns, c.name))
			monPod, monOK := monMgr.Pod(t, uid)
			agPod, agOK := w.Mgr.Pod(t, uid)

			if !c.good {
				if len(events) != 1 {
					t.Fatalf("monitor events = %q, want one Warning", events)
				}
				parts := strings.SplitN(events[0], " ", 3)
				if len(parts) != 3 || parts[0] != corev1.EventTypeWarning {
					t.Fatalf("event %q is not a Warning", events[0])
				}
				if addErr == nil {
					t.Fatal("the agent's ADD succeeded")
				}
				we := agent.ToWire(addErr)
				if we.Msg != parts[2] {
					t.Fatalf("messages differ:\n monitor: %s\n agent:   %s", parts[2], we.Msg)
				}
				if we.Code == wire.CodeTryAgainLater {
					t.Fatalf("the agent answers a refusal with try-again-later: %s", we.Msg)
				}
				if !strings.HasPrefix(we.Msg, "pod "+c.ns+"/"+c.name+": ") && !strings.HasPrefix(we.Msg, "allocating pod "+c.ns+"/"+c.name+"'s ports: ") {
					t.Fatalf("the message does not name the pod: %s", we.Msg)
				}
				if monOK || agOK {
					t.Fatalf("a refused pod got ports (monitor %v, agent %v)", monOK, agOK)
				}
				return
			}
			if len(events) != 0 || addErr != nil {
				t.Fatalf("good pod: monitor events %q, ADD error %v", events, addErr)
			}
			if !monOK || !agOK {
				t.Fatalf("good pod not allocated (monitor %v, agent %v)", monOK, agOK)
			}
			if monPod.Tenant != agPod.Tenant || describe(monPod) != describe(agPod) {
				t.Fatalf("resolved differently:\n monitor: %s %s\n agent:   %s %s", monPod.Tenant, describe(monPod), agPod.Tenant, describe(agPod))
			}
		})
	}
}

// describe is a pod's ports as "interface@network".
func describe(p model.Pod) string {
	var s []string
	for _, port := range p.Ports {
		s = append(s, port.Interface+"@"+port.Network)
	}
	return strings.Join(s, ",")
}

func nadObj(ns, name, config string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("k8s.cni.cncf.io/v1")
	u.SetKind("NetworkAttachmentDefinition")
	u.SetNamespace(ns)
	u.SetName(name)
	_ = unstructured.SetNestedField(u.Object, config, "spec", "config")
	return u
}
