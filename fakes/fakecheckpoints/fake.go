// Package fakecheckpoints is an in-memory agent.CheckpointStore with fault injection: writes that
// fail, and a crash that loses what was not written durably.
package fakecheckpoints

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
)

// Version is the format version the fake stamps on what it saves, as the file store does.
const Version = 1

// Fake keeps checkpoints in memory, copied in and out so that callers never share them. It is safe
// for concurrent use.
type Fake struct {
	mu sync.Mutex
	// cur is what Load and List see; durable is what survives Crash.
	cur, durable map[wire.Attachment][]byte
	// corrupt are entries List reports as unreadable.
	corrupt              map[string]bool
	failSave, failRemove error
}

var _ agent.CheckpointStore = (*Fake)(nil)

// New returns an empty store.
func New() *Fake {
	return &Fake{cur: map[wire.Attachment][]byte{}, durable: map[wire.Attachment][]byte{}, corrupt: map[string]bool{}}
}

// FailSave makes every Save fail with err (nil heals), as a full or read-only disk does.
func (f *Fake) FailSave(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failSave = err
}

// FailRemove makes every Remove fail with err (nil heals).
func (f *Fake) FailRemove(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRemove = err
}

// Corrupt adds an unreadable entry named name, which List skips and reports.
func (f *Fake) Corrupt(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.corrupt[name] = true
}

// Crash forgets every write that was not durable, as a power cut does to the file store: a
// non-durable Save comes back as the previous durable content (or nothing). Removals are kept
// only if the entry was never durable, matching the file store's unsynced removal: a removed
// checkpoint may come back.
func (f *Fake) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = map[wire.Attachment][]byte{}
	for k, v := range f.durable {
		f.cur[k] = v
	}
}

// Load implements agent.CheckpointStore.
func (f *Fake) Load(a wire.Attachment) (agent.Checkpoint, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.cur[a]
	if !ok {
		return agent.Checkpoint{}, false, nil
	}
	var cp agent.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return agent.Checkpoint{}, false, fmt.Errorf("checkpoint %s@%s: %w", a.ContainerID, a.IfName, err)
	}
	return cp, true, nil
}

// Save implements agent.CheckpointStore.
func (f *Fake) Save(cp agent.Checkpoint, durable bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSave != nil {
		return fmt.Errorf("writing checkpoint: %w", f.failSave)
	}
	cp.Version = Version
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	f.cur[cp.Key()] = b
	if durable {
		f.durable[cp.Key()] = b
	}
	return nil
}

// Remove implements agent.CheckpointStore.
func (f *Fake) Remove(a wire.Attachment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failRemove != nil {
		return fmt.Errorf("removing checkpoint: %w", f.failRemove)
	}
	delete(f.cur, a)
	return nil
}

// List implements agent.CheckpointStore.
func (f *Fake) List() ([]agent.Checkpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]agent.Checkpoint, 0, len(f.cur))
	var errs []error
	for k, b := range f.cur {
		var cp agent.Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s@%s: %w", k.ContainerID, k.IfName, err))
			continue
		}
		out = append(out, cp)
	}
	for _, name := range slices.Sorted(maps.Keys(f.corrupt)) {
		errs = append(errs, fmt.Errorf("checkpoint %s: corrupt", name))
	}
	agent.SortCheckpoints(out)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return out, errors.Join(errs...)
}
