package monitor

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// SyncNode handles a node that changed or went away. A deleted node, or one NotReady for the
// node grace, gets a reconcile of the ports bound to it, which releases those whose pods are gone
// (or stuck deleting). For a node that turned NotReady recently, after says when to look again.
func (m *Monitor) SyncNode(ctx context.Context, name string) (after time.Duration, err error) {
	defer m.metrics.observeSync("node", m.clock, m.clock.Now(), &err)
	n, err := m.nodes.Get(name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return 0, fmt.Errorf("reading node %s from the informer: %w", name, err)
	default:
		ready, since := nodeReady(n)
		if ready {
			return 0, nil
		}
		if left := since.Add(m.cfg.NodeGrace).Sub(m.clock.Now()); left > 0 {
			return left, nil
		}
	}
	return 0, m.Reconcile(ctx, name)
}
