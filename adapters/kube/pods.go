package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/monitor"
)

// PodSource reads pods from the API server. A Get per CNI ADD, rather than an informer's cache,
// because the ADD comes moments after the pod was created and a cache may not have it yet. It is
// also the agent's ClusterSource: when the agent allocates a pod itself (the monitor has not), it
// reads the pod's namespace and the NetworkAttachmentDefinitions the pod names with a Get each.
type PodSource struct {
	Client kubernetes.Interface
	// NADs reads NetworkAttachmentDefinitions; nil means no NPWG name has a definition.
	NADs dynamic.Interface
}

var (
	_ agent.PodSource     = (*PodSource)(nil)
	_ agent.ClusterSource = (*PodSource)(nil)
)

// RestConfig loads the credentials: the kubeconfig file if given, else the in-cluster service
// account. timeout bounds each request (0 means 10 s).
func RestConfig(kubeconfig string, timeout time.Duration) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("loading Kubernetes credentials: %w", err)
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	cfg.Timeout = timeout
	cfg.UserAgent = "knitter-agent"
	// Pod reads come in bursts when many pods start on the node at once.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// NewPodSource returns a PodSource over cfg.
func NewPodSource(cfg *rest.Config) (*PodSource, error) {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return &PodSource{Client: c, NADs: d}, nil
}

// NamespaceAnnotations implements agent.ClusterSource.
func (s *PodSource) NamespaceAnnotations(ctx context.Context, ns string) (map[string]string, error) {
	n, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("%w: %w", model.Errorf(model.CodeForbidden, "namespace",
			"the agent's credentials may not get namespace %s; grant the knitter-agent service account get on namespaces", ns), err)
	case err != nil:
		return nil, fmt.Errorf("%w: reading namespace %s from the API server: %w", agent.ErrUnavailable, ns, err)
	}
	return n.Annotations, nil
}

// NADConfig implements agent.ClusterSource. A definition that does not exist, or a cluster without
// the CRD, is found false.
func (s *PodSource) NADConfig(ctx context.Context, ns, name string) (string, bool, error) {
	if s.NADs == nil {
		return "", false, nil
	}
	u, err := s.NADs.Resource(monitor.NADResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", false, nil
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return "", false, fmt.Errorf("%w: %w", model.Errorf(model.CodeForbidden, "network-attachment-definitions",
			"the agent's credentials may not get NetworkAttachmentDefinition %s/%s; grant the knitter-agent service account get on network-attachment-definitions.k8s.cni.cncf.io", ns, name), err)
	case err != nil:
		return "", false, fmt.Errorf("%w: reading NetworkAttachmentDefinition %s/%s: %w", agent.ErrUnavailable, ns, name, err)
	}
	config, _, _ := unstructured.NestedString(u.Object, "spec", "config")
	return config, true, nil
}

// Pod implements agent.PodSource.
func (s *PodSource) Pod(ctx context.Context, k agent.PodKey) (agent.PodInfo, error) {
	pod, err := s.Client.CoreV1().Pods(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
	if err != nil {
		return agent.PodInfo{}, classify(k, err)
	}
	if k.UID != "" && string(pod.UID) != k.UID {
		return agent.PodInfo{}, model.Errorf(model.CodeNotFound, "CNI_ARGS",
			"pod %s is now UID %s, not the runtime's %s; the pod was deleted and created again", k, pod.UID, k.UID)
	}
	return agent.PodInfo{
		Ref:         model.PodRef{UID: string(pod.UID), Namespace: pod.Namespace, Name: pod.Name},
		Annotations: pod.Annotations,
		Owner:       StickyOwner(pod),
	}, nil
}

// classify maps an API error: a missing pod is not found, a refusal names the permission to grant,
// and everything else (timeouts, throttling, a server that does not answer) is worth a retry.
func classify(k agent.PodKey, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return model.Errorf(model.CodeNotFound, "pod", "pod %s does not exist in the API server", k)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: %w", model.Errorf(model.CodeForbidden, "pod",
			"the agent's credentials may not get pod %s; grant the knitter-agent service account get on pods", k), err)
	}
	return fmt.Errorf("%w: reading pod %s from the API server: %w", agent.ErrUnavailable, k, err)
}

// StickyOwner is the sticky key of a StatefulSet's pod (see monitor.StickyOwner: the agent and the
// monitor must agree on it).
func StickyOwner(pod *corev1.Pod) string { return monitor.StickyOwner(pod) }
