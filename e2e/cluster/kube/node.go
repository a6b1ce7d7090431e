package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/e2e/cluster/local"
)

// Paths on every node of hack/kube-up.sh's cluster, as the node sees them.
const (
	confList      = "/etc/cni/net.d/10-knitter.conflist"
	cniBinDir     = "/opt/cni/bin"
	cniResults    = "/var/lib/cni/results"
	checkpointDir = "/run/knitter/agent"
	podIfName     = "eth0"
)

// NodeCluster is a Cluster whose nodes the driver can reach into (hack/kube-up.sh's): each node's
// directories are under NodeDir/<node>/root and its namespaces are those of NodeDir/<node>/node.pid.
type NodeCluster struct {
	*Cluster
	cni      *libcni.CNIConfig
	cacheDir string
	// pinned are the nodes whose own network namespace NodeNetns pinned; made are the pods
	// CreatePod made, for Leftovers (both under Cluster.mu).
	pinned map[string]bool
	made   []*cluster.Pod
}

// Down is Cluster.Down, and removes the node namespace pins and the driver's own libcni cache.
func (c *NodeCluster) Down(ctx context.Context) error {
	if err := c.Cluster.Down(ctx); err != nil {
		return err
	}
	if err := c.unpinNodeNetns(); err != nil {
		return err
	}
	return os.RemoveAll(c.cacheDir)
}

var (
	_ cluster.Runtime   = (*NodeCluster)(nil)
	_ cluster.Inspector = (*NodeCluster)(nil)
)

func newNodeCluster(c *Cluster) (*NodeCluster, error) {
	cache, err := os.MkdirTemp("", "knitter-e2e-kube-cni-")
	if err != nil {
		return nil, err
	}
	nc := &NodeCluster{Cluster: c, cacheDir: cache, pinned: map[string]bool{}}
	nc.cni = libcni.NewCNIConfigWithCacheDir([]string{cniBinDir}, cache, &nodeExec{nc: nc})
	return nc, nil
}

// nodePID is the pid of the node's init (hack/kube/node.sh), whose namespaces are the node's.
func (c *NodeCluster) nodePID(node string) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.cfg.NodeDir, node, "node.pid"))
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", node, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// hostPath is where the host sees the node's path p (inside the node's mount namespace).
func (c *NodeCluster) hostPath(node, p string) (string, error) {
	pid, err := c.nodePID(node)
	if err != nil {
		return "", err
	}
	// /var/run is a symlink to /run; an absolute symlink would resolve in the caller's root.
	if rest, ok := strings.CutPrefix(p, "/var/run/"); ok {
		p = "/run/" + rest
	}
	return fmt.Sprintf("/proc/%d/root%s", pid, p), nil
}

// CreatePod implements cluster.Cluster and fills in the sandbox's ID, netns and CNI result from
// the node's libcni cache, where containerd keeps what knitter-plugin answered.
func (c *NodeCluster) CreatePod(ctx context.Context, spec cluster.PodSpec) (*cluster.Pod, error) {
	p, err := c.Cluster.CreatePod(ctx, spec)
	if p != nil {
		c.record(p)
	}
	if err != nil || p == nil {
		return p, err
	}
	return p, c.fillSandbox(p)
}

// WaitAttached is Cluster.WaitAttached with the sandbox filled in.
func (c *NodeCluster) WaitAttached(ctx context.Context, p *cluster.Pod) (*cluster.Pod, error) {
	p, err := c.Cluster.WaitAttached(ctx, p)
	if err != nil {
		return p, err
	}
	return p, c.fillSandbox(p)
}

// Adopt is Cluster.Adopt with the sandbox filled in.
func (c *NodeCluster) Adopt(ctx context.Context, ns, name string) (*cluster.Pod, error) {
	p, err := c.Cluster.Adopt(ctx, ns, name)
	if err != nil {
		return p, err
	}
	return p, c.fillSandbox(p)
}

// cachedResult is the part of libcni's cache file that says whose result it is.
type cachedResult struct {
	ContainerID string          `json:"containerId"`
	IfName      string          `json:"ifName"`
	NetNS       string          `json:"netns"`
	CNIArgs     [][2]string     `json:"cniArgs"`
	Result      json.RawMessage `json:"result"`
}

func (c *NodeCluster) fillSandbox(p *cluster.Pod) error {
	dir, err := c.hostPath(p.Node, cniResults)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("node %s's CNI cache: %w", p.Node, err)
	}
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var cr cachedResult
		if json.Unmarshal(raw, &cr) != nil || cr.IfName != podIfName || !hasArg(cr.CNIArgs, "K8S_POD_UID", p.UID) {
			continue
		}
		res, err := asResult(mustResult(cr.Result))
		if err != nil {
			return fmt.Errorf("cached result of pod %s: %w", p.Key(), err)
		}
		p.ContainerID, p.Result, p.Netns = cr.ContainerID, res, cr.NetNS
		if p.Netns == "" && len(res.Interfaces) > 0 {
			p.Netns = res.Interfaces[0].Sandbox
		}
		return nil
	}
	return fmt.Errorf("node %s has no cached CNI result of pod %s (uid %s)", p.Node, p.Key(), p.UID)
}

