package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
	"github.com/knitter-cni/knitter/fakes/fakedp"
	"github.com/knitter-cni/knitter/plugin"
)

// CNIVersion is the version of the network configuration list the simulated runtime uses, the
// local driver's.
const CNIVersion = "1.1.0"

// podIfName is CNI_IFNAME of every call, as the kubelet passes it.
const podIfName = "eth0"

// pluginPath is where the runtime finds knitter-plugin; the driver's exec runs it in-process.
const pluginPath = "/opt/cni/bin/knitter-plugin"

// confList is the node's network configuration list, as the local driver writes it.
func confList(node string) (*libcni.NetworkConfigList, error) {
	raw, err := json.Marshal(map[string]any{
		"cniVersion": CNIVersion,
		"name":       "knitter",
		"plugins": []map[string]any{{
			"type":        "knitter-plugin",
			"agentSocket": "/run/knitter/" + node + "/agent.sock",
			"timeout":     "30s",
		}},
	})
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromBytes(raw)
}

// cni is libcni as a runtime on node uses it, with knitter-plugin run in-process.
func (c *Cluster) cni(node string) *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir([]string{"/opt/cni/bin"}, c.cache, &pluginExec{c: c, node: node})
}

// pluginExec runs knitter-plugin's code for libcni as the plugin binary would: the environment and
// stdin become skel's arguments, and the plugin's calls to the agent go to node's agent handler
// in the simulated world.
type pluginExec struct {
	c    *Cluster
	node string
}

// ExecPlugin implements invoke.Exec.
func (e *pluginExec) ExecPlugin(_ context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	if path != pluginPath {
		return nil, fmt.Errorf("no plugin %s in the simulated runtime", path)
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cmd := env["CNI_COMMAND"]
	if cmd == "VERSION" {
		return json.Marshal(plugin.Versions)
	}
	// skel's version check: the configuration's version is one the plugin speaks.
	confVersion, err := new(version.ConfigDecoder).Decode(stdin)
	if err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, err.Error(), "")
	}
	if !slices.Contains(plugin.Versions.SupportedVersions(), confVersion) {
		return nil, types.NewError(types.ErrIncompatibleCNIVersion, "incompatible CNI versions", fmt.Sprintf("config is %q, plugin supports %q", confVersion, plugin.Versions.SupportedVersions()))
	}
	args := &skel.CmdArgs{ContainerID: env["CNI_CONTAINERID"], Netns: env["CNI_NETNS"], IfName: env["CNI_IFNAME"],
		Args: env["CNI_ARGS"], Path: env["CNI_PATH"], StdinData: stdin}
	var out bytes.Buffer
	p := &plugin.Plugin{Out: &out, Exchange: func(_ context.Context, verb string, body []byte) (int, []byte, error) {
		return e.c.w.CNI(e.node, verb, body)
	}}
	f := p.Funcs()
	var call func(*skel.CmdArgs) error
	switch cmd {
	case "ADD":
		call = f.Add
	case "DEL":
		call = f.Del
	case "CHECK":
		call = f.Check
	case "GC":
		call = f.GC
	case "STATUS":
		call = f.Status
	default:
		return nil, types.NewError(types.ErrInvalidEnvironmentVariables, fmt.Sprintf("unknown CNI_COMMAND: %q", cmd), "")
	}
	// skel also refuses a CNI_NETNS that is the plugin's own namespace, by opening it; the
	// simulated sandboxes are no files, and the agent refuses the node's namespace itself.
	if err := call(args); err != nil {
		var te *types.Error
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, types.NewError(types.ErrInternal, err.Error(), "")
	}
	return out.Bytes(), nil
}

// FindInPath implements invoke.Exec.
func (e *pluginExec) FindInPath(name string, _ []string) (string, error) {
	if name != "knitter-plugin" {
		return "", fmt.Errorf("failed to find plugin %q: the simulated runtime has only knitter-plugin", name)
	}
	return pluginPath, nil
}

