package agent_test

import (
	"context"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
)

// countingManager counts the node watches and the full node sets they brought.
type countingManager struct {
	agent.ManagerClient
	watches, full, nodes int
}

func (c *countingManager) WatchNodes(ctx context.Context, node, applied, since string) (agent.NodeSet, error) {
	set, err := c.ManagerClient.WatchNodes(ctx, node, applied, since)
	c.watches++
	if set.Changed {
		c.full++
	}
	c.nodes += len(set.Nodes)
	return set, err
}

// An agent learns a new peer from a watch by revision, and an unchanged node set costs no list.
func TestPeersAreWatchedByRevision(t *testing.T) {
	w := agenttest.NewWorld(t)
	mgr := &countingManager{ManagerClient: w.Mgr.Port()}
	a, err := agent.New(w.DP, w.Pods, mgr, w.Store, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	w.Agent = a
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	added(t, w, "c1")
	for range 4 {
		if err := a.PollPeers(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Heartbeat(ctx); err != nil { // heartbeats change nothing
			t.Fatal(err)
		}
	}
	if mgr.watches != 4 || mgr.full != 1 || mgr.nodes != 2 {
		t.Fatalf("4 watches brought %d full sets with %d nodes in all; want 1 set of the 2 nodes", mgr.full, mgr.nodes)
	}
	if got := peers(w); got != "192.168.0.2" {
		t.Fatalf("peers %q", got)
	}
	w.Mgr.Register(t, "node-3", "192.168.0.3")
	if err := a.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if got := peers(w); got != "192.168.0.2,192.168.0.3" || mgr.full != 2 {
		t.Fatalf("after node-3 registered: peers %q, %d full sets; want both peers from one more set", got, mgr.full)
	}
}
