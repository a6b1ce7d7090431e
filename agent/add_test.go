package agent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

var ctx = context.Background()

// multiNIC is a pod asking for eth0 (the default overlay) plus VLAN and macvlan NICs.
var multiNIC = map[string]string{netspec.NPWGAnnotation: `[{"name":"vl","interface":"net1"},{"name":"mv","interface":"net2"}]`}

// wantCode fails unless err maps to the CNI code and its message contains every part.
func wantCode(t *testing.T, err error, code uint, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want code %d", code)
	}
	we := agent.ToWire(err)
	if we.Code != code {
		t.Fatalf("code %d (%v), want %d", we.Code, we, code)
	}
	for _, p := range parts {
		if !strings.Contains(we.Error(), p) {
			t.Fatalf("error %q does not mention %q", we.Error(), p)
		}
	}
}

// files lists the checkpoint directory.
func files(t *testing.T, w *agenttest.World) []string {
	t.Helper()
	entries, err := os.ReadDir(w.Store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestAddBuildsBindsAndReturnsTheResult(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "uid-web", multiNIC)
	res, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	if err != nil {
		t.Fatal(err)
	}
	pod, ok := w.Mgr.Pod(t, "uid-web")
	if !ok || pod.Node != agenttest.NodeName {
		t.Fatalf("pod not bound to %s: %+v", agenttest.NodeName, pod)
	}
	var names []string
	for i, itf := range res.Interfaces {
		names = append(names, itf.Name)
		if itf.Sandbox != w.Netns("c1") || itf.MAC != pod.Ports[i].MAC.String() || itf.MTU == 0 {
			t.Errorf("interface %d = %+v; want sandbox %s, MAC %s and an MTU", i, itf, w.Netns("c1"), pod.Ports[i].MAC)
		}
	}
	if strings.Join(names, ",") != "eth0,net1,net2" {
		t.Fatalf("interfaces %v, want eth0,net1,net2", names)
	}
	if len(res.IPs) != 3 {
		t.Fatalf("ips %+v, want one per interface", res.IPs)
	}
	for i, ip := range res.IPs {
		want := pod.Ports[i].IPs[0].String()
		if ip.Interface != i || !strings.HasPrefix(ip.Address, want+"/24") || ip.Gateway == "" {
			t.Errorf("ip %d = %+v, want %s/24 on interface %d with a gateway", i, ip, want, i)
		}
	}
	if len(res.Routes) != 1 || res.Routes[0].Dst != "0.0.0.0/0" || res.Routes[0].GW != "10.1.0.1" {
		t.Errorf("routes %+v, want only the default route through eth0's gateway 10.1.0.1", res.Routes)
	}
	if strings.Join(res.DNS.Nameservers, ",") != "10.96.0.10" {
		t.Errorf("dns %+v, want the agent's configured DNS", res.DNS)
	}
	var kinds []string
	for _, l := range w.DP.Links(w.Netns("c1")) {
		kinds = append(kinds, l.Name+":"+l.Kind)
	}
	if strings.Join(kinds, " ") != "eth0:veth net1:veth net2:macvlan" {
		t.Fatalf("pod links %v, want the overlay's and the VLAN's veths and the macvlan", kinds)
	}
	if vx, ok := w.DP.Link("", fmt.Sprintf("knvx-%d", agenttest.VNI)); !ok || vx.Local.String() != "192.168.0.1" || vx.Device != agenttest.VTEPDevice {
		t.Fatalf("VXLAN device %+v, want one on the node's VTEP", vx)
	}
	if got := files(t, w); len(got) != 1 || got[0] != "c1@eth0.json" {
		t.Fatalf("checkpoint files %v, want [c1@eth0.json]", got)
	}
	cps := w.Agent.Checkpoints()
	if len(cps) != 1 || !cps[0].Ready || !reflect.DeepEqual(cps[0].Result, res) {
		t.Fatalf("checkpoints %+v, want one ready with the result", cps)
	}
}

func TestAddUsesTheConfigurationsDNS(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	req := w.AddRequest("c1", "acme", "web")
	req.DNS = &wire.DNS{Nameservers: []string{"1.1.1.1"}, Domain: "example.org"}
	res, err := w.Agent.Add(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.DNS, *req.DNS) {
		t.Fatalf("dns %+v, want %+v", res.DNS, *req.DNS)
	}
}

func TestRepeatedAddReturnsTheSameResultWithoutRebuilding(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", multiNIC)
	first, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	if err != nil {
		t.Fatal(err)
	}
	// Not even the manager is needed to answer the repeat.
	w.Mgr.SetDown(true)
	again, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("repeated ADD gave %+v, want %+v", again, first)
	}
	if a := w.DP.Calls(fakedp.OpAttach); a != 1 {
		t.Fatalf("%d Attach calls, want 1", a)
	}
	// A restarted agent answers the same from its checkpoint.
	restarted := w.NewAgent(t)
	if res, err := restarted.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil || !reflect.DeepEqual(res, first) {
		t.Fatalf("ADD after restart = %+v, %v; want the first result", res, err)
	}
}

