package agent

import (
	"slices"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/plan"
)

// Checkpoint is what the agent remembers of one attachment: enough to return the same ADD result
// again, check the links, and tear them down with nothing else reachable.
type Checkpoint struct {
	// Version is the store's format version; the store sets it when it writes.
	Version     int    `json:"version"`
	ContainerID string `json:"container_id"`
	IfName      string `json:"ifname"`
	// Config is the name of the network configuration that made it; a GC call only considers
	// the checkpoints of its own configuration, as the CNI specification says. A checkpoint written
	// before configurations were recorded has none, and only DEL or the restart reconcile remove it.
	Config string `json:"config,omitempty"`
	// Network is the delegate-mode network of the configuration that made it ("" for the pod's
	// whole set).
	Network string `json:"network,omitempty"`
	// Ready is set once the links are built and the ports bound. A checkpoint that is not ready is
	// an ADD in progress, or one a crash cut short: a repeated ADD builds it again.
	Ready bool `json:"ready"`
	// Teardown is set when a DEL answered with the links quiesced but not yet removed (deferred
	// teardown, teardown.go): the attachment is gone for every CNI verb, and its links are still to be
	// removed, by RunTeardowns or whoever meets them first.
	Teardown bool        `json:"teardown,omitempty"`
	Plan     plan.Pod    `json:"plan"`
	Result   wire.Result `json:"result"`
}

// Key names the checkpoint's attachment.
func (c *Checkpoint) Key() wire.Attachment {
	return wire.Attachment{ContainerID: c.ContainerID, IfName: c.IfName}
}

// CheckpointStore keeps the agent's checkpoints across restarts. The real adapter is
// adapters/checkpoint (one file per attachment); fakes/fakecheckpoints keeps them in memory. Both
// pass agent/porttest's contract. The agent calls it for one attachment at a time.
type CheckpointStore interface {
	// Load returns the checkpoint of a; ok is false when there is none.
	Load(a wire.Attachment) (cp Checkpoint, ok bool, err error)
	// Save writes cp atomically: after a crash the store holds the old checkpoint or the new one,
	// never a mix. Durable also makes it survive a crash once Save returns; without it a crash may
	// bring back the previous content (the agent writes the ready mark that way: a checkpoint that
	// comes back not ready costs one idempotent rebuild).
	Save(cp Checkpoint, durable bool) error
	// Remove deletes the checkpoint of a; a missing one is success.
	Remove(a wire.Attachment) error
	// List returns every readable checkpoint sorted by container ID and ifname, and an error naming
	// each one that could not be read (those are skipped and kept).
	List() ([]Checkpoint, error)
}

// SortCheckpoints sorts cps by container ID, then ifname: the order List returns.
func SortCheckpoints(cps []Checkpoint) { sortCheckpoints(cps) }

// withoutPeers returns cp with no VXLAN flood list in its plan (cp's own links are not changed).
func (cp Checkpoint) withoutPeers() Checkpoint {
	links := slices.Clone(cp.Plan.Links)
	for i, l := range links {
		if l.VXLAN != nil && l.VXLAN.Peers != nil {
			vx := *l.VXLAN
			vx.Peers = nil
			links[i].VXLAN = &vx
		}
	}
	cp.Plan.Links = links
	return cp
}
