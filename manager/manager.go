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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AdminToken is the bearer string of the built-in admin; empty disables it.
	AdminToken string
	Logger     *slog.Logger
	Metrics    *Metrics // nil: no metrics
}

// Manager serves the allocation state. It is safe for concurrent use.
type Manager struct {
	opts  Options
	store Store
	log   *slog.Logger

	mu    sync.RWMutex
	state *alloc.State  // nil while not active (standby, or after a failed write)
	why   string        // why state is nil, for /readyz
	done  chan struct{} // closed when the current activation ends
}

// New returns an inactive manager; Activate loads its state.
func New(store Store, opts Options) (*Manager, error) {
	if err := opts.Alloc.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	done := make(chan struct{})
	close(done)
	return &Manager{opts: opts, store: store, log: opts.Logger, why: "not activated yet", done: done}, nil
}

// Activate (re)loads the state from the store and starts serving. The leader calls it each time it
// wins an election.
func (m *Manager) Activate(ctx context.Context) error {
	start := time.Now()
	recs, err := m.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	s, err := alloc.Restore(m.opts.Alloc, recs)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deactivateLocked("reloading")
	m.state, m.why, m.done = s, "", make(chan struct{})
	// Cooldowns and holds that ended while no manager was active end now; persist that.
	if muts := s.Tick(model.FromTime(m.opts.Now())); len(muts) > 0 {
		if w, err := m.store.Submit(ctx, muts); err == nil {
			go m.waitTick(w)
		} else {
			m.deactivateLocked(fmt.Sprintf("persisting expiries: %v", err))
			return err
		}
	}
	m.log.Info("state loaded", "records", len(recs), "pods", len(s.Pods()), "took", time.Since(start).Round(time.Millisecond))
	m.opts.Metrics.observeLoad(time.Since(start), len(recs))
	return nil
}

// Deactivate stops serving (leadership lost); the reason shows in Ready.
func (m *Manager) Deactivate(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deactivateLocked(reason)
}

func (m *Manager) deactivateLocked(reason string) {
	if m.state != nil {
		m.log.Warn("stopped serving", "reason", reason)
		close(m.done)
	}
	m.state, m.why = nil, reason
}

// Done returns a channel closed when the current activation ends (Deactivate, or a failed write
// that made the manager stop serving). Before the first activation it is already closed.
func (m *Manager) Done() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.done
}

// Ready reports whether the manager serves, and why not.
func (m *Manager) Ready() (bool, string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state != nil, m.why
}

func unavailable(why string) error {
	return model.Errorf(model.CodeUnavailable, "", "knitter-manager cannot serve now (%s); retry shortly", why)
}

// Do applies one command and returns its result once its mutations are durable. A command the core
// refuses returns the core's *model.Error and changes nothing. If the store fails, the manager stops
// serving until it is activated again (the state it holds may be ahead of the store), and the caller
// gets a CodeUnavailable error: the command may or may not have landed, and retrying is safe because
// every command is idempotent or reports a conflict.
func (m *Manager) Do(ctx context.Context, c alloc.Command) (any, error) {
	start := time.Now()
	res, w, err := m.apply(ctx, c)
	if err == nil && w != nil {
		if err = w.Wait(ctx); err != nil {
			m.writeFailed(err)
			err = unavailable(fmt.Sprintf("store write failed: %v", err))
		}
	}
	m.opts.Metrics.observe(c, err, time.Since(start))
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (m *Manager) apply(ctx context.Context, c alloc.Command) (any, Waiter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == nil {
		return nil, nil, unavailable(m.why)
	}
	muts := m.state.Tick(model.FromTime(m.opts.Now()))
	res, cmdMuts, err := m.state.Apply(c)
	muts = append(muts, cmdMuts...)
	if pod, ok := res.(model.Pod); ok && len(cmdMuts) > 0 {
		if _, first := c.(alloc.AllocatePodCmd); first {
			m.opts.Metrics.allocated(len(pod.Ports))
		}
	}
	if len(muts) == 0 {
		return res, nil, err
	}
	w, serr := m.store.Submit(ctx, muts)
	if serr != nil {
		m.deactivateLocked(fmt.Sprintf("store refused a write: %v", serr))
		return nil, nil, unavailable(m.why)
	}
	return res, w, err
}

func (m *Manager) writeFailed(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deactivateLocked(fmt.Sprintf("store write failed: %v", err))
}

func (m *Manager) waitTick(w Waiter) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		m.writeFailed(err)
	}
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
	if m.state == nil {
		return unavailable(m.why)
	}
	fn(m.state)
	return nil
}

// Run ticks every interval until ctx ends; errors (a standby's) are expected and ignored.
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
