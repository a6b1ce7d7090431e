// Package podnet resolves a pod's network requests: its annotations (core/netspec), its
// namespace's tenant and the NetworkAttachmentDefinitions its NPWG elements name. knitter-monitor
// and knitter-agent both call Resolve, each with its own Lookup, so a pod one refuses the other
// refuses with the same message. It is pure: everything it knows of the cluster comes through the
// Lookup.
package podnet

import (
	"fmt"

	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/netspec"
)

// TenantAnnotation on a namespace names the Knitter tenant of its pods; without it the tenant is
// the namespace's name.
const TenantAnnotation = "knitter.io/tenant"

// NamespaceTenant is the tenant of namespace ns, whose annotations are given (nil when the
// namespace is unknown).
func NamespaceTenant(ns string, annotations map[string]string) string {
	if t := annotations[TenantAnnotation]; t != "" {
		return t
	}
	return ns
}

// Lookup is what Resolve needs to know of the cluster and the manager.
type Lookup interface {
	// Tenant is the Knitter tenant of namespace ns (NamespaceTenant of its annotations).
	Tenant(ns string) (string, error)
	// DefaultNetwork is the tenant's default network, "" when it has none or does not exist.
	DefaultNetwork(tenant string) (string, error)
	// NADConfig is the spec.config of NetworkAttachmentDefinition ns/name; found is false when
	// there is no such definition (or the CRD is not installed).
	NADConfig(ns, name string) (config string, found bool, err error)
}

// Resolved is a pod's requests as the manager takes them.
type Resolved struct {
	Tenant   string
	Requests []model.AttachRequest
	// Names are the network-status names, by interface: "namespace/nad" for an NPWG attachment,
	// "tenant/network" otherwise.
	Names map[string]string
}

// Resolve maps the pod's annotations to its requests: Knitter's annotation and the default network
// are networks of the pod's tenant; an NPWG element goes through its NetworkAttachmentDefinition (a
// knitter definition selects its Knitter network, another plugin's is left to Multus, and a name
// without a definition is a Knitter network of the tenant of the element's namespace). Every error
// starts "pod <ns>/<name>: " and names the field and the fix; a Lookup error is wrapped, so that
// callers can tell a retry from a refusal.
func Resolve(pod model.PodRef, annotations map[string]string, l Lookup) (Resolved, error) {
	fail := func(err error) (Resolved, error) {
		return Resolved{}, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	tenant, err := l.Tenant(pod.Namespace)
	if err != nil {
		return fail(fmt.Errorf("reading namespace %s: %w", pod.Namespace, err))
	}
	def, err := l.DefaultNetwork(tenant)
	if err != nil {
		return fail(fmt.Errorf("reading tenant %s: %w", tenant, err))
	}
	reqs, err := netspec.Parse(annotations, netspec.Options{PodNamespace: pod.Namespace, DefaultNetwork: def, Tenant: tenant})
	if err != nil {
		return fail(err)
	}
	out := Resolved{Tenant: tenant, Names: map[string]string{}}
	for _, r := range reqs {
		if r.Tenant == "" {
			// Knitter's annotation and the default network: the pod's tenant (then public networks).
			out.Requests = append(out.Requests, r)
			out.Names[r.Interface] = tenant + "/" + r.Network
			continue
		}
		// An NPWG attachment: r.Tenant is the Kubernetes namespace of the selection.
		ns, name := r.Tenant, r.Network
		t, n, ours, err := nadNetwork(l, ns, name, tenant)
		if err != nil {
			return fail(err)
		}
		if !ours {
			continue
		}
		r.Tenant, r.Network = t, n
		out.Requests = append(out.Requests, r)
		out.Names[r.Interface] = ns + "/" + name
	}
	return out, nil
}

// nadNetwork finds the Knitter network of the NPWG selection ns/name.
func nadNetwork(l Lookup, ns, name, podTenant string) (tenant, network string, ours bool, err error) {
	config, found, err := l.NADConfig(ns, name)
	if err != nil {
		return "", "", false, fmt.Errorf("reading NetworkAttachmentDefinition %s/%s: %w", ns, name, err)
	}
	if !found {
		t, err := l.Tenant(ns)
		if err != nil {
			return "", "", false, fmt.Errorf("reading namespace %s: %w", ns, err)
		}
		return t, name, true, nil
	}
	tenant, network, ours, err = netspec.NADNetwork(config, podTenant)
	if err != nil {
		return "", "", false, fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", ns, name, err)
	}
	return tenant, network, ours, nil
}
