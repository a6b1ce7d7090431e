package agent_test

import (
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// A second pod-wide ifname for the same container is refused and leaves the first attachment whole.
func TestOneContainerTwoIfnamesIsRefused(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatal(err)
	}
	req := w.AddRequest("c1", "acme", "web")
	req.IfName = "net9"
	_, err := w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_IFNAME", "already attached on eth0")
	if err := w.Agent.Del(ctx, wire.Request{ContainerID: "c1", IfName: "net9", Netns: w.Netns("c1")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Agent.Check(ctx, w.Request("c1")); err != nil {
		t.Fatalf("CHECK of eth0 after the refused net9 and its DEL: %v", err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 1 || cps[0].IfName != "eth0" {
		t.Fatalf("checkpoints %+v, want eth0 alone", cps)
	}
}

// A pod UID in a second live sandbox is refused until the first is deleted, sequentially and
// concurrently: its addresses and MAC are never on the segment twice.
func TestOnePodOneLiveSandbox(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatal(err)
	}
	_, err := w.Agent.Add(ctx, w.AddRequest("c2", "acme", "web"))
	wantCode(t, err, wire.CodeRefused, "already attached in sandbox c1", "DEL the old one first")
	if n := len(w.DP.Links(w.Netns("c2"))); n != 0 {
		t.Fatalf("the refused sandbox got %d links", n)
	}
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Agent.Add(ctx, w.AddRequest("c2", "acme", "web")); err != nil {
		t.Fatalf("ADD after the old sandbox's DEL: %v", err)
	}

	// Concurrent: of two new sandboxes of one pod, exactly one is built.
	w.Pods.Put("acme", "api", "", nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{"d1", "d2"} {
		wg.Go(func() { _, errs[i] = w.Agent.Add(ctx, w.AddRequest(id, "acme", "api")) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent sandboxes of one pod: %v and %v; want exactly one built", errs[0], errs[1])
	}
	if built := len(w.DP.Links(w.Netns("d1"))) + len(w.DP.Links(w.Netns("d2"))); built != 1 {
		t.Fatalf("%d pod interfaces across both sandboxes, want 1", built)
	}
}

// Once the old sandbox's namespace is gone, the new one is built.
func TestANewSandboxReplacesOneWhoseNamespaceIsGone(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
		t.Fatal(err)
	}
	w.DP.Gone(w.Netns("c1"))
	if _, err := w.Agent.Add(ctx, w.AddRequest("c2", "acme", "web")); err != nil {
		t.Fatalf("ADD after the old sandbox's namespace is gone: %v", err)
	}
}

// Delegate mode (one network per attachment, as behind Multus): attachments of one container on
// different networks share it; a second ifname for a network the container already carries would
// be the same port built twice (same address and MAC) and is refused, leaving the first whole.
func TestDelegateAttachmentsOfOneContainerNeedTheirOwnPorts(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", map[string]string{netspec.NPWGAnnotation: "vl, mv"})
	req := w.AddRequest("c1", "acme", "web")
	req.IfName, req.Network = "net1", "acme/vl"
	if _, err := w.Agent.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.IfName, req.Network = "net2", "acme/mv"
	if _, err := w.Agent.Add(ctx, req); err != nil {
		t.Fatalf("a second delegate on another network: %v", err)
	}
	req.IfName, req.Network = "net9", "acme/vl"
	_, err := w.Agent.Add(ctx, req)
	wantCode(t, err, wire.CodeInvalidEnv, "CNI_IFNAME", "already attached as net1")
	if links := w.DP.Links(w.Netns("c1")); len(links) != 2 {
		t.Fatalf("links %+v after the refused net9, want net1 and net2", links)
	}
	if err := w.Agent.Del(ctx, wire.Request{ContainerID: "c1", IfName: "net9", Netns: w.Netns("c1")}); err != nil {
		t.Fatal(err)
	}
	for _, ifname := range []string{"net1", "net2"} {
		if err := w.Agent.Check(ctx, wire.Request{ContainerID: "c1", IfName: ifname, Netns: w.Netns("c1")}); err != nil {
			t.Fatalf("CHECK %s after the refused net9 and its DEL: %v", ifname, err)
		}
	}
}

// A pod whose ports are bound to another node lives there: an ADD here is refused (102, naming the
// node) before anything is built, so its address and MAC are never on the overlay twice, even for
// the moment a later bind would take to fail.
func TestAPodBoundToAnotherNodeIsRefusedBeforeBuilding(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Pods.Put("acme", "web", "", nil)
	w.Mgr.Allocate(t, model.PodRef{UID: "acme-web", Namespace: "acme", Name: "web"},
		model.AttachRequest{Network: agenttest.Overlay, Interface: "eth0", DefaultRoute: true})
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	w.Mgr.Bind(t, "acme-web", "node-2")
	_, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web"))
	wantCode(t, err, wire.CodeRefused, "bound to node node-2")
	if n := w.DP.Calls(fakedp.OpAttach); n != 0 {
		t.Fatalf("%d Attach calls for a pod bound to another node", n)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("checkpoints %+v", cps)
	}
}