func TestAddInAnotherNetnsIsRefused(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatal(err)
	}
	req := w.AddRequest("c1", "acme", "web")
	req.Netns = w.DP.NewNetns()
	_, err := w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_NETNS", "DEL it first")
}

func TestConcurrentAddsOfOneContainerBuildOnce(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", multiNIC)
	var wg sync.WaitGroup
	results := make([]wire.Result, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !reflect.DeepEqual(results[i], results[0]) {
			t.Fatalf("ADD %d = %+v, %v; want the same result as ADD 0", i, results[i], errs[i])
		}
	}
	if a := w.DP.Calls(fakedp.OpAttach); a != 1 {
		t.Fatalf("%d Attach calls, want 1", a)
	}
}

func TestAddTakesTheMonitorsAllocation(t *testing.T) {
	w := agenttest.NewWorld(t)
	// The monitor resolved the pod's request to the VLAN network as eth0; the agent would have made
	// something else of the (absent) annotations, and must build what the manager holds.
	info := w.Pods.Put("acme", "web", "", nil)
	pod := w.Mgr.Allocate(t, info.Ref, model.AttachRequest{Network: agenttest.VLAN, Interface: "eth0", DefaultRoute: true})
	res, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].MAC != pod.Ports[0].MAC.String() {
		t.Fatalf("result %+v, want the monitor's one port %s", res, pod.Ports[0].MAC)
	}
	if l, ok := w.DP.Link(w.Netns("c1"), "eth0"); !ok || l.MAC != pod.Ports[0].MAC {
		t.Fatalf("pod eth0 %+v, want the VLAN port's MAC %s", l, pod.Ports[0].MAC)
	}
	if cps := w.Agent.Checkpoints(); cps[0].Plan.Links[0].Type != model.VLAN {
		t.Fatalf("planned %+v, want the VLAN link", cps[0].Plan.Links)
	}
}

func TestDelegateModeBuildsOneNetwork(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", multiNIC)
	req := w.AddRequest("c1", "acme", "web")
	req.IfName, req.Network = "net1", "acme/vl"
	res, err := w.Agent.Add(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "net1" || len(res.Routes) != 0 {
		t.Fatalf("result %+v, want net1 alone, without the default route", res)
	}
	req.IfName, req.Network = "net2", "acme/mv"
	if _, err := w.Agent.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := files(t, w); strings.Join(got, " ") != "c1@net1.json c1@net2.json" {
		t.Fatalf("checkpoints %v, want one per attachment", got)
	}
	req.IfName, req.Network = "net1", "acme/mv"
	w.Pods.Put("acme", "db", "", multiNIC)
	req.ContainerID, req.Args = "c2", agenttest.Args("acme", "db")
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeRefused, "puts interface net1 on network acme/vl")
	req.IfName = "net9"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeRefused, "puts network acme/mv on interface net2")
	req.Network = "acme/nope"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeNotFound, "no port on network acme/nope")
	req.Network = "just-a-name"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidConfig, "tenant/name")
}

