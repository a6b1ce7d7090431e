package main

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/knitter-cni/knitter/adapters/kube"
)

// daemonSetGone says whether the DaemonSet ref ("namespace/name") no longer exists or is being
// deleted, which is how an agent that is stopping tells an uninstall from a restart.
func daemonSetGone(ctx context.Context, cfg Config, ref string) (bool, error) {
	ns, name, _ := strings.Cut(ref, "/") // validated
	rc, err := kube.RestConfig(cfg.Kubeconfig, 0)
	if err != nil {
		return false, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return false, fmt.Errorf("kubernetes client: %w", err)
	}
	ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading DaemonSet %s: %w", ref, err)
	}
	return ds.DeletionTimestamp != nil, nil
}
