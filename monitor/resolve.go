package monitor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/podnet"
)

// resolve resolves the pod's requests with core/podnet — the resolver the agent uses, so both
// refuse a bad pod with the same message — over the informer caches and the tenant cache.
func (m *Monitor) resolve(ctx context.Context, pod *corev1.Pod) (podnet.Resolved, error) {
	ref := model.PodRef{UID: string(pod.UID), Namespace: pod.Namespace, Name: pod.Name}
	return podnet.Resolve(ref, pod.Annotations, lookup{m: m, ctx: ctx})
}

// lookup is podnet.Lookup over the monitor's informers and tenant cache.
type lookup struct {
	m   *Monitor
	ctx context.Context
}

func (l lookup) Tenant(ns string) (string, error) { return l.m.tenantOf(ns), nil }

func (l lookup) DefaultNetwork(tenant string) (string, error) {
	return l.m.defaultNetwork(l.ctx, tenant)
}

func (l lookup) NADConfig(ns, name string) (string, bool, error) {
	if l.m.nads == nil {
		return "", false, nil
	}
	obj, err := l.m.nads.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return "", false, fmt.Errorf("the informer holds a %T", obj)
	}
	config, _, _ := unstructured.NestedString(u.Object, "spec", "config")
	return config, true, nil
}

// tenantOf maps a namespace to its Knitter tenant: the namespace's knitter.io/tenant annotation, or
// its name.
func (m *Monitor) tenantOf(ns string) string {
	n, err := m.namespaces.Get(ns)
	if err != nil {
		return ns
	}
	return podnet.NamespaceTenant(ns, n.Annotations)
}

// defaultNetwork returns the tenant's default network, "" if the tenant has none or does not
// exist (the parser then says how to fix a pod that asks for nothing).
func (m *Monitor) defaultNetwork(ctx context.Context, tenant string) (string, error) {
	now := m.clock.Now()
	m.mu.Lock()
	e, ok := m.tenants[tenant]
	m.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.defaultNetwork, nil
	}
	t, err := m.mgr.Tenant(ctx, tenant)
	switch {
	case model.CodeOf(err) == model.CodeNotFound:
	case err != nil:
		return "", err
	}
	m.mu.Lock()
	m.tenants[tenant] = tenantEntry{defaultNetwork: t.DefaultNetwork, until: now.Add(m.cfg.TenantCacheTTL)}
	m.mu.Unlock()
	return t.DefaultNetwork, nil
}
