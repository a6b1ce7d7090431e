package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// Plant names a bug planted on purpose to prove that the invariants catch it.
type Plant string

// The planted bugs. Each is injected around the real shells, never inside them.
const (
	PlantNone Plant = ""
	// PlantNoCooldown runs the manager without cooldown while the invariants expect the configured
	// one: a released address is handed out again at once.
	PlantNoCooldown Plant = "no-cooldown"
	// PlantReleaseByName makes the workload release a pod by its namespace/name, finding the newest
	// pod of that name: when a name is reused, deleting the old pod frees the new pod's ports.
	PlantReleaseByName Plant = "release-by-name"
	// PlantAckFailedWrite is a store that acknowledges a write that failed: the manager keeps serving
	// state that the store does not hold.
	PlantAckFailedWrite Plant = "ack-failed-write"
	// PlantLostCheckpoint makes a restarted agent lose its checkpoint store: it no longer knows the
	// sandboxes it built, so their DEL leaves the links behind.
	PlantLostCheckpoint Plant = "lost-checkpoint"
	// PlantReuseBeforeDEL releases a deleted pod's ports before its sandbox's CNI DEL ran (the DEL
	// comes 0.5-3 s later), with the cooldown configured off: the address goes to another pod while
	// the old sandbox still carries it.
	PlantReuseBeforeDEL Plant = "reuse-before-del"
	// PlantSkipFencing is a store that does not fence: a manager whose session ended (a partition)
	// keeps writing, and never learns its term is over, while a new manager serves.
	PlantSkipFencing Plant = "skip-fencing"
	// PlantReleaseOnDEL makes a CNI DEL release the pod's ports at the manager, as a plugin that
	// frees addresses on DEL would: when a node reboot makes the runtime recreate a pod's sandbox
	// (the old sandbox's DEL, then an ADD for the same pod), the pod comes back with new addresses.
	PlantReleaseOnDEL Plant = "release-on-del"
	// PlantStaleNetwork makes every agent's manager client keep the first answer it got for each
	// network and give it ever after: a network deleted and created again under its name (another
	// VNI, VLAN or type) is built on the old segment (sim/netchurn.go).
	PlantStaleNetwork Plant = "stale-network"
	// PlantNoSticky runs the manager with sticky TTL 0 while the invariants expect the default: a
	// StatefulSet member's released addresses cool down instead of waiting for its successor.
	PlantNoSticky Plant = "no-sticky"
	// PlantReleaseNodeSkipsPod makes a removed node's release a client's loop over the pods bound
	// to it that skips the first, and leaves the node's record.
	PlantReleaseNodeSkipsPod Plant = "release-node-skips-pod"
	// PlantNodeRecordKept makes a removed node's release free every pod bound to it but never
	// delete its record (no ReleaseNode).
	PlantNodeRecordKept Plant = "node-record-kept"
)

// Plants lists every planted bug with what it does.
func Plants() map[Plant]string {
	return map[Plant]string{
		PlantNoCooldown:          "the manager runs with cooldown 0 while the invariants expect the configured cooldown",
		PlantReleaseByName:       "the workload releases the newest pod with a name instead of the pod it deletes",
		PlantAckFailedWrite:      "the store acknowledges a failed write, so the manager serves state the store lacks",
		PlantLostCheckpoint:      "a restarted agent has lost its checkpoints, so DEL leaves the sandbox's links (needs --nodes)",
		PlantSkipFencing:         "the store does not fence ended terms, so a partitioned manager keeps writing beside the new one (needs --nodes)",
		PlantReleaseOnDEL:        "the DEL of a sandbox the runtime recreates after a node reboot releases the pod's ports, so the pod comes back with other addresses (needs --nodes)",
		PlantStaleNetwork:        "the agents' manager client caches each network's first answer forever, so a network created again under its name is built on the old segment (needs --nodes and --network-churn)",
		PlantReleaseNodeSkipsPod: "a removed node's release frees the pods bound to it one by one, skipping the first, and keeps its record (needs --node-churn)",
		PlantNodeRecordKept:      "a removed node's release frees the pods bound to it one by one but never deletes its record (needs --node-churn)",
		PlantNoSticky:            "the manager runs with sticky TTL 0, so a StatefulSet member's successor gets other addresses (needs --statefulsets)",
		PlantReuseBeforeDEL:      "with cooldown off, a delete releases the ports before the sandbox's DEL ran, so an address is reused while the old sandbox has it (needs --nodes, not --monitor)",
	}
}

