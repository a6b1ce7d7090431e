package sim

import (
	"context"
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// system is the control plane under test: one or more real manager shells over the in-memory
// store, each its own process with its own store client, campaigning for the one leadership. A
// crash drops a manager object; a restart builds a new one that knows only what the store holds.
// The clients (agents, the monitor) follow the leader: the manager that activated last, until it
// crashes or another activates.
type system struct {
	w     *World
	cfg   alloc.Config // the configuration the invariants expect
	mcfg  alloc.Config // the configuration the managers run with (a plant may differ)
	plant Plant
	store *memstore.Store // the data every manager's client shares; the invariants read it
	procs []*mgrProc      // one per manager process slot
	// mgr is the manager the clients call: the leader's, or nil when none has activated since the
	// last one crashed.
	mgr    *manager.Manager
	leader *mgrProc
	gen    int // manager incarnations, for names and the trace
	// last is the slot that activated last (-1 before any); failovers counts activations of a slot
	// other than the one that led before.
	last, failovers int
	// zombie is a manager cut off from its store session that the first standing node's agent
	// still reaches (a partition); nil when there is none.
	zombie *manager.Manager
	// changed runs after a start, a crash, a failover or a partition (the clients follow the
	// leader).
	changed func()
	// links, with network faults, are the links between the components (sim/netfaults.go).
	links *links
}

// mgrProc is one manager process slot: down (mgr nil), a standby, or the leader.
type mgrProc struct {
	slot int
	gen  int
	id   string
	mgr  *manager.Manager
	port manager.Store // this process's store client, or a planted wrapper of it
	term manager.Term  // the term it serves in, nil as a standby
	// cut is a partition between this process and the store: it neither campaigns nor notices its
	// term ended until the partition heals.
	cut bool
	// storeCut: a network partition cuts this process's store link (sim/netfaults.go); like cut,
	// until it heals.
	storeCut bool
}

func (s *system) notify() {
	if s.changed != nil {
		s.changed()
	}
}

// newSystem builds a control plane of n manager slots (n < 1 means 1), none started yet.
func newSystem(w *World, cfg, mcfg alloc.Config, plant Plant, n ...int) *system {
	s := &system{w: w, cfg: cfg, mcfg: mcfg, plant: plant, store: memstore.New(), last: -1}
	if plant == PlantSkipFencing {
		s.store.SetUnfenced(true)
	}
	slots := 1
	if len(n) > 0 && n[0] > 1 {
		slots = n[0]
	}
	for i := range slots {
		s.procs = append(s.procs, &mgrProc{slot: i})
	}
	return s
}

// portFor is a new process's store client: a session of its own, or a planted wrapper of it.
func (s *system) portFor() manager.Store {
	c := s.store.Peer()
	switch s.plant {
	case PlantAckFailedWrite:
		return &lyingStore{Store: c}
	case PlantSkipFencing:
		return &unfencedStore{Store: c}
	}
	return c
}

// start starts the first manager slot that is down (a process start); it serves after a lead step
// wins it the leadership.
func (s *system) start() error {
	for _, p := range s.procs {
		if p.mgr == nil {
			return s.restart(p)
		}
	}
	return nil
}

// startAll starts every slot that is down.
func (s *system) startAll() error {
	for _, p := range s.procs {
		if p.mgr == nil {
			if err := s.restart(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// restart starts slot p's process again, if it is down.
func (s *system) restart(p *mgrProc) error {
	if p.mgr != nil {
		return nil
	}
	s.gen++
	m, err := manager.New(manager.Options{Alloc: s.mcfg, Now: s.w.Clock})
	if err != nil {
		return fmt.Errorf("starting manager %d: %w", s.gen, err)
	}
	p.gen, p.id, p.mgr, p.port, p.term, p.cut = s.gen, fmt.Sprintf("manager-%d", s.gen), m, s.portFor(), nil, false
	if len(s.procs) == 1 {
		// One manager: the clients reach it even before it serves (it answers unavailable).
		s.mgr, s.leader = m, p
	}
	s.notify()
	return nil
}

// crash drops the leader's process: its memory is gone, its term ends as its session would. It
// returns the slot that crashed, nil when no leader runs.
func (s *system) crash() *mgrProc {
	p := s.leader
	if p == nil || p.mgr == nil {
		return nil
	}
	s.kill(p)
	return p
}

// kill drops slot p's process.
func (s *system) kill(p *mgrProc) {
	if p.term != nil && p.term.Err() == nil {
		s.store.LoseTerm()
	}
	p.mgr, p.term, p.cut = nil, nil, false
	if s.leader == p {
		s.mgr, s.leader = nil, nil
	}
	s.notify()
}

// partition cuts the leader off: its store session expires while the first standing node's agent
// still reaches it, which must find its writes fenced. With one manager slot a new process starts in its
// place (the caller schedules it); with several, a standby takes over and the cut-off manager
// rejoins as a standby when the partition heals. It returns the slot that was cut off.
func (s *system) partition() *mgrProc {
	p := s.leader
	if p == nil || p.mgr == nil {
		return nil
	}
	z := p.mgr
	if len(s.procs) == 1 {
		s.kill(p)
	} else {
		if p.term != nil && p.term.Err() == nil {
			s.store.LoseTerm()
		}
		p.cut = true
		s.mgr, s.leader = nil, nil
	}
	s.zombie = z
	s.notify()
	return p
}

// heal ends a partition: the first node's agent follows the leader again, and a cut-off manager
// reaches the store again.
func (s *system) heal() {
	for _, p := range s.procs {
		p.cut = false
	}
	if s.zombie != nil {
		s.zombie = nil
		s.notify()
	}
}

// lead is every manager's leader loop as one step, as cmd/knitter-manager runs it: a manager whose
// term ended stops serving (Deactivate), one that stopped serving in a live term resigns it, and one
// without a term campaigns when no live term leads and activates what it won. Over memstore
// Campaign returns at once when no live term leads; when one does, a standby does not call it (it
// would wait), so the step never blocks. It returns each slot's state, space-separated.
func (s *system) lead() string {
	var out []string
	for _, p := range s.procs {
		st := s.leadOne(p)
		if len(s.procs) > 1 {
			st = fmt.Sprintf("%d:%s", p.slot+1, st)
		}
		out = append(out, st)
	}
	return strings.Join(out, " ")
}

func (s *system) leadOne(p *mgrProc) string {
	if p.mgr == nil {
		return "down"
	}
	if p.cut || p.storeCut {
		return "cut off"
	}
	ctx := context.Background()
	if p.term != nil {
		if err := p.term.Err(); err != nil {
			p.mgr.Deactivate(p.term, "lost the leadership")
			p.term = nil
		} else if ok, _ := p.mgr.Ready(); ok {
			return "serving"
		} else {
			// It stopped serving in a live term (a failed write, a failed load): give the term up
			// so a standby need not wait for the session to expire, and campaign again.
			_ = p.term.Resign(ctx)
			p.term = nil
		}
	}
	if l := s.store.Leader(); l != "" && l != p.id {
		return "standby"
	}
	t, err := p.port.Campaign(ctx, p.id)
	if err != nil {
		return "campaign failed"
	}
	p.term = t
	if err := p.mgr.Activate(ctx, t); err != nil {
		return "activate failed: " + err.Error()
	}
	if s.last >= 0 && s.last != p.slot {
		s.failovers++
	}
	s.last = p.slot
	if s.leader != p {
		s.mgr, s.leader = p.mgr, p
		s.notify()
	}
	return "activated"
}

// serving reports whether the leader serves now.
func (s *system) serving() bool {
	if s.mgr == nil {
		return false
	}
	ok, _ := s.mgr.Ready()
	return ok
}

// tick is every serving manager's Tick loop as one step; it returns the leader's outcome.
func (s *system) tick() error {
	var lerr error
	for _, p := range s.procs {
		if p.mgr == nil || p.cut || p.storeCut {
			continue
		}
		if ok, _ := p.mgr.Ready(); !ok {
			continue
		}
		if err := p.mgr.Tick(contextBG); p == s.leader {
			lerr = err
		}
	}
	return lerr
}

// live returns the leader's state described, without its clock line, or ok false when it does not
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
