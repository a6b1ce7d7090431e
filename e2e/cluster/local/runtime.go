package local

import (
	"context"
	"errors"
	"fmt"
	"os/exec"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// Add implements cluster.Runtime.
func (c *Cluster) Add(ctx context.Context, pod *cluster.Pod) (*types100.Result, error) {
	ps, node, ok := c.lookupPod(pod)
	if !ok {
		return nil, fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	list, err := loadConfList(node)
	if err != nil {
		return nil, err
	}
	raw, err := c.cni.AddNetworkList(ctx, list, runtimeConf(ps))
	if err != nil {
		return nil, fmt.Errorf("ADD of pod %s: %w", pod.Key(), err)
	}
	return types100.NewResultFromResult(raw)
}

// Del implements cluster.Runtime.
func (c *Cluster) Del(ctx context.Context, pod *cluster.Pod) error {
	ps, node, ok := c.lookupPod(pod)
	if !ok {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	list, err := loadConfList(node)
	if err != nil {
		return err
	}
	if err := c.cni.DelNetworkList(ctx, list, runtimeConf(ps)); err != nil {
		return fmt.Errorf("DEL of pod %s: %w", pod.Key(), err)
	}
	return nil
}

// Check implements cluster.Runtime.
func (c *Cluster) Check(ctx context.Context, pod *cluster.Pod) error {
	ps, node, ok := c.lookupPod(pod)
	if !ok {
		return fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	list, err := loadConfList(node)
	if err != nil {
		return err
	}
	if err := c.cni.CheckNetworkList(ctx, list, runtimeConf(ps)); err != nil {
		return fmt.Errorf("CHECK of pod %s: %w", pod.Key(), err)
	}
	return nil
}

// Exec implements cluster.Cluster with nsenter.
func (c *Cluster) Exec(ctx context.Context, pod *cluster.Pod, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("exec: no command")
	}
	out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + pod.Netns, "--"}, argv...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%v in pod %s: %w", argv, pod.Key(), err)
	}
	return string(out), nil
}

// runtimeConf is what a Kubernetes runtime passes for the pod's sandbox.
func runtimeConf(ps podState) *libcni.RuntimeConf {
	return cluster.PodRuntimeConf(ps.ContainerID, netnsPath(ps.Netns), podIfName, ps.Namespace, ps.Name, ps.UID)
}

// loadConfList reads the node's network configuration list, as a runtime reads /etc/cni/net.d.
func loadConfList(n nodeState) (*libcni.NetworkConfigList, error) {
	list, err := libcni.ConfListFromFile(n.ConfList)
	if err != nil {
		return nil, fmt.Errorf("the network configuration of %s: %w", n.Name, err)
	}
	return list, nil
}