func TestInvalidAnnotationsLeaveNothingBehind(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: `[{"name":"vl","interfce":"net1"}]`})
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeInvalidPodRequest, `annotations["k8s.v1.cni.cncf.io/networks"]`, "interfce")
	if got := files(t, w); len(got) != 0 {
		t.Fatalf("checkpoint files %v left behind", got)
	}
	if _, ok := w.Mgr.Pod(t, "acme-web"); ok {
		t.Fatal("ports were allocated for an invalid request")
	}
	if a := w.DP.Calls(fakedp.OpAttach); a != 0 {
		t.Fatalf("%d Attach calls for an invalid request", a)
	}
}

func TestUnknownNetworkIsNotFound(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: `nope`})
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeNotFound, "nope")
	if len(files(t, w)) != 0 {
		t.Fatal("checkpoint left behind")
	}
}

func TestUnknownPodAndBadArgs(t *testing.T) {
	w := agenttest.NewWorld(t)
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "ghost"))
	wantCode(t, err, wire.CodeNotFound, "acme/ghost")
	req := w.AddRequest("c1", "acme", "web")
	req.Args = "K8S_POD_NAME=web"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "K8S_POD_NAMESPACE")
	req.Args = "garbage"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "KEY=VALUE")
	for _, id := range []string{"", "../etc", "a/b", "-x"} {
		req := w.AddRequest(id, "acme", "web")
		_, err := w.Agent.Add(ctx, req)
		wantCode(t, err, wire.CodeInvalidEnv, "CNI_CONTAINERID")
	}
	req = w.AddRequest("c1", "acme", "web")
	req.IfName = "a/b"
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_IFNAME")
	req.IfName, req.Netns = "eth0", ""
	_, err = w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_NETNS")
}

func TestTransientFailuresAreTryAgainLater(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	w.Mgr.SetDown(true)
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeTryAgainLater)
	w.Mgr.SetDown(false)
	w.Pods.SetDown(true)
	_, err = w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeTryAgainLater, "acme/web")
	if len(files(t, w)) != 0 || w.Attached() != 0 {
		t.Fatal("a failed ADD left a checkpoint or links behind")
	}
	w.Pods.SetDown(false)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatalf("ADD after the outage: %v", err)
	}
}

func TestUnreachableManagerIsTryAgainLater(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	closed := agenttest.ClosedManager(t)
	a, err := agent.New(w.DP, w.Pods, closed, w.Store, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeTryAgainLater)
	if !errors.Is(err, agent.ErrUnavailable) {
		t.Fatalf("%v does not match agent.ErrUnavailable", err)
	}
}

func TestFailedAttachRollsBack(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", multiNIC)
	w.DP.FailNext(fakedp.OpAttach, nil)
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeDataplane, "c1", "injected")
	if len(files(t, w)) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatal("checkpoint left behind")
	}
	// The bind came first and stays: the pod is this node's (the runtime retries here), and the
	// retry's bind changes nothing.
	if pod, _ := w.Mgr.Pod(t, "acme-web"); pod.Node != agenttest.NodeName {
		t.Fatalf("ports bound to %q after a failed build, want %s", pod.Node, agenttest.NodeName)
	}
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatalf("retried ADD: %v", err)
	}
}

func TestFailedBindRollsBack(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	// The pod is bound elsewhere already: the agent must not keep links the manager does not
	// account to this node.
	info := w.Pods.Put("acme", "web", "", nil)
	w.Mgr.Allocate(t, info.Ref, model.AttachRequest{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true})
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	w.Mgr.Bind(t, info.Ref.UID, "node-2")
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeRefused, "node-2")
	if w.Attached() != 0 || len(files(t, w)) != 0 {
		t.Fatal("links or checkpoint left behind after a refused bind")
	}
}

