package plugin_test

import (
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/agent/agenttest"
)

// A runtime's GC under another network configuration name, even with no valid attachments at all,
// leaves this configuration's attachments alone.
func TestGCOfAnotherConfigurationTouchesNothing(t *testing.T) {
	w := agenttest.NewWorld(t)
	sock := w.Serve(t)
	rt := newRuntime(t, confList("1.1.0", sock, ""))
	w.Pods.Put("acme", "web", "", nil)
	if _, err := rt.cni.AddNetworkList(ctx, rt.list, rtConf(w, "c1", "web")); err != nil {
		t.Fatal(err)
	}
	other := newRuntime(t, strings.Replace(confList("1.1.0", sock, ""), `"name":"knitter"`, `"name":"np-other"`, 1))
	if err := other.cni.GCNetworkList(ctx, other.list, &libcni.GCArgs{}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 1 || len(w.DP.Links(w.Netns("c1"))) == 0 {
		t.Fatalf("np-other's GC removed knitter's attachment: %+v", cps)
	}
	if err := rt.cni.GCNetworkList(ctx, rt.list, &libcni.GCArgs{}); err != nil {
		t.Fatal(err)
	}
	if cps := w.Agent.Checkpoints(); len(cps) != 0 {
		t.Fatalf("knitter's own GC left %+v", cps)
	}
}