// Decode implements invoke.Exec.
func (e *pluginExec) Decode(b []byte) (version.PluginInfo, error) {
	return new(version.PluginDecoder).Decode(b)
}

// runtimeConf is what a Kubernetes runtime passes for the pod's sandbox.
func runtimeConf(p *cluster.Pod) *libcni.RuntimeConf {
	return cluster.PodRuntimeConf(p.ContainerID, p.Netns, podIfName, p.Namespace, p.Name, p.UID)
}

// CreatePod implements cluster.Cluster: the pod object, a sandbox namespace on the node, then
// knitter-plugin ADD through libcni; the world runs until the ADD is answered.
func (c *Cluster) CreatePod(ctx context.Context, spec cluster.PodSpec) (*cluster.Pod, error) {
	if err := model.ValidateName("namespace", spec.Namespace); err != nil {
		return nil, err
	}
	if err := model.ValidateName("name", spec.Name); err != nil {
		return nil, err
	}
	if err := c.lock(); err != nil {
		return nil, err
	}
	defer c.unlock()
	known := false
	for _, n := range c.w.Nodes() {
		known = known || n.Name == spec.Node
	}
	if !known {
		return nil, fmt.Errorf("node: %q is not a node of this cluster; use one of Nodes()", spec.Node)
	}
	for _, ps := range c.pods {
		if p := ps.pod; p.Namespace == spec.Namespace && p.Name == spec.Name {
			return nil, fmt.Errorf("pod %s/%s exists already (on %s); delete it first", p.Namespace, p.Name, p.Node)
		}
	}
	c.seq++
	netns, err := c.w.NewNetns(spec.Node)
	if err != nil {
		return nil, err
	}
	pod := &cluster.Pod{Namespace: spec.Namespace, Name: spec.Name, Node: spec.Node, Netns: netns,
		UID: fmt.Sprintf("00000000-0000-4000-8000-%012d", c.seq), ContainerID: fmt.Sprintf("sim%04d%012x", c.seq, c.seq*0x9e3779b1)}
	c.pods = append(c.pods, &podState{pod: pod})
	c.w.PutPod(spec.Namespace, spec.Name, pod.UID, spec.Annotations)
	list, err := confList(spec.Node)
	if err != nil {
		return pod, err
	}
	raw, err := c.cni(spec.Node).AddNetworkList(ctx, list, runtimeConf(pod))
	if err != nil {
		return pod, fmt.Errorf("ADD of pod %s on %s: %w", pod.Key(), pod.Node, err)
	}
	if pod.Result, err = types100.NewResultFromResult(raw); err != nil {
		return pod, fmt.Errorf("ADD of pod %s: the result is not CNI %s: %w", pod.Key(), CNIVersion, err)
	}
	pod.Interfaces, err = c.interfaces(pod)
	return pod, err
}

// lockPod begins the driver's turn (lock) for a call about pod and finds the pod; a pod this cluster
// does not have ends the turn again and is an error.
func (c *Cluster) lockPod(pod *cluster.Pod) (*podState, error) {
	if err := c.lock(); err != nil {
		return nil, err
	}
	ps, _ := c.lookup(pod)
	if ps == nil {
		c.unlock()
		return nil, fmt.Errorf("pod %s is not in this cluster", pod.Key())
	}
	return ps, nil
}

// lookup returns the driver's record of pod.
func (c *Cluster) lookup(pod *cluster.Pod) (*podState, int) {
	for i, ps := range c.pods {
		if ps.pod.ContainerID == pod.ContainerID {
			return ps, i
		}
	}
	return nil, -1
}

// DeletePod implements cluster.Cluster: DEL, then the sandbox and the pod object go, then the ports
// are released as knitter-monitor does once the pod object is gone.
func (c *Cluster) DeletePod(ctx context.Context, pod *cluster.Pod) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	ps, i := c.lookup(pod)
	if ps == nil {
		return nil
	}
	if err := c.del(ctx, ps.pod); err != nil {
		return err
	}
	if err := c.w.KillNetns(pod.Node, ps.pod.Netns); err != nil {
		return err
	}
	if !ps.forgotten {
		c.w.DeletePod(pod.Namespace, pod.Name)
		if err := c.release(ctx, ps.pod); err != nil {
			return err
		}
	}
	c.pods = slices.Delete(c.pods, i, i+1)
	return nil
}

