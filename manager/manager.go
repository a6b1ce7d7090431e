package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Options configure a Manager.
type Options struct {
	Alloc alloc.Config
	// Now is the clock; nil means time.Now. The manager reads no other clock.
	Now func() time.Time
	// AdminToken is the bearer string of the built-in admin; empty disables it.
	AdminToken string
	Logger     *slog.Logger
	Metrics    *Metrics // nil: no metrics
}

// Manager serves the allocation state. It is safe for concurrent use, and it starts no goroutine:
// every call does its work on the caller's goroutine, so a test or the simulator can drive it step
// by step.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu  sync.RWMutex
	act *activation // nil while not serving (standby, or after the term's write failed)
	why string      // why act is nil, for Ready

	nodes nodeWatch
}

// activation is the manager serving one store term: the state loaded in that term, and the channel
// closed when serving in it ends. Every write is reserved in the activation's term, so a failure can
// end only the activation it belongs to.
type activation struct {
	term  Term
	state *alloc.State
	done  chan struct{}
	at    time.Time // when it began
}

// closed is the Done channel of a term the manager does not serve in.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// New returns an inactive manager; Activate loads its state.
func New(opts Options) (*Manager, error) {
	if err := opts.Alloc.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts, log: opts.Logger, why: "not activated yet"}, nil
}