func TestInterruptedAddIsFinishedByTheRepeat(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	// A failed rollback (detach fails too) keeps the not-ready checkpoint, as a crash would.
	w.DP.FailNext(fakedp.OpAttach, nil)
	w.DP.FailNext(fakedp.OpDetach, nil)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err == nil {
		t.Fatal("ADD succeeded with a failing dataplane")
	}
	cps := w.Agent.Checkpoints()
	if len(cps) != 1 || cps[0].Ready {
		t.Fatalf("checkpoints %+v, want one not ready", cps)
	}
	w.Pods.SetDown(true) // the repeat builds from the checkpoint, without the API server
	res, err := w.NewAgent(t).Add(ctx, w.AddRequest("c1", "acme", "web"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, cps[0].Result) {
		t.Fatalf("result %+v, want the checkpoint's %+v", res, cps[0].Result)
	}
	if pod, _ := w.Mgr.Pod(t, "acme-web"); pod.Node != agenttest.NodeName {
		t.Fatalf("pod bound to %q, want %s", pod.Node, agenttest.NodeName)
	}
	if _, err := os.Stat(filepath.Join(w.Store.Dir(), "c1@eth0.json")); err != nil {
		t.Fatal(err)
	}
	if cps := w.NewAgent(t).Checkpoints(); !cps[0].Ready {
		t.Fatal("checkpoint not marked ready after the repeat")
	}
}

// The node's namespace, a namespace of another type and a missing one are refused with code 4
// before the pod's ports are allocated.
func TestAddChecksTheNamespaceFirst(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	for netns, why := range map[string]string{
		fakedp.NodeNetns:        "node's own network namespace",
		w.DP.NewForeign("uts"):  "not a network namespace",
		"/var/run/netns/absent": "does not exist",
	} {
		req := w.AddRequest("c1", "acme", "web")
		req.Netns = netns
		_, err := w.Agent.Add(ctx, req)
		wantCode(t, err, wire.CodeInvalidEnv, why)
	}
	if _, ok := w.Mgr.Pod(t, "acme-web"); ok {
		t.Fatal("a refused ADD allocated the pod's ports")
	}
	if n := w.DP.Calls(fakedp.OpAttach); n != 0 {
		t.Fatalf("%d Attach calls for refused ADDs", n)
	}
}

// TestDelegateNetworkDecidesUnnamedInterfaces: Multus names its delegates by position, which need not
// be the annotation's order; where the annotation names no interface the delegate's network decides.
func TestDelegateNetworkDecidesUnnamedInterfaces(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "vl, mv"}) // net1=vl, net2=mv
	pod := w.Mgr.Allocate(t, model.PodRef{UID: "acme-web", Namespace: "acme", Name: "web"},
		model.AttachRequest{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true},
		model.AttachRequest{Network: "vl", Interface: "net1"}, model.AttachRequest{Network: "mv", Interface: "net2"})
	req := w.AddRequest("c1", "acme", "web")
	req.IfName, req.Network = "net1", "acme/mv" // the static delegates list has macvlan first
	res, err := w.Agent.Add(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "net1" || res.Interfaces[0].MAC != pod.Ports[2].MAC.String() {
		t.Fatalf("result %+v, want net1 with mv's port (MAC %s)", res.Interfaces, pod.Ports[2].MAC)
	}
	req.IfName, req.Network = "net2", "acme/vl"
	if res, err = w.Agent.Add(ctx, req); err != nil || res.Interfaces[0].Name != "net2" || res.Interfaces[0].MAC != pod.Ports[1].MAC.String() {
		t.Fatalf("net2 as acme/vl: %+v, %v; want vl's port", res, err)
	}
	links := w.DP.Links(w.Netns("c1"))
	if len(links) != 2 {
		t.Fatalf("links %+v, want net1 and net2", links)
	}
}

// Pod identities are validated where they come in, with code 4, before any allocation: a UID that
// would be ambiguous in the manager's paths, a CNI_ARGS key given twice (which one counts would
// pick the tenant), a pod name longer than Kubernetes allows.
func TestPodIdentityIsValidatedAtTheEdge(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	long := strings.Repeat("a", 300)
	w.Pods.Put("acme", long, "", nil)
	for args, why := range map[string]string{
		agenttest.Args("acme", "web") + ";K8S_POD_UID=npevil/../x":                    "K8S_POD_UID",
		agenttest.Args("acme", "web") + ";K8S_POD_UID=a b":                            "K8S_POD_UID",
		agenttest.Args("acme", "web") + ";K8S_POD_UID=a%2Fb":                          "K8S_POD_UID",
		"K8S_POD_NAMESPACE=admin;K8S_POD_NAME=web;K8S_POD_NAMESPACE=acme":             "K8S_POD_NAMESPACE twice",
		agenttest.Args("acme", long):                                                  "K8S_POD_NAME",
		"K8S_POD_NAMESPACE=acme;K8S_POD_NAME=web;K8S_POD_UID=u1;K8S_POD_UID=acme-web": "K8S_POD_UID twice",
	} {
		req := w.AddRequest("c1", "acme", "web")
		req.Args = args
		_, err := w.Agent.Add(ctx, req)
		wantCode(t, err, wire.CodeInvalidEnv, why)
	}
	if _, ok := w.Mgr.Pod(t, "acme-web"); ok {
		t.Fatal("a refused ADD allocated the pod's ports")
	}
}

