// Package fakemanager is knitter-agent's ManagerClient port over an in-process manager: the same
// core and manager shell as knitter-manager, without HTTP, with an outage switch. The simulator
// and the agent's tests drive it on one goroutine.
package fakemanager

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/manager"
)

// Client calls M as a system token (an agent's) would.
type Client struct {
	M *manager.Manager
	// Wait is how long WatchNodes waits for a change; 0 answers at once.
	Wait time.Duration
	// Block, when set, is how WaitPeersApplied waits instead (Wait is not used for it): it must let
	// the world run until done holds or bound has passed. The simulator steps its other events in
	// it, so that the agents behind apply the node set while the peer gate waits, on one goroutine.
	Block func(done func() bool, bound time.Duration)
	down  atomic.Bool
}

var _ agent.ManagerClient = (*Client)(nil)

// New returns a client of m.
func New(m *manager.Manager) *Client { return &Client{M: m} }

// SetDown makes every call fail as an unreachable manager does (true), or serve again (false).
func (c *Client) SetDown(down bool) { c.down.Store(down) }

func (c *Client) check() error {
	if c.down.Load() {
		return fmt.Errorf("%w: knitter-manager does not answer", agent.ErrUnavailable)
	}
	return nil
}

// view reads the manager's state; a manager that cannot serve reads is unavailable.
func (c *Client) view(fn func(s *alloc.State) error) error {
	if err := c.check(); err != nil {
		return err
	}
	var ferr error
	if err := c.M.View(func(s *alloc.State) { ferr = fn(s) }); err != nil {
		return err
	}
	return ferr
}

func (c *Client) do(ctx context.Context, cmd alloc.Command) (any, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.M.Do(ctx, cmd)
}

// Pod implements agent.ManagerClient.
func (c *Client) Pod(_ context.Context, uid string) (pod model.Pod, err error) {
	err = c.view(func(s *alloc.State) error {
		var ok bool
		if pod, ok = s.Pod(uid); !ok {
			return model.Errorf(model.CodeNotFound, "uid", "pod %s has no ports; allocate them first", uid)
		}
		return nil
	})
	return pod, err
}

// AllocatePod implements agent.ManagerClient.
func (c *Client) AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, error) {
	res, err := c.do(ctx, alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: r})
	if err != nil {
		return model.Pod{}, err
	}
	return res.(model.Pod), nil
}

// BindPod implements agent.ManagerClient: the bind, then the networks of the pod's ports read from
// the same manager, as the REST server answers ?include=networks.
func (c *Client) BindPod(ctx context.Context, uid, node string) (agent.Binding, error) {
	res, err := c.do(ctx, alloc.BindPodCmd{As: alloc.AsSystem, UID: uid, Node: node})
	if err != nil {
		return agent.Binding{}, err
	}
	b := agent.Binding{Pod: res.(model.Pod), Networks: map[string]model.Network{}}
	err = c.view(func(s *alloc.State) error {
		for _, p := range b.Pod.Ports {
			tenant, name, _ := strings.Cut(p.Network, "/")
			if n, ok := s.Network(tenant, name); ok {
				b.Networks[p.Network] = n
			}
		}
		return nil
	})
	return b, err
}

// Tenant implements agent.ManagerClient.
func (c *Client) Tenant(_ context.Context, name string) (t model.Tenant, err error) {
	err = c.view(func(s *alloc.State) error {
		var ok bool
		if t, ok = s.Tenant(name); !ok {
			return model.Errorf(model.CodeNotFound, "name", "tenant %q does not exist", name)
		}
		return nil
	})
	return t, err
}

// Network implements agent.ManagerClient.
func (c *Client) Network(_ context.Context, tenant, name string) (n model.Network, err error) {
	err = c.view(func(s *alloc.State) error {
		var ok bool
		if n, ok = s.Network(tenant, name); !ok {
			return model.Errorf(model.CodeNotFound, "name", "network %s/%s does not exist", tenant, name)
		}
		return nil
	})
	return n, err
}

// RegisterNode implements agent.ManagerClient.
func (c *Client) RegisterNode(ctx context.Context, n model.Node) error {
	_, err := c.do(ctx, alloc.RegisterNodeCmd{As: alloc.AsSystem, Node: n})
	return err
}

// WatchNodes implements agent.ManagerClient: it waits up to Wait (0: not at all, so that a test on
// one goroutine never blocks) for the node set to change.
func (c *Client) WatchNodes(ctx context.Context, node, applied, since string) (agent.NodeSet, error) {
	if err := c.check(); err != nil {
		return agent.NodeSet{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Wait)
	defer cancel()
	nodes, rev, changed, err := c.M.WatchNodes(ctx, node, applied, since)
	return agent.NodeSet{Revision: rev, Changed: changed, Nodes: nodes}, err
}

// WaitPeersApplied implements agent.ManagerClient. It waits up to the smaller of wait and Wait, so
// that with Wait 0 a test on one goroutine never blocks: it gets the agents behind at once.
func (c *Client) WaitPeersApplied(ctx context.Context, node string, wait time.Duration) ([]string, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Block != nil {
		var behind []string
		var err error
		c.Block(func() bool {
			if err = c.check(); err == nil {
				behind, err = c.M.WaitPeersApplied(ended, node)
			}
			return err != nil || len(behind) == 0
		}, wait)
		return behind, err
	}
	ctx, cancel := context.WithTimeout(ctx, min(wait, c.Wait))
	defer cancel()
	return c.M.WaitPeersApplied(ctx, node)
}

// ended is a context that has ended: the manager's wait answers at once with it.
var ended = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
