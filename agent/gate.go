package agent

import (
	"context"
	"time"

	"github.com/knitter-cni/knitter/core/model"
)

// PeerGateWait bounds how long an ADD waits for the peer gate.
const PeerGateWait = 2 * time.Second

// Outcomes of the peer gate, as knitter_agent_peer_gate_total counts them.
const (
	GatePassed  = "passed"  // every live agent had applied this node's registration
	GateTimeout = "timeout" // some had not within PeerGateWait; the ADD went on
	GateError   = "error"   // the manager could not answer; the ADD went on
)

// peerGate holds an overlay ADD, for at most PeerGateWait, until the manager says every live agent
// — this one included — has applied a node set holding this node's registration. Then every peer's
// VXLAN devices flood to this node and this node's flood to every peer that has registered before
// it, so the pod's first packet from any node is delivered, also on a node that joined a moment
// ago or right after a manager restart. Once passed, the gate is not asked again while this node's
// registration stays as it is (a peer keeps it in every later node set; a restarted peer or manager
// starts from the whole set), so the common ADD makes no extra call; a node set without this node,
// or with another VTEP for it, opens the gate again. A gate that times out or fails
// is logged and counted, and the ADD goes on: it is a bound, not a precondition.
func (a *Agent) peerGate(ctx context.Context, networks map[string]model.Network) {
	overlay := false
	for _, n := range networks {
		overlay = overlay || n.Type == model.Overlay
	}
	if !overlay {
		return
	}
	a.mu.Lock()
	passed := a.gated
	a.mu.Unlock()
	if passed {
		return
	}
	behind, err := a.mgr.WaitPeersApplied(ctx, a.node.Name, PeerGateWait)
	switch {
	case err != nil:
		a.metrics.gate(GateError)
		a.log.Warn("cannot ask knitter-manager whether every node knows this one; the pod's first packets from other nodes may be lost",
			"node", a.node.Name, "err", err)
	case len(behind) > 0:
		a.metrics.gate(GateTimeout)
		a.log.Warn("nodes have not applied this node's registration yet; the pod's first packets from them may be lost",
			"node", a.node.Name, "behind", behind, "waited", PeerGateWait)
	default:
		a.metrics.gate(GatePassed)
		a.mu.Lock()
		a.gated = true
		a.mu.Unlock()
	}
}
