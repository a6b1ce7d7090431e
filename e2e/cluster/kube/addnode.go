package kube

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

var _ cluster.NodeAdder = (*NodeCluster)(nil)

// AddNode implements cluster.NodeAdder: hack/kube-up.sh --add-node (Config.KubeUp) brings one more
// node up with the same steps as the first ones; AddNode then waits until the API says the node is
// Ready and its knitter-agent pod is running and ready.
func (c *NodeCluster) AddNode(ctx context.Context) (cluster.Node, error) {
	if c.cfg.KubeUp == "" {
		return cluster.Node{}, fmt.Errorf("kube driver: AddNode needs Config.KubeUp, the path of hack/kube-up.sh")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.cfg.KubeUp, "--add-node")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return cluster.Node{}, fmt.Errorf("%s --add-node: %w: %s", c.cfg.KubeUp, err, strings.TrimSpace(stderr.String()))
	}
	name := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(name, '\n'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return cluster.Node{}, fmt.Errorf("%s --add-node printed no node name: %s", c.cfg.KubeUp, strings.TrimSpace(stderr.String()))
	}
	var node cluster.Node
	err := c.waitFor(ctx, 2*time.Minute, "node "+name+" Ready with a ready knitter-agent", func() (bool, error) {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil || !nodeReady(*n) {
			return false, nil
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				node = cluster.Node{Name: name}
				node.VTEP, _ = netip.ParseAddr(a.Address)
			}
		}
		agents, err := c.cs.CoreV1().Pods(c.cfg.Namespace).List(ctx, metav1.ListOptions{
			LabelSelector: "app.kubernetes.io/name=knitter-agent", FieldSelector: "spec.nodeName=" + name})
		if err != nil {
			return false, nil
		}
		for _, p := range agents.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) {
				return node.VTEP.IsValid(), nil
			}
		}
		return false, nil
	})
	if err != nil {
		return cluster.Node{}, err
	}
	fmt.Fprintf(c.cfg.Progress, "kube driver: added node %s (%s) in %s\n", name, node.VTEP, time.Since(start).Round(time.Millisecond))
	c.mu.Lock()
	c.nodes = append(c.nodes, node)
	slices.SortFunc(c.nodes, func(a, b cluster.Node) int { return strings.Compare(a.Name, b.Name) })
	c.mu.Unlock()
	return node, nil
}

func podReady(p corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
