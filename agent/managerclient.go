package agent

import (
	"context"
	"errors"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// ManagerClient adapts the manager's REST client to the Manager port.
type ManagerClient struct {
	C *httpapi.Client
}

var _ Manager = ManagerClient{}

// unavailable re-marks the client's "retry later" errors with the agent's ErrUnavailable, keeping
// the client's message (which already says to retry) as the whole text.
func unavailable(err error) error {
	if err != nil && errors.Is(err, httpapi.ErrUnavailable) {
		return retryLater{err}
	}
	return err
}

// retryLater matches both ErrUnavailable and the error it wraps, and reads as the latter.
type retryLater struct{ err error }

func (e retryLater) Error() string   { return e.err.Error() }
func (e retryLater) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// Pod implements Manager.
func (m ManagerClient) Pod(ctx context.Context, uid string) (model.Pod, error) {
	p, err := m.C.GetPod(ctx, uid)
	return p, unavailable(err)
}

// AllocatePod implements Manager.
func (m ManagerClient) AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, error) {
	p, _, err := m.C.AllocatePod(ctx, r)
	return p, unavailable(err)
}

// BindPod implements Manager.
func (m ManagerClient) BindPod(ctx context.Context, uid, node string) error {
	_, err := m.C.BindPod(ctx, uid, node)
	return unavailable(err)
}

// Tenant implements Manager.
func (m ManagerClient) Tenant(ctx context.Context, name string) (model.Tenant, error) {
	t, err := m.C.GetTenant(ctx, name)
	return t.Tenant, unavailable(err)
}

// Network implements Manager.
func (m ManagerClient) Network(ctx context.Context, tenant, name string) (model.Network, error) {
	n, err := m.C.GetNetwork(ctx, tenant, name)
	return n.Network, unavailable(err)
}

// RegisterNode implements Manager.
func (m ManagerClient) RegisterNode(ctx context.Context, n model.Node) error {
	_, err := m.C.RegisterNode(ctx, n)
	return unavailable(err)
}

// Nodes implements Manager.
func (m ManagerClient) Nodes(ctx context.Context) ([]model.Node, error) {
	n, err := m.C.ListNodes(ctx)
	return n, unavailable(err)
}