// callLog records the ManagerClient calls the agent makes; plain drops the networks from
// BindPod's answer, as a manager older than bind's ?include=networks answers.
type callLog struct {
	agent.ManagerClient
	plain bool
	calls []string
}

func (m *callLog) Pod(ctx context.Context, uid string) (model.Pod, error) {
	m.calls = append(m.calls, "Pod")
	return m.ManagerClient.Pod(ctx, uid)
}

func (m *callLog) AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, error) {
	m.calls = append(m.calls, "AllocatePod")
	return m.ManagerClient.AllocatePod(ctx, r)
}

func (m *callLog) BindPod(ctx context.Context, uid, node string) (agent.Binding, error) {
	m.calls = append(m.calls, "BindPod")
	b, err := m.ManagerClient.BindPod(ctx, uid, node)
	if m.plain {
		b.Networks = nil
	}
	return b, err
}

func (m *callLog) Tenant(ctx context.Context, name string) (model.Tenant, error) {
	m.calls = append(m.calls, "Tenant")
	return m.ManagerClient.Tenant(ctx, name)
}

func (m *callLog) Network(ctx context.Context, tenant, name string) (model.Network, error) {
	m.calls = append(m.calls, "Network "+tenant+"/"+name)
	return m.ManagerClient.Network(ctx, tenant, name)
}

// The ADD of a pod the monitor has allocated asks the manager once: the bind answers with the ports
// and their networks. A pod nobody has allocated yet costs the allocation and a second bind; with a
// manager whose bind has no networks the agent reads each network once.
func TestAddIsOneManagerCall(t *testing.T) {
	w := agenttest.NewWorld(t)
	mgr := &callLog{ManagerClient: w.Mgr.Port()}
	a, err := agent.New(w.DP, w.Pods, mgr, w.Store, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	three := []model.AttachRequest{{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true},
		{Network: agenttest.VLAN, Interface: "net1"}, {Network: agenttest.MACVLAN, Interface: "net2"}}
	add := func(id, name string) wire.Result {
		t.Helper()
		mgr.calls = nil
		res, err := a.Add(ctx, w.AddRequest(id, "acme", name))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Interfaces) != 3 {
			t.Fatalf("%s: %d interfaces, want 3", name, len(res.Interfaces))
		}
		return res
	}

	w.Mgr.Allocate(t, w.Pods.Put("acme", "web", "", nil).Ref, three...)
	add("c1", "web")
	if want := []string{"BindPod"}; !reflect.DeepEqual(mgr.calls, want) {
		t.Fatalf("ADD of an allocated pod called %v, want %v", mgr.calls, want)
	}
	if pod, _ := w.Mgr.Pod(t, "acme-web"); pod.Node != agenttest.NodeName {
		t.Fatalf("pod bound to %q, want %s", pod.Node, agenttest.NodeName)
	}

	w.Pods.Put("acme", "db", "", multiNIC)
	add("c2", "db")
	if n := len(mgr.calls); n < 3 || mgr.calls[0] != "BindPod" || mgr.calls[n-2] != "AllocatePod" || mgr.calls[n-1] != "BindPod" {
		t.Fatalf("ADD of a pod nobody allocated called %v; want BindPod, the resolution's reads, AllocatePod, BindPod", mgr.calls)
	}

	mgr.plain = true
	w.Mgr.Allocate(t, w.Pods.Put("acme", "api", "", nil).Ref, three...)
	add("c3", "api")
	want := []string{"BindPod", "Network acme/net", "Network acme/vl", "Network acme/mv"}
	if !reflect.DeepEqual(mgr.calls, want) {
		t.Fatalf("ADD with a bind that has no networks called %v, want %v", mgr.calls, want)
	}
}
