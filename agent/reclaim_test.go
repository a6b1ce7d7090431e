package agent_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// reclaimed is what a Reclaim pass removed, as "container:reason".
func reclaimed(t *testing.T, a *agent.Agent) ([]string, error) {
	t.Helper()
	got, err := a.Reclaim(ctx)
	out := []string{}
	for _, r := range got {
		out = append(out, r.Attachment.ContainerID+":"+r.Reason)
	}
	return out, err
}

func TestReclaimRemovesAttachmentsNoDELCameFor(t *testing.T) {
	w := agenttest.NewWorld(t)
	reg := prometheus.NewRegistry()
	opts := agenttest.Options()
	opts.Metrics = agent.NewMetrics(reg)
	opts.NetnsExists = func(p string) bool { return w.DP.Links(p) != nil }
	added(t, w, "c1", "c2", "c3", "c4")
	a, err := agent.New(w.Dataplane, w.Pods, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := reclaimed(t, a); err != nil || len(got) != 0 {
		t.Fatalf("a pass with every pod alive reclaimed %v, %v", got, err)
	}
	w.DP.Gone(w.Netns("c1"))                          // the sandbox died, no DEL
	w.Pods.Delete("acme", "pod-c2")                   // the pod object is gone, no DEL
	w.Pods.Put("acme", "pod-c3", "new-uid", multiNIC) // deleted and created again: a new UID
	got, err := reclaimed(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c1:netns_gone", "c2:pod_gone", "c3:pod_gone"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reclaimed %v, want %v", got, want)
	}
	if cps := a.Checkpoints(); len(cps) != 1 || cps[0].ContainerID != "c4" {
		t.Fatalf("checkpoints %+v, want c4 alone", cps)
	}
	for _, id := range []string{"c2", "c3"} {
		if n := len(w.DP.Links(w.Netns(id))); n != 0 {
			t.Fatalf("%s keeps %d links", id, n)
		}
	}
	if v := testutil.ToFloat64(opts.Metrics.Orphans(agent.ReclaimPodGone)); v != 2 {
		t.Fatalf("pod_gone counter %v, want 2", v)
	}
	if v := testutil.ToFloat64(opts.Metrics.Orphans(agent.ReclaimNetnsGone)); v != 1 {
		t.Fatalf("netns_gone counter %v, want 1", v)
	}
	// A DEL that comes late is still success.
	if err := a.Del(ctx, w.Request("c2")); err != nil {
		t.Fatal(err)
	}
}

func TestReclaimKeepsAttachmentsWhileThePodSourceIsDown(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1", "c2")
	w.Pods.Delete("acme", "pod-c1")
	w.Pods.SetDown(true)
	got, err := reclaimed(t, w.Agent)
	if len(got) != 0 || err == nil || !strings.Contains(err.Error(), "kept until the pod can be read") {
		t.Fatalf("with the API server down: reclaimed %v, %v; want nothing and an error saying why", got, err)
	}
	if len(w.Agent.Checkpoints()) != 2 {
		t.Fatal("an attachment was removed on an unreachable pod source")
	}
	w.Pods.SetDown(false)
	if got, err := reclaimed(t, w.Agent); err != nil || !reflect.DeepEqual(got, []string{"c1:pod_gone"}) {
		t.Fatalf("after the API server is back: %v, %v; want c1", got, err)
	}
}

func TestReclaimGoesOnPastFailuresAndRetries(t *testing.T) {
	w := agenttest.NewWorld(t)
	added(t, w, "c1", "c2")
	w.Pods.Delete("acme", "pod-c1")
	w.Pods.Delete("acme", "pod-c2")
	w.DP.FailNext(fakedp.OpDetach, nil)
	got, err := reclaimed(t, w.Agent)
	wantCode(t, err, wire.CodeDataplane, "c1")
	if !reflect.DeepEqual(got, []string{"c2:pod_gone"}) {
		t.Fatalf("reclaimed %v, want c2 (c1's detach failed)", got)
	}
	if got, err := reclaimed(t, w.Agent); err != nil || !reflect.DeepEqual(got, []string{"c1:pod_gone"}) {
		t.Fatalf("the next pass: %v, %v; want c1", got, err)
	}
}

// TestReclaimDelegateAttachments: behind Multus a pod has one attachment per delegate, each its own
// checkpoint; when the pod goes without a DEL, every one of them is reclaimed (the pod is read
// once), and a live pod's delegate attachments stay.
func TestReclaimDelegateAttachments(t *testing.T) {
	w := agenttest.NewWorld(t)
	reg := prometheus.NewRegistry()
	opts := agenttest.Options()
	opts.Metrics = agent.NewMetrics(reg)
	opts.NetnsExists = func(p string) bool { return w.DP.Links(p) != nil }
	a, err := agent.New(w.Dataplane, w.Pods, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2"} {
		w.Pods.Put("acme", "pod-"+id, "", multiNIC)
		for _, d := range []struct{ ifName, network string }{{"net1", "acme/vl"}, {"net2", "acme/mv"}} {
			req := w.AddRequest(id, "acme", "pod-"+id)
			req.IfName, req.Network = d.ifName, d.network
			if _, err := a.Add(ctx, req); err != nil {
				t.Fatalf("ADD %s %s: %v", id, d.ifName, err)
			}
		}
	}
	w.Pods.Delete("acme", "pod-c1")
	got, err := reclaimed(t, a)
	if err != nil || !reflect.DeepEqual(got, []string{"c1:pod_gone", "c1:pod_gone"}) {
		t.Fatalf("reclaimed %v, %v; want both of c1's delegate attachments", got, err)
	}
	if n := len(w.DP.Links(w.Netns("c1"))); n != 0 {
		t.Fatalf("c1 keeps %d links", n)
	}
	var left []string
	for _, cp := range a.Checkpoints() {
		left = append(left, cp.ContainerID+"@"+cp.IfName)
	}
	if strings.Join(left, " ") != "c2@net1 c2@net2" || len(w.DP.Links(w.Netns("c2"))) != 2 {
		t.Fatalf("checkpoints %v and c2's links %+v, want c2's two attachments whole", left, w.DP.Links(w.Netns("c2")))
	}
	if v := testutil.ToFloat64(opts.Metrics.Orphans(agent.ReclaimPodGone)); v != 2 {
		t.Fatalf("pod_gone counter %v, want 2", v)
	}
}