// PlantNames returns the plants' names, sorted.
func PlantNames() []string {
	var names []string
	for p := range Plants() {
		names = append(names, string(p))
	}
	sort.Strings(names)
	return names
}

// ParsePlant checks a --plant value.
func ParsePlant(name string) (Plant, error) {
	if name == "" {
		return PlantNone, nil
	}
	if _, ok := Plants()[Plant(name)]; !ok {
		return "", fmt.Errorf("plant: unknown %q; use one of %v", name, PlantNames())
	}
	return Plant(name), nil
}

// lyingStore wraps memstore so that every write reports success, whether or not it landed.
type lyingStore struct{ *memstore.Store }

func (l *lyingStore) Campaign(ctx context.Context, id string) (manager.Term, error) {
	t, err := l.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return &lyingTerm{Term: t}, nil
}

type lyingTerm struct{ manager.Term }

// Err hides a term ended by a failed write, as a store that lost track of it would.
func (t *lyingTerm) Err() error { return nil }

func (t *lyingTerm) Reserve() (manager.Slot, error) {
	s, err := t.Term.Reserve()
	if err != nil {
		return nil, err
	}
	return lyingSlot{s}, nil
}

type lyingSlot struct{ manager.Slot }

func (s lyingSlot) Submit(muts []alloc.Mutation) manager.Write {
	s.Slot.Submit(muts).Wait() // the outcome is thrown away
	return ackedWrite{}
}

type ackedWrite struct{}

func (ackedWrite) Wait() error { return nil }

func (ackedWrite) Done() <-chan struct{} { return ackedDone }

var ackedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// unfencedStore hands out terms that do not report an expired session, over a store that does not
// fence.
type unfencedStore struct{ *memstore.Store }

func (u *unfencedStore) Campaign(ctx context.Context, id string) (manager.Term, error) {
	t, err := u.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return &unfencedTerm{Term: t}, nil
}

type unfencedTerm struct{ manager.Term }

// Err hides an expired session (the manager does not learn of it; only the store's fence would have
// stopped its writes); a failed write still ends the term.
func (t *unfencedTerm) Err() error {
	if err := t.Term.Err(); err != nil && !errors.Is(err, memstore.ErrSessionLost) {
		return err
	}
	return nil
}

// Lost never fires, for the same reason.
func (t *unfencedTerm) Lost() <-chan struct{} { return nil }

// releaseNodeCmd is the release of a removed node: the manager's ReleaseNode (DELETE
// /api/v1/nodes/NAME), or with PlantReleaseNodeSkipsPod and PlantNodeRecordKept a client's
// ReleasePod of each pod bound to it (skipping the first with the former), the record left.
func (wl *workload) releaseNodeCmd(mgr *manager.Manager, nd *node) error {
	ctx := context.Background()
	if wl.plant != PlantReleaseNodeSkipsPod && wl.plant != PlantNodeRecordKept {
		_, err := mgr.Do(ctx, alloc.ReleaseNodeCmd{As: alloc.AsSystem, Name: nd.name})
		return err
	}
	var uids []string
	if err := mgr.View(func(s *alloc.State) {
		for _, p := range s.Ports(alloc.System, alloc.PortFilter{Node: nd.name}) {
			if !slices.Contains(uids, p.Pod.UID) {
				uids = append(uids, p.Pod.UID)
			}
		}
	}); err != nil {
		return err
	}
	slices.Sort(uids)
	if wl.plant == PlantReleaseNodeSkipsPod && len(uids) > 0 {
		wl.w.Record("planted skip of %s in the release of %s", uids[0], nd.name)
		uids = uids[1:]
	}
	for _, uid := range uids {
		if _, err := mgr.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: uid}); err != nil {
			return err
		}
	}
	return nil
}
