package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/adapters/checkpoint"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

func added(t *testing.T, w *agenttest.World, ids ...string) {
	t.Helper()
	for _, id := range ids {
		w.Pods.Put("acme", "pod-"+id, "", multiNIC)
		if _, err := w.Agent.Add(ctx, w.AddRequest(id, "acme", "pod-"+id)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDelTwiceAndDelWithoutAdd(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	for i := range 2 {
		if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
			t.Fatalf("DEL %d: %v", i+1, err)
		}
	}
	if err := w.Agent.Del(ctx, w.Request("never-added")); err != nil {
		t.Fatalf("DEL without ADD: %v", err)
	}
	if w.Attached() != 0 || len(files(t, w)) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatal("DEL left links or checkpoints")
	}
	// The ports stay allocated: releasing them is the monitor's job once the pod object is gone.
	if _, ok := w.Mgr.Pod(t, "acme-pod-c1"); !ok {
		t.Fatal("DEL released the pod's ports")
	}
}

func TestDelWorksWithManagerAndAPIServerDownAndNetnsGone(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	w.Mgr.SetDown(true)
	w.Pods.SetDown(true)
	w.DP.Gone(w.Netns("c1"))
	req := w.Request("c1")
	req.Netns = "" // runtimes may pass no netns once it is gone
	if err := w.NewAgent(t).Del(ctx, req); err != nil {
		t.Fatal(err)
	}
	if w.Attached() != 0 || len(files(t, w)) != 0 {
		t.Fatal("DEL left links or the checkpoint")
	}
}

func TestFailedDetachKeepsTheCheckpointForARetry(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	w.DP.FailNext(fakedp.OpDetach, nil)
	wantCode(t, w.Agent.Del(ctx, w.Request("c1")), wire.CodeDataplane, "c1")
	if len(files(t, w)) != 1 {
		t.Fatal("checkpoint removed although the links were not")
	}
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil || w.Attached() != 0 || len(files(t, w)) != 0 {
		t.Fatalf("retried DEL: %v, %d pods, files %v", err, w.Attached(), files(t, w))
	}
}

func TestCheck(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	if err := w.Agent.Check(ctx, w.Request("c1")); err != nil {
		t.Fatalf("CHECK of a built pod: %v", err)
	}
	w.DP.FailNext(fakedp.OpCheck, nil)
	wantCode(t, w.Agent.Check(ctx, w.Request("c1")), wire.CodeDataplane, "c1")
	w.DP.Gone(w.Netns("c1"))
	wantCode(t, w.Agent.Check(ctx, w.Request("c1")), wire.CodeDataplane, "c1")
	wantCode(t, w.Agent.Check(ctx, w.Request("c2")), wire.CodeUnknownContainer, "ADD it first")
	req := w.Request("c1")
	req.Netns = w.DP.NewNetns()
	wantCode(t, w.Agent.Check(ctx, req), wire.CodeInvalidEnv, "CNI_NETNS")
}

func TestGCRemovesWhatTheRuntimeNoLongerLists(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1", "c2", "c3")
	// A delegate-mode attachment belongs to another configuration's GC.
	w.Pods.Put("acme", "mv", "", multiNIC)
	dreq := w.AddRequest("d1", "acme", "mv")
	dreq.IfName, dreq.Network = "net2", "acme/mv"
	if _, err := w.Agent.Add(ctx, dreq); err != nil {
		t.Fatal(err)
	}
	err := w.Agent.GC(ctx, wire.Request{Name: agenttest.Config, ValidAttachments: []wire.Attachment{{ContainerID: "c2", IfName: "eth0"}}})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, cp := range w.Agent.Checkpoints() {
		left = append(left, cp.ContainerID+"/"+cp.IfName)
	}
	if strings.Join(left, " ") != "c2/eth0 d1/net2" {
		t.Fatalf("after GC: %v, want c2/eth0 and the other configuration's d1/net2", left)
	}
	if len(w.DP.Links(w.Netns("c1"))) != 0 {
		t.Fatal("c1's links survived GC")
	}
	if err := w.Agent.GC(ctx, wire.Request{Name: agenttest.Config, Network: "acme/mv"}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 1 || cps[0].ContainerID != "c2" {
		t.Fatalf("after the delegate configuration's GC: %+v", cps)
	}
}

// A GC under another configuration name, even with an empty list of valid attachments, touches
// nothing of this configuration's; a GC without a name is refused.
func TestGCIsScopedByConfigurationName(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1", "c2")
	if err := w.Agent.GC(ctx, wire.Request{Name: "np-other"}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 2 || len(w.DP.Links(w.Netns("c1"))) == 0 {
		t.Fatalf("another configuration's GC removed this one's attachments: %+v", cps)
	}
	wantCode(t, w.Agent.GC(ctx, wire.Request{}), wire.CodeInvalidConfig, "name")
	if err := w.Agent.GC(ctx, wire.Request{Name: agenttest.Config}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("the configuration's own GC left %+v", cps)
	}
}

func TestGCGoesOnPastFailures(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1", "c2")
	w.DP.FailNext(fakedp.OpDetach, nil) // the first detach fails
	wantCode(t, w.Agent.GC(ctx, wire.Request{Name: agenttest.Config}), wire.CodeDataplane, "c1")
	if cps := w.Agent.Checkpoints(); len(cps) != 1 || cps[0].ContainerID != "c1" {
		t.Fatalf("after GC: %+v, want c1 kept for a retry and c2 gone", cps)
	}
}

func TestUnreadableCheckpointsAreKeptAndReported(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1")
	bad := filepath.Join(w.Store.Dir(), "c9@eth0.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cps, err := w.Store.List()
	if err == nil || !strings.Contains(err.Error(), "c9@eth0.json") || len(cps) != 1 {
		t.Fatalf("List = %d checkpoints, %v; want c1 and an error naming c9@eth0.json", len(cps), err)
	}
	wantCode(t, w.Agent.Del(ctx, w.Request("c9")), wire.CodeIOFailure, "corrupt")
	if _, err := os.Stat(bad); err != nil {
		t.Fatal("an unreadable checkpoint was deleted")
	}
	if _, err := checkpoint.Open(w.Store.Dir()); err != nil {
		t.Fatal(err)
	}
}
