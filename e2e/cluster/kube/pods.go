package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/knitter-cni/knitter/e2e/cluster"
)

// podStartTimeout bounds a pod's way from creation to Running: scheduling is skipped (the spec
// names the node), so it is the sandbox's network set-up and the container's start.
const podStartTimeout = 2 * time.Minute

// SandboxError is a pod whose sandbox the runtime could not create: the kubelet's Warning event.
type SandboxError struct {
	Pod     string
	Message string
}

func (e *SandboxError) Error() string { return fmt.Sprintf("pod %s: %s", e.Pod, e.Message) }

// podObject is the test pod: the test image on the given node, with the spec's annotations.
func (c *Cluster) podObject(spec cluster.PodSpec) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: spec.Namespace, Name: spec.Name, Annotations: spec.Annotations,
			Labels: map[string]string{"app.kubernetes.io/part-of": "knitter-e2e"}},
		Spec: corev1.PodSpec{
			NodeName:                      spec.Node,
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  new(bool),
			EnableServiceLinks:            new(bool),
			Containers: []corev1.Container{{
				Name: "pod", Image: c.cfg.Image, ImagePullPolicy: corev1.PullIfNotPresent,
				// NET_RAW for ping; NET_ADMIN in its own namespace for the neighbour entries a
				// spec sets as a pod trying to cross to another network would.
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW", "NET_ADMIN"}}},
			}},
		},
	}
}

// CreatePod implements cluster.Cluster: it creates the pod through the API and waits until it runs
// (the runtime's ADD succeeded) or the kubelet reports that the sandbox failed.
func (c *Cluster) CreatePod(ctx context.Context, spec cluster.PodSpec) (*cluster.Pod, error) {
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	if err := c.EnsureNamespace(ctx, spec.Namespace); err != nil {
		return nil, err
	}
	obj, err := c.cs.CoreV1().Pods(spec.Namespace).Create(ctx, c.podObject(spec), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating pod %s/%s: %w", spec.Namespace, spec.Name, err)
	}
	p := &cluster.Pod{Namespace: obj.Namespace, Name: obj.Name, UID: string(obj.UID), Node: spec.Node}
	c.mu.Lock()
	c.pods[p.Key()] = p
	c.mu.Unlock()
	if err := c.waitRunning(ctx, p, true); err != nil {
		return p, err
	}
	if p.Interfaces, err = c.execInterfaces(ctx, p); err != nil {
		return p, err
	}
	return p, nil
}

// WaitAttached waits until a pod whose sandbox failed is Running after all (the kubelet retries
// sandboxes by itself) and reads its interfaces.
func (c *Cluster) WaitAttached(ctx context.Context, p *cluster.Pod) (*cluster.Pod, error) {
	if err := c.waitRunning(ctx, p, false); err != nil {
		return p, err
	}
	var err error
	p.Interfaces, err = c.execInterfaces(ctx, p)
	return p, err
}

// waitRunning polls the pod until it is Running, failing on a FailedCreatePodSandBox event.
func (c *Cluster) waitRunning(ctx context.Context, p *cluster.Pod, failOnSandbox bool) error {
	ctx, cancel := context.WithTimeout(ctx, podStartTimeout)
	defer cancel()
	for {
		obj, err := c.cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err == nil && obj.Status.Phase == corev1.PodRunning {
			return nil
		}
		if err == nil && (obj.Status.Phase == corev1.PodFailed || obj.Status.Phase == corev1.PodSucceeded) {
			return fmt.Errorf("pod %s ended (%s): %s", p.Key(), obj.Status.Phase, obj.Status.Message)
		}
		if msg, ok := c.sandboxFailure(ctx, p); ok && failOnSandbox {
			return &SandboxError{Pod: p.Key(), Message: msg}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s is not Running after %s: %w", p.Key(), podStartTimeout, errors.Join(ctx.Err(), err))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sandboxFailure returns the kubelet's latest FailedCreatePodSandBox message for the pod.
func (c *Cluster) sandboxFailure(ctx context.Context, p *cluster.Pod) (string, bool) {
	evs, err := c.Events(ctx, p)
	if err != nil {
		return "", false
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Reason == "FailedCreatePodSandBox" {
			return evs[i].Message, true
		}
	}
	return "", false
}

// Events lists the events about the pod, oldest first.
func (c *Cluster) Events(ctx context.Context, p *cluster.Pod) ([]corev1.Event, error) {
	sel := fields.Set{"involvedObject.name": p.Name, "involvedObject.uid": p.UID}.AsSelector().String()
	evs, err := c.cs.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, err
	}
	return evs.Items, nil
}

// DeletePod implements cluster.Cluster: it deletes the pod object and waits until the kubelet has
// torn the sandbox down (CNI DEL) and the object is gone.
func (c *Cluster) DeletePod(ctx context.Context, p *cluster.Pod) error {
	err := c.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s: %w", p.Key(), err)
	}
	if err := c.waitGone(ctx, p.Namespace, p.Name, p.UID); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.pods, p.Key())
	c.mu.Unlock()
	return nil
}

// waitGone waits until the pod object with uid no longer exists.
func (c *Cluster) waitGone(ctx context.Context, ns, name, uid string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		obj, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && string(obj.UID) != uid) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s/%s is still there: %w", ns, name, errors.Join(ctx.Err(), err))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Adopt records a pod that something else created (a StatefulSet's) so that specs can exec in it.
func (c *Cluster) Adopt(ctx context.Context, ns, name string) (*cluster.Pod, error) {
	obj, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	p := &cluster.Pod{Namespace: ns, Name: name, UID: string(obj.UID), Node: obj.Spec.NodeName}
	if err := c.waitRunning(ctx, p, true); err != nil {
		return p, err
	}
	p.Interfaces, err = c.execInterfaces(ctx, p)
	return p, err
}
