package monitor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
)

// resolved is a pod's requests as the manager takes them.
type resolved struct {
	tenant   string
	requests []model.AttachRequest
	// names are the network-status names, by interface: "namespace/nad" for an NPWG attachment,
	// "tenant/network" otherwise.
	names map[string]string
}

// resolve reads the pod's annotations with core/netspec — the same parser the agent uses, so both
// refuse a bad annotation with the same message — and maps each NPWG attachment through its
// NetworkAttachmentDefinition: a knitter definition selects its Knitter network, another plugin's
// is left to Multus, and a name without a definition is a Knitter network of the pod's tenant.
func (m *Monitor) resolve(ctx context.Context, pod *corev1.Pod) (resolved, error) {
	tenant := m.tenantOf(pod.Namespace)
	def, err := m.defaultNetwork(ctx, tenant)
	if err != nil {
		return resolved{}, err
	}
	reqs, err := netspec.Parse(pod.Annotations, netspec.Options{PodNamespace: pod.Namespace, DefaultNetwork: def})
	if err != nil {
		return resolved{}, err
	}
	out := resolved{tenant: tenant, names: map[string]string{}}
	for _, r := range reqs {
		if r.Tenant == "" {
			// Knitter's annotation and the default network: the pod's tenant (then public networks).
			out.requests = append(out.requests, r)
			out.names[r.Interface] = tenant + "/" + r.Network
			continue
		}
		// An NPWG attachment: r.Tenant is the Kubernetes namespace of the selection.
		ns, name := r.Tenant, r.Network
		t, n, ours, err := m.nadNetwork(ns, name, tenant)
		if err != nil {
			return resolved{}, err
		}
		if !ours {
			continue
		}
		r.Tenant, r.Network = t, n
		out.requests = append(out.requests, r)
		out.names[r.Interface] = ns + "/" + name
	}
	return out, nil
}

// nadNetwork finds the Knitter network of the NPWG selection ns/name.
func (m *Monitor) nadNetwork(ns, name, podTenant string) (tenant, network string, ours bool, err error) {
	if m.nads == nil {
		return m.tenantOf(ns), name, true, nil
	}
	obj, err := m.nads.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return m.tenantOf(ns), name, true, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("reading NetworkAttachmentDefinition %s/%s: %w", ns, name, err)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return "", "", false, fmt.Errorf("NetworkAttachmentDefinition %s/%s is a %T", ns, name, obj)
	}
	config, _, _ := unstructured.NestedString(u.Object, "spec", "config")
	tenant, network, ours, err = netspec.NADNetwork(config, podTenant)
	if err != nil {
		return "", "", false, fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", ns, name, err)
	}
	return tenant, network, ours, nil
}

// tenantOf maps a namespace to its Knitter tenant: the namespace's knitter.io/tenant annotation, or
// its name.
func (m *Monitor) tenantOf(ns string) string {
	if n, err := m.namespaces.Get(ns); err == nil {
		if t := n.Annotations[TenantAnnotation]; t != "" {
			return t
		}
	}
	return ns
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
		return "", fmt.Errorf("reading tenant %s: %w", tenant, err)
	}
	m.mu.Lock()
	m.tenants[tenant] = tenantEntry{defaultNetwork: t.DefaultNetwork, until: now.Add(m.cfg.TenantCacheTTL)}
	m.mu.Unlock()
	return t.DefaultNetwork, nil
}
