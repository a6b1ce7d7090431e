package monitor

import (
	"context"
	"errors"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// Manager is what the monitor asks of knitter-manager. Errors are *model.Error values; a failure a
// retry may cure (the manager is down or not the leader) has model.CodeUnavailable or wraps
// model.ErrUnavailable. ManagerClient adapts httpapi.Client to it; FakeManager runs core/alloc in
// memory.
type Manager interface {
	// AllocatePod allocates every port of a pod, idempotently by pod UID. created is false when the
	// pod already had them.
	AllocatePod(ctx context.Context, r alloc.PodRequest) (pod model.Pod, created bool, err error)
	// Pod returns a pod's allocation, model.CodeNotFound if it has none.
	Pod(ctx context.Context, uid string) (model.Pod, error)
	// ReleasePod frees a pod's ports into the cooldown (or the sticky hold of its owner); releasing
	// a pod that has none succeeds.
	ReleasePod(ctx context.Context, uid string) error
	// Tenant returns a tenant (for its default network).
	Tenant(ctx context.Context, name string) (model.Tenant, error)
	// Ports calls page with every port, or with node != "" the ports bound to that node, a page
	// (one bounded answer of the manager) at a time, for the reconcile. The pages are not one
	// snapshot: a port that exists for the whole listing is passed once, one created or released
	// meanwhile may or may not be (the reconcile's orphan grace covers both).
	Ports(ctx context.Context, node string, page func([]model.Port)) error
}

// Clock is the monitor's time. The real one is the wall clock; tests step a fake.
type Clock interface {
	Now() time.Time
}

// WallClock is the real Clock.
type WallClock struct{}

// Now implements Clock.
func (WallClock) Now() time.Time { return time.Now() }

// ErrUnavailable marks a failure a retry may cure. ManagerClient wraps the REST client's "retry
// later" errors with it; fakes return it when told to be down.
var ErrUnavailable = errors.New("unavailable; retry shortly")

// transient reports whether err is worth retrying later as it is: the manager (or the API server)
// did not answer, or answered that it cannot serve now.
func transient(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, model.ErrUnavailable) || model.CodeOf(err) == model.CodeUnavailable ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
