package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// gateCounter counts the peer-gate calls.
type gateCounter struct {
	agent.ManagerClient
	gates int
}

func (c *gateCounter) WaitPeersApplied(ctx context.Context, node string, wait time.Duration) ([]string, error) {
	c.gates++
	return c.ManagerClient.WaitPeersApplied(ctx, node, wait)
}

// An overlay ADD asks the peer gate until it passes, and then not again while this node's
// registration stays as it is; a node set with another VTEP for this node opens it again. A gate
// that does not pass (a peer behind) lets the ADD go on and is asked again by the next ADD.
func TestPeerGateIsAskedUntilItPasses(t *testing.T) {
	w := agenttest.NewWorld(t)
	mgr := &gateCounter{ManagerClient: w.Mgr.Port()}
	a, err := agent.New(w.DP, w.Pods, mgr, w.Store, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	w.Agent = a
	poll := func() {
		t.Helper()
		for range 2 { // learn the set, then report it applied
			if err := a.PollPeers(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	// node-2's agent watches but has applied nothing: the gate does not pass (the fake manager
	// does not wait), the ADDs go on, and each asks again.
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	set, err := w.Mgr.Port().WatchNodes(ctx, "node-2", "", "")
	if err != nil {
		t.Fatal(err)
	}
	poll()
	added(t, w, "c1", "c2")
	if mgr.gates != 2 {
		t.Fatalf("with node-2 behind two ADDs asked the gate %d times, want 2", mgr.gates)
	}
	// node-2 applies: the next ADD passes, and the one after does not ask.
	if _, err := w.Mgr.Port().WatchNodes(ctx, "node-2", set.Revision, ""); err != nil {
		t.Fatal(err)
	}
	added(t, w, "c3", "c4")
	if mgr.gates != 3 {
		t.Fatalf("after node-2 applied, two ADDs brought the gate calls to %d, want 3", mgr.gates)
	}
	w.Mgr.Register(t, agenttest.NodeName, "192.168.0.9") // this node's record changes
	poll()
	added(t, w, "c5")
	if mgr.gates != 4 {
		t.Fatalf("after this node's record changed the gate was asked %d times in all, want 4", mgr.gates)
	}
}

// joiningManager registers a new node before every watch, as a booting cluster does, and records
// when each watch came.
type joiningManager struct {
	agent.ManagerClient
	t      *testing.T
	w      *agenttest.World
	at     []time.Time
	cancel context.CancelFunc
}

func (j *joiningManager) WatchNodes(ctx context.Context, node, applied, since string) (agent.NodeSet, error) {
	j.at = append(j.at, time.Now())
	if len(j.at) == 5 {
		j.cancel()
	}
	j.w.Mgr.Register(j.t, fmt.Sprintf("node-%d", len(j.at)+1), fmt.Sprintf("192.168.0.%d", len(j.at)+1))
	return j.ManagerClient.WatchNodes(ctx, node, applied, since)
}

// While the node set changes on every watch, Run pauses PeerBatch after each changed answer before
// it watches again (rather than fetching the whole set once per round trip).
func TestRunBatchesChangedNodeSets(t *testing.T) {
	w := agenttest.NewWorld(t)
	runCtx, cancel := context.WithCancel(context.Background())
	mgr := &joiningManager{ManagerClient: w.Mgr.Port(), t: t, w: w, cancel: cancel}
	a, err := agent.New(w.DP, w.Pods, mgr, w.Store, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	const batch = 40 * time.Millisecond
	a.Run(runCtx, agent.Intervals{Heartbeat: time.Hour, PeerBatch: batch})
	if len(mgr.at) != 5 {
		t.Fatalf("%d watches, want 5", len(mgr.at))
	}
	for i := 1; i < len(mgr.at); i++ {
		if gap := mgr.at[i].Sub(mgr.at[i-1]); gap < batch {
			t.Fatalf("watch %d came %v after the changed answer before it; want at least %v", i+1, gap, batch)
		}
	}
}

// savingStore records the flood list of every checkpoint an agent saves, by container.
type savingStore struct {
	agent.CheckpointStore
	peers map[string][]int // container -> the peers of its VXLAN links, per save
}

func (s *savingStore) Save(cp agent.Checkpoint, durable bool) error {
	for _, l := range cp.Plan.Links {
		if l.VXLAN != nil {
			s.peers[cp.ContainerID] = append(s.peers[cp.ContainerID], len(l.VXLAN.Peers))
		}
	}
	return s.CheckpointStore.Save(cp, durable)
}

// The first pod on a VNI carries the node's peers in its plan (its ADD creates the device); a pod
// on a VNI whose device already floods to them carries none, in no checkpoint, and the device
// still floods to every peer. A node that joins reaches both through SyncPeers.
func TestProgrammedPeersStayOutOfPlans(t *testing.T) {
	w := agenttest.NewWorld(t)
	st := &savingStore{CheckpointStore: w.Store, peers: map[string][]int{}}
	a, err := agent.New(w.DP, w.Pods, w.Mgr.Port(), st, agenttest.Options())
	if err != nil {
		t.Fatal(err)
	}
	w.Agent = a
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	w.Mgr.Register(t, "node-3", "192.168.0.3")
	if err := a.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	added(t, w, "c1")
	if err := a.PollPeers(ctx); err != nil { // programs the VNI c1 brought
		t.Fatal(err)
	}
	added(t, w, "c2")
	if got := st.peers["c1"]; len(got) == 0 || got[0] != 2 {
		t.Fatalf("c1's not-ready checkpoint flooded to %v peers, want 2 (the device is new)", got)
	}
	for _, n := range st.peers["c2"] {
		if n != 0 {
			t.Fatalf("c2's checkpoints carried %v peers; want none: the device floods to them already", st.peers["c2"])
		}
	}
	if got := peers(w); got != "192.168.0.2,192.168.0.3" {
		t.Fatalf("the device floods to %q", got)
	}
	w.Mgr.Register(t, "node-4", "192.168.0.4")
	if err := a.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	added(t, w, "c3")
	if got := peers(w); got != "192.168.0.2,192.168.0.3,192.168.0.4" {
		t.Fatalf("after node-4 joined the device floods to %q", got)
	}
}