func hasArg(args [][2]string, k, v string) bool {
	for _, a := range args {
		if a[0] == k && a[1] == v {
			return true
		}
	}
	return false
}

func mustResult(raw json.RawMessage) types.Result {
	r, err := types100.NewResult(raw)
	if err != nil {
		return &types100.Result{CNIVersion: types100.ImplementedSpecVersion}
	}
	return r
}

// runtimeConf is what containerd passes for the pod's sandbox.
func runtimeConf(p *cluster.Pod) *libcni.RuntimeConf {
	return cluster.PodRuntimeConf(p.ContainerID, p.Netns, podIfName, p.Namespace, p.Name, p.UID)
}

func (c *NodeCluster) confList(node string) (*libcni.NetworkConfigList, error) {
	path, err := c.hostPath(node, confList)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromFile(path)
}

// Add implements cluster.Runtime: ADD with the node's plugin and configuration, inside the node.
func (c *NodeCluster) Add(ctx context.Context, p *cluster.Pod) (*types100.Result, error) {
	list, err := c.confList(p.Node)
	if err != nil {
		return nil, err
	}
	raw, err := c.cni.AddNetworkList(withNode(ctx, p.Node), list, runtimeConf(p))
	if err != nil {
		return nil, fmt.Errorf("ADD of pod %s: %w", p.Key(), err)
	}
	return asResult(raw)
}

// asResult is r as a types100.Result that still says r's cniVersion: the conversion to the newest
// version would claim fields (the interfaces' mtu) that a result of an older version need not carry.
// (types100 handles the versions 1.0.0 and 1.1.0.)
func asResult(r types.Result) (*types100.Result, error) {
	res, err := types100.NewResultFromResult(r)
	if err != nil {
		return nil, err
	}
	if v := r.Version(); v == "1.0.0" || v == "1.1.0" {
		res.CNIVersion = v
	}
	return res, nil
}

// Del implements cluster.Runtime.
func (c *NodeCluster) Del(ctx context.Context, p *cluster.Pod) error {
	list, err := c.confList(p.Node)
	if err != nil {
		return err
	}
	if err := c.cni.DelNetworkList(withNode(ctx, p.Node), list, runtimeConf(p)); err != nil {
		return fmt.Errorf("DEL of pod %s: %w", p.Key(), err)
	}
	return nil
}

// Check implements cluster.Runtime.
func (c *NodeCluster) Check(ctx context.Context, p *cluster.Pod) error {
	list, err := c.confList(p.Node)
	if err != nil {
		return err
	}
	if err := c.cni.CheckNetworkList(withNode(ctx, p.Node), list, runtimeConf(p)); err != nil {
		return fmt.Errorf("CHECK of pod %s: %w", p.Key(), err)
	}
	return nil
}

// PodInterfaces implements cluster.Inspector: the sandbox's interfaces, from the kernel.
func (c *NodeCluster) PodInterfaces(_ context.Context, p *cluster.Pod) ([]cluster.Interface, error) {
	if p.Netns == "" {
		return nil, nil // the sandbox never got a network namespace with Knitter's interfaces
	}
	path, err := c.hostPath(p.Node, p.Netns)
	if err != nil {
		return nil, err
	}
	return local.ReadInterfaces(path)
}

// Checkpoints implements cluster.Inspector: the agent's checkpoint files on the node.
func (c *NodeCluster) Checkpoints(_ context.Context, node string) ([]string, error) {
	dir, err := c.hostPath(node, checkpointDir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.HasPrefix(name, ".") {
			out = append(out, name)
		}
	}
	return out, nil
}

// NodeLinks implements cluster.Inspector: the links in the node's network namespace.
func (c *NodeCluster) NodeLinks(_ context.Context, node string) ([]string, error) {
	pid, err := c.nodePID(node)
	if err != nil {
		return nil, err
	}
	h, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		return nil, err
	}
	defer nl.Close()
	links, err := nl.LinkList()
	var out []string
	for _, l := range links {
		out = append(out, l.Attrs().Name)
	}
	return out, err
}

type nodeKey struct{}

func withNode(ctx context.Context, node string) context.Context {
	return context.WithValue(ctx, nodeKey{}, node)
}

// nodeExec runs CNI plugins inside a node's mount and network namespaces, as the node's containerd
// does, decoding their errors as libcni's own executor does.
type nodeExec struct{ nc *NodeCluster }

func (e *nodeExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	node, _ := ctx.Value(nodeKey{}).(string)
	pid, err := e.nc.nodePID(node)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(pid), "-m", "-n", "--", pluginPath)
	cmd.Env, cmd.Stdin = environ, bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var perr types.Error
		if stdout.Len() > 0 && json.Unmarshal(stdout.Bytes(), &perr) == nil && perr.Msg != "" {
			return nil, &perr
		}
		return nil, fmt.Errorf("%s on %s: %w: %s", pluginPath, node, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (e *nodeExec) FindInPath(plugin string, paths []string) (string, error) {
	if strings.Contains(plugin, "/") {
		return "", errors.New("plugin type must be a name")
	}
	return filepath.Join(cniBinDir, plugin), nil
}

func (e *nodeExec) Decode(b []byte) (version.PluginInfo, error) {
	var d version.PluginDecoder
	return d.Decode(b)
}
