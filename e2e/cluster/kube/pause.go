package kube

import (
	"context"
	"fmt"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var (
	_ cluster.AgentPauser  = (*NodeCluster)(nil)
	_ cluster.AgentMetrics = (*NodeCluster)(nil)
)

// agentSocket is the agent's socket on every node (deploy/agent/configmap.yaml's socket).
const agentSocket = "/run/knitter/agent.sock"

// agentPod is the name of the knitter-agent pod that runs on node.
func (c *NodeCluster) agentPod(ctx context.Context, node string) (string, error) {
	pods, err := c.cs.CoreV1().Pods(c.cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=knitter-agent", FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return "", err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			return p.Name, nil
		}
	}
	return "", fmt.Errorf("no knitter-agent pod on %s", node)
}

// PauseAgent implements cluster.AgentPauser: SIGSTOP to the node's agent container's process (found
// as KillContainer finds it) and, on resume, SIGCONT. The pod and its container stay as they are; a
// pause longer than the agent's liveness probe allows would have the kubelet restart it.
func (c *NodeCluster) PauseAgent(node string) (resume func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := c.agentPod(ctx, node)
	if err != nil {
		return nil, err
	}
	pid, _, err := c.containerPID(ctx, c.cfg.Namespace, name, "agent")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.cfg.Progress, "kube driver: pausing knitter-agent of %s (pod %s, pid %d)\n", node, name, pid)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("pausing the knitter-agent of %s (pid %d): %w", node, pid, err)
	}
	return func() error {
		fmt.Fprintf(c.cfg.Progress, "kube driver: resuming knitter-agent of %s (pid %d)\n", node, pid)
		return syscall.Kill(pid, syscall.SIGCONT)
	}, nil
}

// AgentMetric implements cluster.AgentMetrics: /metrics on the agent's socket, reached through the
// node's own directory for /run/knitter.
func (c *NodeCluster) AgentMetric(ctx context.Context, node, series string) (float64, error) {
	sock, err := c.hostPath(node, agentSocket)
	if err != nil {
		return 0, err
	}
	return cluster.SocketMetric(ctx, sock, node, series)
}
