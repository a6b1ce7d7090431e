package kube

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

var (
	_ cluster.RawRuntime = (*NodeCluster)(nil)
	_ cluster.Echoer     = (*NodeCluster)(nil)
)

// nodeNetnsPinDir is where the driver pins a node's own network namespace inside the node, next to
// the pods' namespaces that containerd pins, under the name containerd gives them: a path the node's
// agent can open (its /var/run/netns is the node's /run/netns; it has a PID namespace of its own, so
// the node's /proc/<pid>/ns/net would not do).
const nodeNetnsPinDir = "/var/run/netns/"

// nodeNetnsPin is this driver's pin of a node's namespace: knitter-e2e-node-<the driver's cache
// directory's name>, so that two drivers on one cluster (the teardown spec's) never share one.
func (c *NodeCluster) nodeNetnsPin() string {
	return nodeNetnsPinDir + "knitter-e2e-node-" + strings.TrimPrefix(filepath.Base(c.cacheDir), "knitter-e2e-kube-cni-")
}

// Echo implements cluster.Echoer: one ICMP echo from a raw socket opened in the pod's network
// namespace (reached through the node's mount namespace), timed from the send alone. An echo by
// exec in the pod would add the API server's, the kubelet's and runc's exec set-up to the time.
func (c *NodeCluster) Echo(ctx context.Context, from *cluster.Pod, dst netip.Addr, timeout time.Duration) error {
	if from.Netns == "" {
		return fmt.Errorf("pod %s has no sandbox network namespace", from.Key())
	}
	path, err := c.hostPath(from.Node, from.Netns)
	if err != nil {
		return err
	}
	return local.EchoFrom(ctx, path, dst, timeout)
}

// NodeNetns implements cluster.RawRuntime: the node's own network namespace as the node (its
// plugin and agent) names it, pinned at nodeNetnsPin on first use; Down removes the pin.
func (c *NodeCluster) NodeNetns(node string) (string, error) {
	pid, err := c.nodePID(node)
	if err != nil {
		return "", err
	}
	pin := c.nodeNetnsPin()
	script := fmt.Sprintf("[ -e %[1]s ] || { touch %[1]s && mount --bind /proc/%[2]d/ns/net %[1]s; }", pin, pid)
	if out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-m", "--", "/bin/sh", "-c", script).CombinedOutput(); err != nil {
		return "", fmt.Errorf("pinning node %s's network namespace at %s: %w: %s", node, pin, err, strings.TrimSpace(string(out)))
	}
	c.mu.Lock()
	c.pinned[node] = true
	c.mu.Unlock()
	return pin, nil
}

// unpinNodeNetns removes the pins NodeNetns made.
func (c *NodeCluster) unpinNodeNetns() error {
	c.mu.Lock()
	nodes := make([]string, 0, len(c.pinned))
	for n := range c.pinned {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	for _, node := range nodes {
		pid, err := c.nodePID(node)
		if err != nil {
			return err
		}
		pin := c.nodeNetnsPin()
		script := fmt.Sprintf("[ ! -e %[1]s ] || { umount %[1]s 2>/dev/null; rm -f %[1]s; }", pin)
		if out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-m", "--", "/bin/sh", "-c", script).CombinedOutput(); err != nil {
			return fmt.Errorf("removing node %s's pin %s: %w: %s", node, pin, err, strings.TrimSpace(string(out)))
		}
		c.mu.Lock()
		delete(c.pinned, node)
		c.mu.Unlock()
	}
	return nil
}

// HostNodeNetns is the path under which this process opens node's network namespace.
func (c *NodeCluster) HostNodeNetns(node string) (string, error) {
	pid, err := c.nodePID(node)
	if err != nil {
		return "", err
	}
	path := fmt.Sprintf("/proc/%d/ns/net", pid)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	return path, nil
}

// raw returns the node's configuration list (renamed if asked) and the call's runtime conf.
func (c *NodeCluster) raw(call cluster.RawCall) (*libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	list, err := c.confList(call.Node)
	if err != nil {
		return nil, nil, err
	}
	return list, call.Apply(list, podIfName), nil
}

// RawAdd implements cluster.RawRuntime: ADD with the node's plugin and configuration, in the node.
func (c *NodeCluster) RawAdd(ctx context.Context, call cluster.RawCall) error {
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	_, err = c.cni.AddNetworkList(withNode(ctx, call.Node), list, rt)
	return err
}

// RawDel implements cluster.RawRuntime.
func (c *NodeCluster) RawDel(ctx context.Context, call cluster.RawCall) error {
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni.DelNetworkList(withNode(ctx, call.Node), list, rt)
}

// RawGC implements cluster.RawRuntime.
func (c *NodeCluster) RawGC(ctx context.Context, call cluster.RawCall) error {
	list, _, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni.GCNetworkList(withNode(ctx, call.Node), list, call.GCArgs())
}
