package model

import "net/netip"

// Node is a host that runs knitter-agent. VTEP is the underlay address other nodes send its VXLAN
// traffic to.
type Node struct {
	Name string     `json:"name"`
	VTEP netip.Addr `json:"vtep,omitzero"`
	// Heartbeat is when the node was registered or its VTEP last changed. Liveness (the agent's
	// periodic check-in) is kept in the manager's memory, not here.
	Heartbeat Time `json:"heartbeat,omitempty"`
}

// Validate checks the node's fields.
func (n *Node) Validate() error {
	if err := ValidateNodeName("name", n.Name); err != nil {
		return err
	}
	if n.VTEP.IsValid() && (n.VTEP.IsUnspecified() || n.VTEP.IsMulticast()) {
		return Invalid("vtep", "%s cannot carry VXLAN traffic; give the node's underlay unicast address", n.VTEP)
	}
	return nil
}