// Activate ends the current activation, if any, loads the state of term t and serves it. The leader
// calls it each time it wins an election, with the term Campaign returned. Expiries that fell due
// while no manager served are persisted before the state is served; if that write fails, the manager
// does not serve and Activate returns the error.
func (m *Manager) Activate(ctx context.Context, t Term) error {
	start := m.opts.Now()
	m.mu.Lock()
	m.endLocked(m.act, "reloading")
	m.mu.Unlock()
	recs, err := t.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	s, err := alloc.Restore(m.opts.Alloc, recs)
	if err != nil {
		return err
	}
	// Cooldowns and holds that ended while no manager was active end now. Nothing else can reach s
	// yet, so waiting here holds no lock.
	if muts := s.Tick(model.FromTime(m.opts.Now())); len(muts) > 0 {
		slot, err := t.Reserve()
		if err != nil {
			return fmt.Errorf("persisting expiries: %w", err)
		}
		if err := slot.Submit(muts).Wait(); err != nil {
			return fmt.Errorf("persisting expiries: %w", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := t.Err(); err != nil {
		return fmt.Errorf("the store term ended while loading: %w", err)
	}
	m.endLocked(m.act, "reloading")
	m.act, m.why = &activation{term: t, state: s, done: make(chan struct{}), at: m.opts.Now()}, ""
	took := m.opts.Now().Sub(start)
	m.log.Info("state loaded", "records", len(recs), "pods", len(s.Pods()), "took", took.Round(time.Millisecond))
	m.opts.Metrics.observeLoad(took, len(recs))
	return nil
}

// Deactivate stops serving in term t (its leadership was lost); the reason shows in Ready. It does
// nothing when the manager serves another term, or none.
func (m *Manager) Deactivate(t Term, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.act != nil && m.act.term == t {
		m.endLocked(m.act, reason)
	}
}

// end ends act if it is still the current activation.
func (m *Manager) end(act *activation, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLocked(act, reason)
}

func (m *Manager) endLocked(act *activation, reason string) {
	if act == nil || m.act != act {
		return // an older activation: the current one is not its to end
	}
	m.log.Warn("stopped serving", "reason", reason)
	close(act.done)
	m.act, m.why = nil, reason
}

// Done returns a channel closed when the manager stops serving in term t: Deactivate, a failed write
// of that term, or a newer Activate. If it does not serve in t, the channel is already closed.
func (m *Manager) Done(t Term) <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.act == nil || m.act.term != t {
		return closed
	}
	return m.act.done
}

// Ready reports whether the manager serves, and why not.
func (m *Manager) Ready() (bool, string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.act != nil, m.why
}

func unavailable(why string) error {
	return model.Errorf(model.CodeUnavailable, "", "knitter-manager cannot serve now (%s); retry shortly", why)
}

// Do applies one command and returns its result once its mutations are durable: Start followed by
// Op.Finish. A command the core refuses returns the core's *model.Error and changes nothing. ctx is
// looked at once, before the command is applied: a caller that goes away later does not withdraw it,
// and waiting for the store is bounded by the store's own write timeout. If the store's write fails,
// the manager stops serving in that term (the state it holds may be ahead of the store) and the
// caller gets a CodeUnavailable error: the command may or may not have landed, and retrying is safe
// because every command is idempotent or reports a conflict. A full write queue also answers
// CodeUnavailable, having changed nothing.
func (m *Manager) Do(ctx context.Context, c alloc.Command) (any, error) {
	return m.Start(ctx, c).Finish()
}

// Op is a command the manager has applied in memory (or refused) whose store write may still be on
// its way. Start returns it without blocking; Finish gives the command's outcome.
type Op struct {
	m     *Manager
	c     alloc.Command
	start time.Time
	act   *activation
	res   any
	err   error
	w     Write // nil: nothing to persist, or refused
	out   bool  // Finish has run
}

// Start applies one command in memory and submits its mutations to the store, without waiting for
// them to be durable; it never blocks on the store. The caller learns the outcome with Finish, which
// blocks until the write is durable or has failed; Done tells, without blocking, when Finish would
// return at once. A caller on one goroutine (the simulator) drives a slow store by completing its
// writes as steps and calling Finish after Done is closed. Every Op must be finished: a failed
// write ends the term's activation in Finish. Writes are durable in the order Start applied them, so
// a command observed in memory by a later Start is durable no later than that later command.
func (m *Manager) Start(ctx context.Context, c alloc.Command) *Op {
	op := &Op{m: m, c: c, start: m.opts.Now()}
	if err := ctx.Err(); err != nil {
		op.err = err
		return op
	}
	op.act, op.res, op.w, op.err = m.apply(c)
	if rc, ok := c.(alloc.RegisterNodeCmd); ok && op.err == nil {
		m.nodes.heartbeat(rc.Node.Name, m.opts.Now())
	}
	return op
}

// Done returns a channel closed when the command's outcome is known: Finish then returns without
// blocking.
func (op *Op) Done() <-chan struct{} {
	if op.w == nil {
		return closed
	}
	return op.w.Done()
}

// Finish waits until the command's write is durable or has failed, and returns the command's result
// as Do does. A failed write ends the activation of its term. Calling Finish again returns the same
// outcome. An Op belongs to the goroutine that started it: Finish is not safe to call from two
// goroutines at once.
func (op *Op) Finish() (any, error) {
	if op.out {
		return op.res, op.err
	}
	op.out = true
	m := op.m
	if op.w != nil {
		if werr := op.w.Wait(); werr != nil {
			m.end(op.act, fmt.Sprintf("store write failed: %v", werr))
			op.err = unavailable(fmt.Sprintf("store write failed: %v", werr))
		}
	}
	m.opts.Metrics.observe(op.c, op.err, m.opts.Now().Sub(op.start))
	if op.err != nil {
		op.res = nil
		return nil, op.err
	}
	return op.res, nil
}

// apply runs c on the state and submits its mutations in the activation's term, under the lock, so
// that the store's order is the state machine's order. Nothing under the lock waits: the queue slot
// is reserved before the state changes, and a full queue refuses the command untouched.
func (m *Manager) apply(c alloc.Command) (*activation, any, Write, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	act := m.act
	if act == nil {
		return nil, nil, nil, unavailable(m.why)
	}
	if terr := act.term.Err(); terr != nil {
		m.endLocked(act, fmt.Sprintf("store term ended: %v", terr))
		return nil, nil, nil, unavailable(m.why)
	}
	slot, serr := act.term.Reserve()
	switch {
	case errors.Is(serr, ErrQueueFull):
		return nil, nil, nil, unavailable("the store's write queue is full")
	case serr != nil:
		m.endLocked(act, fmt.Sprintf("store refused a write: %v", serr))
		return nil, nil, nil, unavailable(m.why)
	}
	muts := act.state.Tick(model.FromTime(m.opts.Now()))
	res, cmdMuts, err := act.state.Apply(c)
	muts = append(muts, cmdMuts...)
	if pod, ok := res.(model.Pod); ok && len(cmdMuts) > 0 {
		if _, first := c.(alloc.AllocatePodCmd); first {
			m.opts.Metrics.allocated(len(pod.Ports))
		}
	}
	if len(muts) == 0 {
		slot.Cancel()
		return act, res, nil, err
	}
	if nodes := nodesTouched(muts); len(nodes) > 0 {
		m.nodes.bump(act, m.opts.Now(), nodes)
	}
	return act, res, slot.Submit(muts), err
}

// Tick advances the state to the clock's time, persisting the cooldowns and holds that end. The
// manager's main loop calls it every second so expiries land even when no command arrives.
func (m *Manager) Tick(ctx context.Context) error {
	_, err := m.Do(ctx, alloc.TickCmd{Now: model.FromTime(m.opts.Now())})
	return err
}

// View runs fn on the state under a read lock. fn must not keep references into the state.
func (m *Manager) View(fn func(s *alloc.State)) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.act == nil {
		return unavailable(m.why)
	}
	fn(m.act.state)
	return nil
}

// Run ticks every interval until ctx ends; errors (a standby's) are expected and ignored. It is the
// production loop around Tick; tests and the simulator call Tick themselves.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ok, _ := m.Ready(); ok {
				if err := m.Tick(ctx); err != nil && !errors.Is(err, model.ErrUnavailable) {
					m.log.Warn("tick failed", "err", err)
				}
			}
		}
	}
}
