package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// Leftovers lists what of this driver's doing is still in the cluster or on its nodes: pods it
// created that still exist, their attachments still checkpointed by a node's agent, their sandbox
// network namespaces still pinned on a node, the node namespaces NodeNetns pinned, and its own
// libcni cache. The cluster itself and Knitter stay; they are hack/kube-down.sh's to remove.
func (c *NodeCluster) Leftovers() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var left []string
	if _, err := os.Stat(c.cacheDir); err == nil {
		left = append(left, "the driver's libcni cache "+c.cacheDir)
	}
	c.mu.Lock()
	made := slices.Clone(c.made)
	pinned := len(c.pinned)
	c.mu.Unlock()
	if pinned > 0 {
		left = append(left, fmt.Sprintf("%d node namespace pins NodeNetns made", pinned))
	}
	pin := c.nodeNetnsPin()
	for _, n := range c.nodes {
		p, err := c.hostPath(n.Name, pin)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(p); err == nil {
			left = append(left, fmt.Sprintf("node %s's network namespace pinned at %s", n.Name, pin))
		}
	}
	checkpoints := map[string][]string{}
	for _, n := range c.nodes {
		cps, err := c.Checkpoints(ctx, n.Name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		checkpoints[n.Name] = cps
	}
	for _, p := range made {
		obj, err := c.cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		switch {
		case err == nil && string(obj.UID) == p.UID:
			left = append(left, fmt.Sprintf("pod %s (uid %s) on %s", p.Key(), p.UID, p.Node))
		case err != nil && !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading pod %s: %w", p.Key(), err)
		}
		if p.ContainerID != "" && slices.Contains(checkpoints[p.Node], p.ContainerID+"@"+podIfName) {
			left = append(left, fmt.Sprintf("pod %s's attachment %s@%s checkpointed on %s", p.Key(), p.ContainerID, podIfName, p.Node))
		}
		if p.Netns != "" {
			path, err := c.hostPath(p.Node, p.Netns)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(path); err == nil {
				left = append(left, fmt.Sprintf("pod %s's sandbox network namespace %s on %s", p.Key(), p.Netns, p.Node))
			}
		}
	}
	return left, nil
}

// record remembers a pod this driver created, for Leftovers.
func (c *NodeCluster) record(p *cluster.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.made = append(c.made, p)
}
