package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// AgentClient adapts the REST client to knitter-agent's ManagerClient port.
type AgentClient struct {
	C *Client
	// Watch makes the node watches, whose requests stay open for up to Wait; nil means C (and a
	// wait kept below C's timeout).
	Watch *Client
	// Wait is how long a node watch waits for a change; 0 means 50 s.
	Wait time.Duration
}

var _ agent.ManagerClient = AgentClient{}

// unavailable re-marks the client's "retry later" errors with agent.ErrUnavailable, keeping
// the client's message (which already says to retry) as the whole text.
func agentUnavailable(err error) error {
	if err != nil && errors.Is(err, ErrUnavailable) {
		return agentRetryLater{err}
	}
	return err
}

// agentRetryLater matches both agent.ErrUnavailable and the error it wraps, and reads as the latter.
type agentRetryLater struct{ err error }

func (e agentRetryLater) Error() string   { return e.err.Error() }
func (e agentRetryLater) Unwrap() []error { return []error{agent.ErrUnavailable, e.err} }

// Pod implements agent.ManagerClient.
func (m AgentClient) Pod(ctx context.Context, uid string) (model.Pod, error) {
	p, err := m.C.GetPod(ctx, uid)
	return p, agentUnavailable(err)
}

// AllocatePod implements agent.ManagerClient.
func (m AgentClient) AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, error) {
	p, _, err := m.C.AllocatePod(ctx, r)
	return p, agentUnavailable(err)
}

// BindPod implements agent.ManagerClient with one request, POST /api/v1/pods/{uid}/bind
// ?include=networks. A manager older than the parameter refuses it (400 include); then the plain
// bind, and the agent reads the networks itself.
func (m AgentClient) BindPod(ctx context.Context, uid, node string) (agent.Binding, error) {
	b, err := m.C.BindPodNetworks(ctx, uid, node)
	var me *model.Error
	if errors.As(err, &me) && me.Code == model.CodeInvalid && me.Field == "include" {
		p, err := m.C.BindPod(ctx, uid, node)
		return agent.Binding{Pod: p}, agentUnavailable(err)
	}
	if err != nil {
		return agent.Binding{}, agentUnavailable(err)
	}
	out := agent.Binding{Pod: b.Pod, Networks: make(map[string]model.Network, len(b.Networks))}
	for _, n := range b.Networks {
		out.Networks[n.Key()] = n
	}
	return out, nil
}

// Tenant implements agent.ManagerClient.
func (m AgentClient) Tenant(ctx context.Context, name string) (model.Tenant, error) {
	t, err := m.C.GetTenant(ctx, name)
	return t.Tenant, agentUnavailable(err)
}

// Network implements agent.ManagerClient.
func (m AgentClient) Network(ctx context.Context, tenant, name string) (model.Network, error) {
	n, err := m.C.GetNetwork(ctx, tenant, name)
	return n.Network, agentUnavailable(err)
}

// RegisterNode implements agent.ManagerClient.
func (m AgentClient) RegisterNode(ctx context.Context, n model.Node) error {
	_, err := m.C.RegisterNode(ctx, n)
	return agentUnavailable(err)
}

// WatchNodes implements agent.ManagerClient.
func (m AgentClient) WatchNodes(ctx context.Context, node, applied, since string) (agent.NodeSet, error) {
	c, wait := m.Watch, m.Wait
	if c == nil {
		c = m.C
	}
	if wait == 0 {
		wait = 50 * time.Second
	}
	w, err := c.WatchNodes(ctx, node, applied, since, wait)
	if err != nil {
		return agent.NodeSet{}, agentUnavailable(err)
	}
	return agent.NodeSet{Revision: w.Revision, Changed: w.Changed, Nodes: w.Nodes}, nil
}

// WaitPeersApplied implements agent.ManagerClient.
func (m AgentClient) WaitPeersApplied(ctx context.Context, node string, wait time.Duration) ([]string, error) {
	res, err := m.C.PeersApplied(ctx, node, wait)
	if err != nil {
		return nil, agentUnavailable(err)
	}
	if res.Applied {
		return nil, nil
	}
	return res.Behind, nil
}
