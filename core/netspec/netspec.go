package netspec

import (
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// NPWGAnnotation is the pod annotation of the NPWG multi-net-spec (network selection annotation).
const NPWGAnnotation = "k8s.v1.cni.cncf.io/networks"

// KnitterAnnotation is Knitter's original pod annotation key.
const KnitterAnnotation = "networks"

// Limits on what one pod may ask for. They bound the work a single pod can cause in the monitor,
// the manager and the agent.
const (
	// MaxAttachments is the most interfaces one pod may have, the default network included.
	MaxAttachments = 32
	// MaxAnnotationBytes is the longest annotation value accepted.
	MaxAnnotationBytes = 64 << 10
)

// Options carry what the parser needs to know about the pod's namespace.
type Options struct {
	// PodNamespace is the pod's namespace; an NPWG "name" without a namespace resolves here.
	PodNamespace string
	// DefaultNetwork is the tenant's default network name; "" means the tenant has none.
	DefaultNetwork string
	// Tenant is the pod's tenant, for messages; "" means PodNamespace.
	Tenant string
}

// Parse reads the pod's annotations and returns its requests in interface order: Knitter's ports
// first, then the NPWG attachments, with the default network prepended as eth0 where the rules say
// so (see Normalize). An annotation whose value is empty or only whitespace counts as absent.
func Parse(annotations map[string]string, opts Options) ([]model.AttachRequest, error) {
	var reqs []model.AttachRequest
	if v := annotations[KnitterAnnotation]; strings.TrimSpace(v) != "" {
		k, err := ParseKnitter(v)
		if err != nil {
			return nil, err
		}
		reqs = k
	}
	knitterPorts := len(reqs)
	if v := annotations[NPWGAnnotation]; strings.TrimSpace(v) != "" {
		n, err := ParseNPWG(v, opts.PodNamespace)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, n...)
	}
	return Normalize(reqs, opts, knitterPorts)
}

// annotationField is the field path of an annotation, as users see it in kubectl: annotations["key"].
func annotationField(key string) string { return `annotations["` + key + `"]` }

// checkSize rejects values that are too long before any parsing work is done on them.
func checkSize(key, value string) error {
	if len(value) > MaxAnnotationBytes {
		return model.Invalid(annotationField(key), "is %d bytes; keep it under %d KiB (a pod may have at most %d interfaces)",
			len(value), MaxAnnotationBytes>>10, MaxAttachments)
	}
	return nil
}
