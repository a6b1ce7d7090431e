package monitor

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/knitter-cni/knitter/core/model"
)

// NetworkStatusAnnotation is the NPWG multi-net-spec's network-status annotation.
const NetworkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"

// NetworkStatus is one element of the network-status annotation (multi-net-spec v1.3 §4.1.2).
type NetworkStatus struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	MAC       string   `json:"mac,omitempty"`
	Default   bool     `json:"default,omitempty"`
}

// ensureStatus writes the network-status annotation of a pod whose ports the agent has bound. The
// monitor is its one writer: it runs after kubelet's ADD has returned (the pod's sandbox is ready),
// so it never delays or fails an ADD. A pod that has the annotation already is left alone.
func (m *Monitor) ensureStatus(ctx context.Context, pod *corev1.Pod) error {
	if !m.cfg.NetworkStatus || pod.Annotations[NetworkStatusAnnotation] != "" || !sandboxReady(pod) {
		return nil
	}
	uid := string(pod.UID)
	mp, err := m.mgr.Pod(ctx, uid)
	switch {
	case model.CodeOf(err) == model.CodeNotFound:
		return nil
	case err != nil:
		return fmt.Errorf("reading pod %s's ports: %w", podKey(pod), err)
	case mp.Node == "":
		return nil // not bound yet; the pod's next status update brings it back
	}
	names := map[string]string{}
	if res, err := m.resolve(ctx, pod); err == nil {
		names = res.Names
	}
	value, err := json.Marshal(networkStatus(mp, names))
	if err != nil {
		return err
	}
	// The UID in the patch is a precondition: a namesake that replaced the pod is not annotated.
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": uid,
		"annotations": map[string]string{NetworkStatusAnnotation: string(value)}}})
	if err != nil {
		return err
	}
	_, err = m.kube.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "knitter-monitor"})
	switch {
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // gone or replaced: its own sync handles it
	case err != nil:
		return fmt.Errorf("writing pod %s's network-status: %w", podKey(pod), err)
	}
	m.metrics.statusWrites.Inc()
	return nil
}

// networkStatus lists the pod's interfaces in request order.
func networkStatus(p model.Pod, names map[string]string) []NetworkStatus {
	out := make([]NetworkStatus, 0, len(p.Ports))
	for _, port := range p.Ports {
		s := NetworkStatus{Name: names[port.Interface], Interface: port.Interface, Default: port.DefaultRoute}
		if s.Name == "" {
			s.Name = port.Network
		}
		for _, a := range port.IPs {
			s.IPs = append(s.IPs, a.String())
		}
		if !port.MAC.IsZero() {
			s.MAC = port.MAC.String()
		}
		out = append(out, s)
	}
	return out
}

// sandboxReady reports whether kubelet's CNI ADD has returned for the pod: the sandbox condition is
// true, or the pod has an IP.
func sandboxReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReadyToStartContainers && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return p.Status.PodIP != ""
}
