package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

// ManagerClient adapts the manager's REST client to the monitor's Manager port.
type ManagerClient struct {
	C *httpapi.Client
}

var _ monitor.Manager = ManagerClient{}

// AllocatePod implements monitor.Manager.
func (m ManagerClient) AllocatePod(ctx context.Context, r alloc.PodRequest) (model.Pod, bool, error) {
	p, created, err := m.C.AllocatePod(ctx, r)
	return p, created, unavailable(err)
}

// Pod implements monitor.Manager.
func (m ManagerClient) Pod(ctx context.Context, uid string) (model.Pod, error) {
	p, err := m.C.GetPod(ctx, uid)
	return p, unavailable(err)
}

// ReleasePod implements monitor.Manager.
func (m ManagerClient) ReleasePod(ctx context.Context, uid string) error {
	return unavailable(m.C.ReleasePod(ctx, uid))
}

// Tenant implements monitor.Manager.
func (m ManagerClient) Tenant(ctx context.Context, name string) (model.Tenant, error) {
	t, err := m.C.GetTenant(ctx, name)
	return t.Tenant, unavailable(err)
}

// Ports implements monitor.Manager.
// Each page is one request of httpapi.MaxPageSize ports, handed to page before the next is read.
func (m ManagerClient) Ports(ctx context.Context, node string, page func([]model.Port)) error {
	p := httpapi.Page{Limit: httpapi.MaxPageSize}
	for {
		ports, next, err := m.C.ListPortsPage(ctx, httpapi.PortQuery{Node: node}, p)
		if err != nil {
			return unavailable(err)
		}
		page(ports)
		if next == "" {
			return nil
		}
		if next == p.Continue {
			return fmt.Errorf("listing ports: the manager answered the same continue token twice")
		}
		p.Continue = next
	}
}

// unavailable re-marks the client's "retry later" errors with monitor.ErrUnavailable, keeping the client's
// message (which already says to retry) as the whole text.
func unavailable(err error) error {
	if err != nil && errors.Is(err, httpapi.ErrUnavailable) {
		return retryLater{err}
	}
	return err
}

// retryLater matches both monitor.ErrUnavailable and the error it wraps, and reads as the latter.
type retryLater struct{ err error }

func (e retryLater) Error() string   { return e.err.Error() }
func (e retryLater) Unwrap() []error { return []error{monitor.ErrUnavailable, e.err} }
