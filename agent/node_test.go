package agent_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/fakes/fakedp"
)

func TestStatusFollowsRegistration(t *testing.T) {
	w := agenttest.NewWorld(t)
	if err := w.Agent.Status(); err != nil {
		t.Fatalf("status after a heartbeat: %v", err)
	}
	w.Mgr.SetDown(true)
	a := w.NewAgent(t)
	wantCode(t, a.Status(), wire.CodePluginNotAvailable, "no heartbeat yet")
	if err := a.Heartbeat(ctx); err == nil {
		t.Fatal("heartbeat succeeded with the manager down")
	}
	wantCode(t, a.Status(), wire.CodePluginNotAvailable, agenttest.NodeName, "unavailable")
	w.Mgr.SetDown(false)
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Status(); err != nil {
		t.Fatal(err)
	}
	// A manager outage later does not take the node out of service: DEL and repeated ADDs work.
	w.Mgr.SetDown(true)
	_ = a.Heartbeat(ctx)
	if err := a.Status(); err != nil {
		t.Fatalf("status after a failed heartbeat of a registered node: %v", err)
	}
}

func TestPollPeersProgramsOverlaysInUse(t *testing.T) {
	w := agenttest.NewWorld(t)
	w.Mgr.Register(t, "node-2", "192.168.0.2")
	if err := w.Agent.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if s := w.DP.Calls(fakedp.OpSyncPeers); s != 0 {
		t.Fatalf("%d syncs with no overlay in use", s)
	}
	added(t, w, "c1", "c2") // both on the overlay VNI
	if got := peers(w); got != "192.168.0.2" {
		t.Fatalf("after ADD the VXLAN device's peers are %q, want the peer known at ADD time", got)
	}
	if err := w.Agent.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if s := w.DP.Calls(fakedp.OpSyncPeers); s != 1 || peers(w) != "192.168.0.2" {
		t.Fatalf("%d syncs, peers %v; want one sync of VNI %d with 192.168.0.2", s, peers(w), agenttest.VNI)
	}
	if err := w.Agent.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if s := w.DP.Calls(fakedp.OpSyncPeers); s != 1 {
		t.Fatalf("%d syncs after an unchanged poll, want 1", s)
	}
	w.Mgr.Register(t, "node-3", "192.168.0.3")
	w.Mgr.Register(t, "node-6", "fd00::6") // another family: not a peer of an IPv4 VTEP
	if err := w.Agent.PollPeers(ctx); err != nil {
		t.Fatal(err)
	}
	if got := peers(w); got != "192.168.0.2,192.168.0.3" {
		t.Fatalf("peers %s, want 192.168.0.2,192.168.0.3", got)
	}
	w.Mgr.SetDown(true)
	if err := w.Agent.PollPeers(ctx); err == nil {
		t.Fatal("poll succeeded with the manager down")
	}
	if got := peers(w); got != "192.168.0.2,192.168.0.3" {
		t.Fatalf("a failed poll changed the peers to %s", got)
	}
}

// peers is the flood list of the world's overlay VXLAN device.
func peers(w *agenttest.World) string {
	vx, _ := w.DP.Link("", fmt.Sprintf("knvx-%d", agenttest.VNI))
	s := make([]string, len(vx.FDB))
	for i, a := range vx.FDB {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
