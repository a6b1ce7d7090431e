package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

// quiescing is the in-memory dataplane made a Quiescer, as the netlink one is: Quiesce records the
// pods it took out of reach (or refuses when refuse is set), and every Detach is signalled on
// detached when that is set.
type quiescing struct {
	*fakedp.Fake
	mu       sync.Mutex
	quiesced []string
	refuse   bool
	detached chan string
}

func (q *quiescing) Quiesce(_ context.Context, pod plan.Pod) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.refuse {
		return false, nil
	}
	q.quiesced = append(q.quiesced, pod.ContainerID)
	return true, nil
}

func (q *quiescing) Detach(ctx context.Context, pod plan.Pod) error {
	err := q.Fake.Detach(ctx, pod)
	if q.detached != nil {
		q.detached <- pod.ContainerID
	}
	return err
}

func (q *quiescing) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.quiesced)
}

// deferring replaces w's agent by one that defers teardowns over a quiescing w.DP.
func deferring(t *testing.T, w *agenttest.World) *quiescing {
	t.Helper()
	q := &quiescing{Fake: w.DP}
	w.Agent = restartDeferring(t, w, q)
	return q
}

// restartDeferring is a new agent process over w's store and q, with deferred teardown.
func restartDeferring(t *testing.T, w *agenttest.World, q *quiescing) *agent.Agent {
	t.Helper()
	opts := agenttest.Options()
	opts.NetnsExists = func(p string) bool { return w.DP.Links(p) != nil }
	opts.DeferTeardown = true
	a, err := agent.New(q, w.Pods, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func pendingTeardowns(a *agent.Agent) int {
	n := 0
	for _, cp := range a.Checkpoints() {
		if cp.Teardown {
			n++
		}
	}
	return n
}

func TestDeferredDelAnswersWithLinksDownThenRemovesThem(t *testing.T) {
	w := agenttest.NewWorld(t)
	q := deferring(t, w)
	added(t, w, "c1")
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatal(err)
	}
	if q.count() != 1 || w.Attached() != 1 || pendingTeardowns(w.Agent) != 1 || len(files(t, w)) != 1 {
		t.Fatalf("DEL did not defer: quiesced %d, attached %d, pending %d, files %d", q.count(), w.Attached(), pendingTeardowns(w.Agent), len(files(t, w)))
	}
	// Deleted for every verb: CHECK does not know it, a second DEL succeeds and quiesces nothing.
	wantCode(t, w.Agent.Check(ctx, w.Request("c1")), wire.CodeUnknownContainer, "ADD it first")
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil || q.count() != 1 {
		t.Fatalf("second DEL: %v, quiesced %d", err, q.count())
	}
	if err := w.Agent.FinishTeardowns(ctx); err != nil {
		t.Fatal(err)
	}
	if w.Attached() != 0 || len(files(t, w)) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatal("FinishTeardowns left links or checkpoints")
	}
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatalf("DEL after the teardown: %v", err)
	}
}

func TestDeferredDelOnlyWhenQuiescedAndAsked(t *testing.T) {
	w := agenttest.NewWorld(t)
	q := deferring(t, w)
	q.refuse = true
	added(t, w, "c1")
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatal(err)
	}
	if w.Attached() != 0 || len(files(t, w)) != 0 {
		t.Fatal("a DEL the dataplane could not quiesce did not remove the links before answering")
	}
	// Without Options.DeferTeardown a Quiescer is never asked.
	q.refuse = false
	opts := agenttest.Options()
	a, err := agent.New(q, w.Pods, w.Mgr.Port(), w.Store, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Agent = a
	added(t, w, "c2")
	if err := a.Del(ctx, w.Request("c2")); err != nil {
		t.Fatal(err)
	}
	if q.count() != 0 || w.Attached() != 0 || len(files(t, w)) != 0 {
		t.Fatalf("DEL without DeferTeardown: quiesced %d, attached %d", q.count(), w.Attached())
	}
}

func TestAddFinishesThePendingTeardownItCouldMeet(t *testing.T) {
	for _, tc := range []struct {
		name string
		// second is the ADD after c1's deferred DEL.
		second func(w *agenttest.World) wire.Request
	}{
		{"same container and namespace", func(w *agenttest.World) wire.Request { return w.AddRequest("c1", "acme", "web") }},
		{"another container in the same namespace", func(w *agenttest.World) wire.Request {
			r := w.AddRequest("c2", "acme", "web")
			r.Netns = w.Netns("c1")
			return r
		}},
		{"a new sandbox of the same pod", func(w *agenttest.World) wire.Request { return w.AddRequest("c2", "acme", "web") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := agenttest.NewWorld(t)
			deferring(t, w)
			w.Pods.Put("acme", "web", "uid-web", multiNIC)
			if _, err := w.Agent.Add(ctx, w.AddRequest("c1", "acme", "web")); err != nil {
				t.Fatal(err)
			}
			if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
				t.Fatal(err)
			}
			old := w.DP.Calls(fakedp.OpDetach)
			req := tc.second(w)
			if _, err := w.Agent.Add(ctx, req); err != nil {
				t.Fatal(err)
			}
			if got := w.DP.Calls(fakedp.OpDetach) - old; got != 1 {
				t.Fatalf("ADD detached %d times, want the pending teardown once", got)
			}
			if pendingTeardowns(w.Agent) != 0 || len(w.Agent.Checkpoints()) != 1 || len(w.DP.Links(req.Netns)) != 3 {
				t.Fatalf("after the ADD: pending %d, checkpoints %d, links in its namespace %v",
					pendingTeardowns(w.Agent), len(w.Agent.Checkpoints()), w.DP.Links(req.Netns))
			}
			if err := w.Agent.Check(ctx, wire.Request{ContainerID: req.ContainerID, IfName: "eth0", Netns: req.Netns}); err != nil {
				t.Fatalf("CHECK of the new attachment: %v", err)
			}
		})
	}
}

func TestRestartFinishesPendingTeardownsAtReclaim(t *testing.T) {
	w := agenttest.NewWorld(t)
	q := deferring(t, w)
	added(t, w, "c1", "c2")
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatal(err)
	}
	// The process dies before its worker ran; the next one reclaims at start.
	a := restartDeferring(t, w, q)
	if pendingTeardowns(a) != 1 {
		t.Fatalf("restart lost the pending teardown: %d", pendingTeardowns(a))
	}
	gone, err := a.Reclaim(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 0 {
		t.Fatalf("reclaim reported %v as orphans; a finished teardown is a DEL's", gone)
	}
	if w.Attached() != 1 || len(a.Checkpoints()) != 1 || a.Checkpoints()[0].ContainerID != "c2" {
		t.Fatalf("after reclaim: attached %d, checkpoints %v", w.Attached(), a.Checkpoints())
	}
}

func TestRunTeardownsRetriesAFailedRemoval(t *testing.T) {
	w := agenttest.NewWorld(t)
	q := deferring(t, w)
	q.detached = make(chan string, 4)
	added(t, w, "c1")
	w.DP.FailNext(fakedp.OpDetach, nil)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Agent.RunTeardowns(runCtx)
	}()
	if err := w.Agent.Del(ctx, w.Request("c1")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the failed removal, then its retry
		select {
		case <-q.detached:
		case <-time.After(10 * time.Second):
			t.Fatalf("RunTeardowns made %d removals in 10 s, want 2", i)
		}
	}
	cancel()
	<-done
	if w.Attached() != 0 || len(files(t, w)) != 0 || len(w.Agent.Checkpoints()) != 0 {
		t.Fatal("the retried teardown left links or checkpoints")
	}
}
