// Package monitortest has the monitor's fakes: a Manager that runs core/alloc in memory, with a
// switch that makes it unavailable and a count of its calls.
package monitortest

import (
	"context"
	"sync"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

// Manager is the fake Manager port: knitter-manager's own state machine without HTTP or a store.
type Manager struct {
	// PageSize is how many ports each page of Ports has; 0 means all in one.
	PageSize int

	mu    sync.Mutex
	state *alloc.State
	now   func() time.Time
	down  bool
	calls map[string]int
}

var _ monitor.Manager = (*Manager)(nil)

// NewManager returns an empty manager whose clock is now.
func NewManager(cfg alloc.Config, now func() time.Time) (*Manager, error) {
	s, err := alloc.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Manager{state: s, now: now, calls: map[string]int{}}, nil
}

// SetDown makes every call fail as an unreachable manager does (true), or serve again.
func (f *Manager) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Calls returns how many times the method was called (down or not).
func (f *Manager) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Do runs fn on the state under the lock, after advancing its clock; for a test's setup and checks.
func (f *Manager) Do(fn func(s *alloc.State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Tick(model.FromTime(f.now()))
	fn(f.state)
}

func (f *Manager) enter(method string) (unlock func(), err error) {
	f.mu.Lock()
	f.calls[method]++
	if f.down {
		f.mu.Unlock()
		return nil, monitor.ErrUnavailable
	}
	f.state.Tick(model.FromTime(f.now()))
	return f.mu.Unlock, nil
}

// AllocatePod implements monitor.Manager.
func (f *Manager) AllocatePod(_ context.Context, r alloc.PodRequest) (model.Pod, bool, error) {
	unlock, err := f.enter("AllocatePod")
	if err != nil {
		return model.Pod{}, false, err
	}
	defer unlock()
	_, existed := f.state.Pod(r.Pod.UID)
	p, _, err := f.state.AllocatePod(alloc.System, r)
	return p, err == nil && !existed, err
}

// Pod implements monitor.Manager.
func (f *Manager) Pod(_ context.Context, uid string) (model.Pod, error) {
	unlock, err := f.enter("Pod")
	if err != nil {
		return model.Pod{}, err
	}
	defer unlock()
	p, ok := f.state.Pod(uid)
	if !ok {
		return model.Pod{}, model.Errorf(model.CodeNotFound, "uid", "pod %s has no ports; allocate them first", uid)
	}
	return p, nil
}

// ReleasePod implements monitor.Manager.
func (f *Manager) ReleasePod(_ context.Context, uid string) error {
	unlock, err := f.enter("ReleasePod")
	if err != nil {
		return err
	}
	defer unlock()
	_, _, err = f.state.ReleasePod(alloc.System, uid)
	return err
}

// Tenant implements monitor.Manager.
func (f *Manager) Tenant(_ context.Context, name string) (model.Tenant, error) {
	unlock, err := f.enter("Tenant")
	if err != nil {
		return model.Tenant{}, err
	}
	defer unlock()
	t, ok := f.state.Tenant(name)
	if !ok {
		return model.Tenant{}, model.Errorf(model.CodeNotFound, "tenant", "tenant %s does not exist; create it first", name)
	}
	return t, nil
}

// Ports implements monitor.Manager.
func (f *Manager) Ports(_ context.Context, node string, page func([]model.Port)) error {
	unlock, err := f.enter("Ports")
	if err != nil {
		return err
	}
	ports := f.state.Ports(alloc.System, alloc.PortFilter{Node: node})
	unlock()
	n := f.PageSize
	if n <= 0 {
		n = len(ports)
	}
	for len(ports) > 0 {
		k := min(n, len(ports))
		page(ports[:k])
		ports = ports[k:]
	}
	return nil
}
