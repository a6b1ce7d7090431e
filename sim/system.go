package sim

import (
	"context"
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// system is the control plane under test: the real manager shell over the in-memory store. A crash
// drops the manager object; a restart builds a new one that knows only what the store holds.
type system struct {
	w     *World
	cfg   alloc.Config // the configuration the invariants expect
	mcfg  alloc.Config // the configuration the manager runs with (a plant may differ)
	store *memstore.Store
	port  manager.Store // what the manager campaigns on: the store, or a planted wrapper of it
	mgr   *manager.Manager
	term  manager.Term
	gen   int // manager incarnations, for names and the trace
	// zombie is a manager cut off from its store session that the first node's agent still reaches
	// (a partition); nil when there is none.
	zombie *manager.Manager
	// changed runs after a start or a crash (the agents' clients follow the running manager).
	changed func()
}

func (s *system) notify() {
	if s.changed != nil {
		s.changed()
	}
}

func newSystem(w *World, cfg, mcfg alloc.Config, plant Plant) *system {
	s := &system{w: w, cfg: cfg, mcfg: mcfg, store: memstore.New()}
	s.port = s.store
	switch plant {
	case PlantAckFailedWrite:
		s.port = &lyingStore{Store: s.store}
	case PlantSkipFencing:
		s.store.SetUnfenced(true)
		s.port = &unfencedStore{Store: s.store}
	}
	return s
}

// start builds a new manager incarnation (a process start); it serves after the next lead step.
func (s *system) start() error {
	s.gen++
	m, err := manager.New(manager.Options{Alloc: s.mcfg, Now: s.w.Clock})
	if err != nil {
		return fmt.Errorf("starting manager %d: %w", s.gen, err)
	}
	s.mgr, s.term = m, nil
	s.notify()
	return nil
}

// crash drops the running manager: its memory is gone, its term ends as its session would.
func (s *system) crash() {
	if s.mgr == nil {
		return
	}
	if s.term != nil && s.term.Err() == nil {
		s.store.LoseTerm()
	}
	s.mgr, s.term = nil, nil
	s.notify()
}

// partition cuts the running manager off: its store session expires, a new manager will start, and
// until heal the first node's agent still reaches the old one, which must find its writes fenced.
func (s *system) partition() {
	if s.mgr == nil {
		return
	}
	z := s.mgr
	s.crash()
	s.zombie = z
	s.notify()
}

// heal ends a partition: the old manager is gone.
func (s *system) heal() {
	if s.zombie != nil {
		s.zombie = nil
		s.notify()
	}
}

// lead is the leader loop as one step: a manager that does not serve campaigns and activates. Over
// memstore Campaign returns at once (there is one manager), so it never blocks.
func (s *system) lead() string {
	if s.mgr == nil {
		return "down"
	}
	if ok, _ := s.mgr.Ready(); ok {
		return "serving"
	}
	ctx := context.Background()
	if s.term == nil || s.term.Err() != nil {
		t, err := s.port.Campaign(ctx, fmt.Sprintf("manager-%d", s.gen))
		if err != nil {
			return "campaign failed"
		}
		s.term = t
	}
	if err := s.mgr.Activate(ctx, s.term); err != nil {
		return "activate failed: " + err.Error()
	}
	return "activated"
}

// serving reports whether a manager serves now.
func (s *system) serving() bool {
	if s.mgr == nil {
		return false
	}
	ok, _ := s.mgr.Ready()
	return ok
}

// live returns the manager's state described, without its clock line, or ok false when it does not
// serve.
func (s *system) live() (desc string, ok bool) {
	if s.mgr == nil {
		return "", false
	}
	if err := s.mgr.View(func(st *alloc.State) { desc = st.Describe() }); err != nil {
		return "", false
	}
	return dropNow(desc), true
}

// stored returns the state a restart would load from the store, described without its clock line.
func (s *system) stored() (string, error) {
	st, err := alloc.Restore(s.mcfg, s.store.Records())
	if err != nil {
		return "", err
	}
	return dropNow(st.Describe()), nil
}

func dropNow(desc string) string {
	if strings.HasPrefix(desc, "now ") {
		if i := strings.IndexByte(desc, '\n'); i >= 0 {
			return desc[i+1:]
		}
	}
	return desc
}
