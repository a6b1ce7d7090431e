package agent

import (
	"slices"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// admit applies the node's two rules for a new attachment cp, before anything of it is built:
//
//   - One container, one pod-wide attachment. A configuration without "network" builds all of the
//     pod's interfaces, so a second ifname for the same container is refused; delegate-mode
//     attachments (one network each) may share a container if their interfaces differ.
//   - One pod, one live sandbox. An attachment of the same pod UID in another container whose
//     namespace still exists refuses the ADD until that sandbox is deleted: the two would carry the
//     same addresses and MAC on the same segment. An older sandbox whose namespace is gone holds
//     nothing on the segment any more; its DEL, GC or the restart reconcile removes its checkpoint.
//
// A deleted attachment whose teardown is pending is not counted: its links are out of reach.
//
// The caller holds the container's lock and the pod's (a.uidLocks), so concurrent ADDs of one pod
// are decided one at a time.
func (a *Agent) admit(cp Checkpoint) error {
	a.mu.Lock()
	others := make([]Checkpoint, 0, 4)
	for k, o := range a.index {
		if k != cp.Key() && !o.Teardown && (o.ContainerID == cp.ContainerID || o.Plan.Pod.UID == cp.Plan.Pod.UID) {
			others = append(others, o)
		}
	}
	a.mu.Unlock()
	sortCheckpoints(others)
	for _, o := range others {
		if o.ContainerID == cp.ContainerID {
			if o.Network == "" || cp.Network == "" {
				return coded(wire.CodeInvalidEnv, model.Invalid("CNI_IFNAME",
					"container %s is already attached on %s, and a configuration without \"network\" attaches all of a pod's interfaces at once; DEL %s first, or give each attachment its own network (delegate mode)",
					cp.ContainerID, o.IfName, o.IfName))
			}
			for _, l := range cp.Plan.Links {
				if slices.ContainsFunc(o.Plan.Links, func(x plan.Link) bool { return x.PodIf == l.PodIf || x.PortID == l.PortID }) {
					return coded(wire.CodeInvalidEnv, model.Invalid("CNI_IFNAME",
						"container %s's interface %s is already attached as %s; each attachment needs its own interface", cp.ContainerID, l.PodIf, o.IfName))
				}
			}
			continue
		}
		if a.netnsExists(o.Plan.Netns) {
			return model.Errorf(model.CodeConflict, "K8S_POD_UID",
				"pod %s/%s (UID %s) is already attached in sandbox %s (%s); a pod has one live sandbox: the runtime must DEL the old one first, then retry",
				cp.Plan.Pod.Namespace, cp.Plan.Pod.Name, cp.Plan.Pod.UID, o.ContainerID, o.Plan.Netns)
		}
	}
	return nil
}
