package kube

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const managerSet = "knitter-manager"

// StopManager implements cluster.Cluster: it scales the manager's StatefulSet to zero and waits
// until its pod is gone. The state stays on the node's volume.
func (c *Cluster) StopManager(ctx context.Context) error {
	if err := c.scaleManager(ctx, 0); err != nil {
		return err
	}
	return c.waitFor(ctx, time.Minute, "knitter-manager to stop", func() (bool, error) {
		pods, err := c.cs.CoreV1().Pods(c.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=knitter-manager"})
		return err == nil && len(pods.Items) == 0, err
	})
}

// StartManager implements cluster.Cluster: replicas back to one, then wait for /readyz as leader.
func (c *Cluster) StartManager(ctx context.Context) error {
	s, err := c.cs.AppsV1().StatefulSets(c.cfg.Namespace).Get(ctx, managerSet, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if s.Spec.Replicas != nil && *s.Spec.Replicas > 0 {
		return fmt.Errorf("knitter-manager is running already (%d replicas)", *s.Spec.Replicas)
	}
	if err := c.scaleManager(ctx, 1); err != nil {
		return err
	}
	return c.WaitManager(ctx)
}

// WaitManager waits until the manager answers /readyz as the leader.
func (c *Cluster) WaitManager(ctx context.Context) error {
	return c.waitFor(ctx, 3*time.Minute, "knitter-manager to serve as leader", func() (bool, error) {
		st, err := c.mgr.Ready(ctx)
		return err == nil && st.Ready && st.Leader, err
	})
}

func (c *Cluster) scaleManager(ctx context.Context, n int32) error {
	sc, err := c.cs.AppsV1().StatefulSets(c.cfg.Namespace).GetScale(ctx, managerSet, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the manager's scale: %w", err)
	}
	sc.Spec.Replicas = n
	if _, err := c.cs.AppsV1().StatefulSets(c.cfg.Namespace).UpdateScale(ctx, managerSet, sc, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scaling knitter-manager to %d: %w", n, err)
	}
	return nil
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func (c *Cluster) waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