// release releases the pod's ports at the manager, as knitter-monitor does; a manager that holds
// none is fine.
func (c *Cluster) release(ctx context.Context, p *cluster.Pod) error {
	m := c.w.Manager()
	if m == nil {
		return fmt.Errorf("releasing pod %s's ports: %w", p.Key(), httpapi.ErrUnavailable)
	}
	_, err := m.Do(ctx, alloc.ReleasePodCmd{As: alloc.AsSystem, UID: p.UID})
	c.w.Record("release %s %v", p.UID, err)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("releasing pod %s's ports: %w", p.Key(), err)
	}
	return nil
}

func (c *Cluster) del(ctx context.Context, p *cluster.Pod) error {
	list, err := confList(p.Node)
	if err != nil {
		return err
	}
	if err := c.cni(p.Node).DelNetworkList(ctx, list, runtimeConf(p)); err != nil {
		return fmt.Errorf("DEL of pod %s: %w", p.Key(), err)
	}
	return nil
}

// Add implements cluster.Runtime.
func (c *Cluster) Add(ctx context.Context, pod *cluster.Pod) (*types100.Result, error) {
	ps, err := c.lockPod(pod)
	if err != nil {
		return nil, err
	}
	defer c.unlock()
	list, err := confList(pod.Node)
	if err != nil {
		return nil, err
	}
	raw, err := c.cni(pod.Node).AddNetworkList(ctx, list, runtimeConf(ps.pod))
	if err != nil {
		return nil, fmt.Errorf("ADD of pod %s: %w", pod.Key(), err)
	}
	return types100.NewResultFromResult(raw)
}

// Del implements cluster.Runtime.
func (c *Cluster) Del(ctx context.Context, pod *cluster.Pod) error {
	ps, err := c.lockPod(pod)
	if err != nil {
		return err
	}
	defer c.unlock()
	return c.del(ctx, ps.pod)
}

// Check implements cluster.Runtime.
func (c *Cluster) Check(ctx context.Context, pod *cluster.Pod) error {
	ps, err := c.lockPod(pod)
	if err != nil {
		return err
	}
	defer c.unlock()
	list, err := confList(pod.Node)
	if err != nil {
		return err
	}
	if err := c.cni(pod.Node).CheckNetworkList(ctx, list, runtimeConf(ps.pod)); err != nil {
		return fmt.Errorf("CHECK of pod %s: %w", pod.Key(), err)
	}
	return nil
}

// raw returns the node's configuration list (renamed if asked) and the call's runtime conf.
func (c *Cluster) raw(call cluster.RawCall) (*libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	list, err := confList(call.Node)
	if err != nil {
		return nil, nil, err
	}
	return list, call.Apply(list, podIfName), nil
}

// RawAdd implements cluster.RawRuntime.
func (c *Cluster) RawAdd(ctx context.Context, call cluster.RawCall) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	_, err = c.cni(call.Node).AddNetworkList(ctx, list, rt)
	return err
}

// RawDel implements cluster.RawRuntime.
func (c *Cluster) RawDel(ctx context.Context, call cluster.RawCall) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	list, rt, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni(call.Node).DelNetworkList(ctx, list, rt)
}

// RawGC implements cluster.RawRuntime.
func (c *Cluster) RawGC(ctx context.Context, call cluster.RawCall) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.unlock()
	list, _, err := c.raw(call)
	if err != nil {
		return err
	}
	return c.cni(call.Node).GCNetworkList(ctx, list, call.GCArgs())
}

// NodeNetns implements cluster.RawRuntime: the path the agent knows as its node's own namespace.
func (c *Cluster) NodeNetns(node string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Dataplane(node); err != nil {
		return "", err
	}
	return fakedp.NodeNetns, nil
}
