package kube

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KillContainer sends SIGKILL to the main process of the named container of pod ns/name, on its
// node, as `kill -9` would: the pod object stays and the kubelet restarts the container. It returns
// the container's restart count before the kill, so that a caller can wait for the restart.
func (c *NodeCluster) KillContainer(ctx context.Context, ns, name, container string) (int32, error) {
	pid, restarts, err := c.containerPID(ctx, ns, name, container)
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("kill -9 %d (container %s of pod %s/%s): %w", pid, container, ns, name, err)
	}
	return restarts, nil
}

// containerPID is the main process of the named running container of pod ns/name (in the host's
// PID namespace, which the nodes share) and the container's restart count.
func (c *NodeCluster) containerPID(ctx context.Context, ns, name, container string) (pid int, restarts int32, err error) {
	obj, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, 0, err
	}
	for _, st := range obj.Status.ContainerStatuses {
		if st.Name != container {
			continue
		}
		id, ok := strings.CutPrefix(st.ContainerID, "containerd://")
		if !ok || st.State.Running == nil {
			return 0, 0, fmt.Errorf("container %s of pod %s/%s is not running in containerd (%q)", container, ns, name, st.ContainerID)
		}
		// containerd's runc shim writes the task's pid next to its bundle.
		pidFile, err := c.hostPath(obj.Spec.NodeName, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"+id+"/init.pid")
		if err != nil {
			return 0, 0, err
		}
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			return 0, 0, fmt.Errorf("container %s of pod %s/%s: %w", container, ns, name, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", pidFile, err)
		}
		return pid, st.RestartCount, nil
	}
	return 0, 0, fmt.Errorf("pod %s/%s has no container %s", ns, name, container)
}

// RestartCount is the restart count of the named container of pod ns/name, and whether it is
// running (and ready, when it has a readiness probe).
func (c *NodeCluster) RestartCount(ctx context.Context, ns, name, container string) (int32, bool, error) {
	obj, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, false, err
	}
	for _, st := range obj.Status.ContainerStatuses {
		if st.Name == container {
			return st.RestartCount, st.State.Running != nil && st.Ready, nil
		}
	}
	return 0, false, fmt.Errorf("pod %s/%s has no container %s", ns, name, container)
}
