package manager_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// ack is one node watch of node's agent that reports applied and answers at once; it returns the
// node set's revision.
func ack(t *testing.T, m *manager.Manager, node, applied string) string {
	t.Helper()
	_, rev, _, err := m.WatchNodes(context.Background(), node, applied, "")
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// gateNow asks the gate without waiting: the agents behind at this moment.
func gateNow(t *testing.T, m *manager.Manager, node string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	behind, err := m.WaitPeersApplied(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	return behind
}

// A new node's gate waits until every live agent — its own included — reports, with its next node
// watch, that it has applied the node set holding the registration; one that had not when the wait
// ended is named and counted.
func TestPeerGateWaitsForEveryLiveAgent(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	reg := prometheus.NewRegistry()
	m, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), Now: clk.Now, Metrics: manager.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	activate(t, m, store)
	for _, n := range []struct{ name, vtep string }{{"node-1", "192.168.0.1"}, {"node-2", "192.168.0.2"}} {
		if err := register(t, m, n.name, n.vtep); err != nil {
			t.Fatal(err)
		}
	}
	old := ack(t, m, "node-1", "")
	ack(t, m, "node-1", old)
	ack(t, m, "node-2", old)
	if behind := gateNow(t, m, "node-1"); len(behind) != 0 {
		t.Fatalf("both agents applied node-1: behind = %v", behind)
	}

	if err := register(t, m, "node-3", "192.168.0.3"); err != nil {
		t.Fatal(err)
	}
	rev := ack(t, m, "node-3", "")
	if want := []string{"node-1", "node-2", "node-3"}; !slices.Equal(gateNow(t, m, "node-3"), want) {
		t.Fatalf("nobody applied node-3 yet: behind = %v, want %v", gateNow(t, m, "node-3"), want)
	}
	if n := gateTimeouts(t, reg); n != 1 {
		t.Fatalf("knitter_manager_peer_gate_timeouts_total = %v, want 1", n)
	}
	// node-1 is not held up by node-3's registration: every agent applied node-1's long ago...
	// except node-3, which has applied nothing yet.
	if behind := gateNow(t, m, "node-1"); !slices.Equal(behind, []string{"node-3"}) {
		t.Fatalf("node-1's gate: behind = %v, want [node-3]", behind)
	}
	ack(t, m, "node-3", rev)

	got := make(chan []string, 1)
	go func() {
		behind, err := m.WaitPeersApplied(context.Background(), "node-3")
		if err != nil {
			t.Error(err)
		}
		got <- behind
	}()
	ack(t, m, "node-1", rev)
	select {
	case b := <-got:
		t.Fatalf("the gate answered %v with node-2 behind", b)
	default:
	}
	ack(t, m, "node-2", rev) // wakes the waiting gate
	if b := <-got; len(b) != 0 {
		t.Fatalf("every agent applied node-3: behind = %v", b)
	}
}

func gateTimeouts(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "knitter_manager_peer_gate_timeouts_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("knitter_manager_peer_gate_timeouts_total is not exported")
	return 0
}

// An agent that stopped watching more than AgentLive ago is not waited for, nor is a registered
// node no agent has watched from since the activation began that long ago.
func TestPeerGateSkipsStoppedAgents(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	for _, n := range []struct{ name, vtep string }{{"node-1", "192.168.0.1"}, {"node-2", "192.168.0.2"}, {"node-3", "192.168.0.3"}} {
		if err := register(t, m, n.name, n.vtep); err != nil {
			t.Fatal(err)
		}
	}
	rev := ack(t, m, "node-3", "")
	ack(t, m, "node-3", rev)
	ack(t, m, "node-1", "") // node-1 watched once, applying nothing; node-2 never watched
	if want := []string{"node-1", "node-2"}; !slices.Equal(gateNow(t, m, "node-3"), want) {
		t.Fatalf("behind = %v, want %v", gateNow(t, m, "node-3"), want)
	}
	clk.Advance(manager.AgentLive + time.Second)
	ack(t, m, "node-3", rev)
	if behind := gateNow(t, m, "node-3"); len(behind) != 0 {
		t.Fatalf("node-1 and node-2 have been silent for over %v: behind = %v", manager.AgentLive, behind)
	}
}

// After a restart (a new manager process over the same store) or a reload, the agents it has not
// heard from yet are behind, not gone: a node registered right after it has to wait for them. A
// revision from before the reload is not applied in the new one.
func TestPeerGateAfterRestart(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	for _, n := range []struct{ name, vtep string }{{"node-1", "192.168.0.1"}, {"node-2", "192.168.0.2"}} {
		if err := register(t, m, n.name, n.vtep); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	m2 := newManager(t, store, clk) // the restarted process
	if err := register(t, m2, "node-3", "192.168.0.3"); err != nil {
		t.Fatal(err)
	}
	rev := ack(t, m2, "node-3", "")
	ack(t, m2, "node-3", rev)
	if want := []string{"node-1", "node-2"}; !slices.Equal(gateNow(t, m2, "node-3"), want) {
		t.Fatalf("right after a restart: behind = %v, want %v", gateNow(t, m2, "node-3"), want)
	}
	ack(t, m2, "node-1", rev)
	ack(t, m2, "node-2", rev)
	if behind := gateNow(t, m2, "node-3"); len(behind) != 0 {
		t.Fatalf("behind = %v after both applied", behind)
	}

	// A reload in the same process: revisions of the old activation are applied in none.
	activate(t, m2, store)
	if want := []string{"node-1", "node-2", "node-3"}; !slices.Equal(gateNow(t, m2, "node-3"), want) {
		t.Fatalf("after a reload: behind = %v, want %v", gateNow(t, m2, "node-3"), want)
	}
	next := ack(t, m2, "node-1", rev)
	if next == rev {
		t.Fatal("the reload kept the revision")
	}
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		ack(t, m2, n, next)
	}
	if behind := gateNow(t, m2, "node-3"); len(behind) != 0 {
		t.Fatalf("behind = %v after all applied the new activation's set", behind)
	}
	if _, err := m2.WaitPeersApplied(context.Background(), "node-9"); err == nil {
		t.Fatal("the gate of an unregistered node answered")
	}
}
