package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	types100 "github.com/containernetworking/cni/pkg/types/100"
	"sigs.k8s.io/yaml"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

// podIfName is CNI_IFNAME of every call: knitter, as the cluster's CNI, names the pod's interfaces
// itself from its annotations, and eth0 is the one kubelet asks for.
const podIfName = "eth0"

// podManifest is the Pod object the agent reads from its pod directory (it has no API server).
type podManifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
}

// WritePodManifest writes the Pod manifest an agent started with --pod-dir dir reads for the pod.
func WritePodManifest(dir, namespace, name, uid, node string, annotations map[string]string) (string, error) {
	var m podManifest
	m.APIVersion, m.Kind = "v1", "Pod"
	m.Metadata.Name, m.Metadata.Namespace, m.Metadata.UID = name, namespace, uid
	m.Metadata.Annotations = annotations
	m.Spec.NodeName = node
	b, err := yaml.Marshal(m)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, namespace, name+".yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	return file, os.WriteFile(file, b, 0o600)
}

// CreatePod implements cluster.Cluster: a sandbox namespace, the pod's manifest in the node agent's
// pod directory, then knitter-plugin ADD through libcni.
func (c *Cluster) CreatePod(ctx context.Context, spec cluster.PodSpec) (*cluster.Pod, error) {
	if err := model.ValidateName("namespace", spec.Namespace); err != nil {
		return nil, err
	}
	if err := model.ValidateName("name", spec.Name); err != nil {
		return nil, err
	}
	ps, node, err := c.reservePod(spec)
	if err != nil {
		return nil, err
	}
	pod := podOf(ps)
	if ps.Manifest, err = WritePodManifest(node.PodDir, spec.Namespace, spec.Name, ps.UID, node.Name, spec.Annotations); err != nil {
		return pod, err
	}
	if err := c.updatePod(ps); err != nil {
		return pod, err
	}
	if err := createNetns(ps.Netns); err != nil {
		return pod, err
	}
	list, err := loadConfList(node)
	if err != nil {
		return pod, err
	}
	raw, err := c.cni.AddNetworkList(ctx, list, runtimeConf(ps))
	if err != nil {
		return pod, fmt.Errorf("ADD of pod %s on %s: %w", pod.Key(), ps.Node, err)
	}
	if pod.Result, err = types100.NewResultFromResult(raw); err != nil {
		return pod, fmt.Errorf("ADD of pod %s: the result is not CNI %s: %w", pod.Key(), CNIVersion, err)
	}
	if pod.Interfaces, err = readInterfaces(ps.Netns); err != nil {
		return pod, err
	}
	for _, i := range pod.Interfaces {
		ps.Interfaces = append(ps.Interfaces, i.Name)
	}
	return pod, c.updatePod(ps)
}

// reservePod records a new pod in the state before anything of it exists, so that Down finds it
// whatever step fails.
func (c *Cluster) reservePod(spec cluster.PodSpec) (podState, nodeState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return podState{}, nodeState{}, errors.New("the cluster is down")
	}
	node, ok := c.st.node(spec.Node)
	if !ok {
		return podState{}, nodeState{}, fmt.Errorf("node: %q is not a node of this cluster; use one of Nodes()", spec.Node)
	}
	for _, p := range c.st.Pods {
		if p.Namespace == spec.Namespace && p.Name == spec.Name {
			return podState{}, nodeState{}, fmt.Errorf("pod %s/%s exists already (on %s); delete it first", p.Namespace, p.Name, p.Node)
		}
	}
	random, err := randomHex(8)
	if err != nil {
		return podState{}, nodeState{}, err
	}
	uid, err := newUID()
	if err != nil {
		return podState{}, nodeState{}, err
	}
	c.st.NextPod++
	ps := podState{Namespace: spec.Namespace, Name: spec.Name, UID: uid, Node: node.Name,
		ContainerID: c.n.containerID(c.st.NextPod, random), Netns: c.n.pod(c.st.NextPod)}
	c.st.Pods = append(c.st.Pods, ps)
	return ps, *node, c.st.save()
}

// updatePod saves ps over the recorded pod of the same sandbox.
func (c *Cluster) updatePod(ps podState) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.st.pod(ps.ContainerID); i >= 0 {
		c.st.Pods[i] = ps
	}
	return c.st.save()
}

// DeletePod implements cluster.Cluster: DEL, then the sandbox and manifest go, then the ports are
// released as knitter-monitor does once the pod object is gone.
func (c *Cluster) DeletePod(ctx context.Context, pod *cluster.Pod) error {
	ps, _, ok := c.lookupPod(pod)
	if !ok {
		return nil
	}
	if err := c.Del(ctx, pod); err != nil {
		return err
	}
	if err := c.removeSandbox(ps); err != nil {
		return err
	}
	if c.admin != nil {
		if err := c.admin.ReleasePod(ctx, ps.UID); err != nil && !errors.Is(err, model.ErrNotFound) {
			return fmt.Errorf("releasing pod %s's ports: %w", pod.Key(), err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := c.st.pod(ps.ContainerID); i >= 0 {
		c.gone = append(c.gone, c.st.Pods[i])
		c.st.Pods = slices.Delete(c.st.Pods, i, i+1)
	}
	return c.st.save()
}

// removeSandbox deletes the pod's namespace and manifest.
func (c *Cluster) removeSandbox(ps podState) error {
	if err := deleteNetns(ps.Netns); err != nil {
		return err
	}
	if ps.Manifest != "" {
		if err := os.Remove(ps.Manifest); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (c *Cluster) lookupPod(pod *cluster.Pod) (podState, nodeState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.st.pod(pod.ContainerID)
	if i < 0 {
		return podState{}, nodeState{}, false
	}
	ps := c.st.Pods[i]
	node, ok := c.st.node(ps.Node)
	if !ok {
		return podState{}, nodeState{}, false
	}
	return ps, *node, true
}

// Pods lists the cluster's pods with their interfaces read back now; a pod whose sandbox is gone
// has none.
func (c *Cluster) Pods() ([]*cluster.Pod, error) {
	c.mu.Lock()
	pods := slices.Clone(c.st.Pods)
	c.mu.Unlock()
	out := make([]*cluster.Pod, 0, len(pods))
	for _, ps := range pods {
		p := podOf(ps)
		if netnsExists(ps.Netns) {
			var err error
			if p.Interfaces, err = readInterfaces(ps.Netns); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func podOf(ps podState) *cluster.Pod {
	return &cluster.Pod{Namespace: ps.Namespace, Name: ps.Name, UID: ps.UID, Node: ps.Node,
		ContainerID: ps.ContainerID, Netns: netnsPath(ps.Netns)}
}
