package agent

import (
	"fmt"
	"strings"

	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
)

// The CNI_ARGS keys Kubernetes runtimes pass.
const (
	argNamespace = "K8S_POD_NAMESPACE"
	argName      = "K8S_POD_NAME"
	argUID       = "K8S_POD_UID"
)

// maxArgs bounds CNI_ARGS: runtimes pass a handful of short pairs.
const maxArgs = 4096

// parseArgs reads CNI_ARGS ("K1=v1;K2=v2"). Unknown keys are ignored: runtimes add their own
// (IgnoreUnknown, K8S_POD_INFRA_CONTAINER_ID). A key given twice is refused: which one counts
// would decide the pod's tenant.
func parseArgs(s string) (map[string]string, error) {
	if len(s) > maxArgs {
		return nil, coded(wire.CodeInvalidEnv, model.Invalid("CNI_ARGS", "is %d bytes; runtimes pass at most a few hundred", len(s)))
	}
	out := map[string]string{}
	for pair := range strings.SplitSeq(s, ";") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return nil, coded(wire.CodeInvalidEnv, model.Invalid("CNI_ARGS", "%q is not KEY=VALUE; pairs are separated by ';'", pair))
		}
		if _, dup := out[k]; dup {
			return nil, coded(wire.CodeInvalidEnv, model.Invalid("CNI_ARGS", "gives %s twice; give each key once", clipArg(k)))
		}
		out[k] = v
	}
	return out, nil
}

// podKey reads the pod's namespace, name and UID from CNI_ARGS.
func podKey(args string) (PodKey, error) {
	m, err := parseArgs(args)
	if err != nil {
		return PodKey{}, err
	}
	k := PodKey{Namespace: m[argNamespace], Name: m[argName], UID: m[argUID]}
	if k.Namespace == "" || k.Name == "" {
		return PodKey{}, coded(wire.CodeInvalidEnv, model.Invalid("CNI_ARGS",
			"has no %s and %s; knitter attaches Kubernetes pods, and runtimes pass both", argNamespace, argName))
	}
	if err := model.ValidateName(argNamespace, k.Namespace); err != nil {
		return PodKey{}, coded(wire.CodeInvalidEnv, err)
	}
	if err := checkPodName(k.Name); err != nil {
		return PodKey{}, coded(wire.CodeInvalidEnv, err)
	}
	if k.UID != "" {
		if err := model.ValidateUID(argUID, k.UID); err != nil {
			return PodKey{}, coded(wire.CodeInvalidEnv, err)
		}
	}
	return k, nil
}

// maxPodName is the longest Kubernetes pod name (a DNS-1123 subdomain).
const maxPodName = 253

// checkPodName applies Kubernetes' rule for pod names: lower-case letters, digits, '-' and '.',
// at most 253 characters.
func checkPodName(name string) error {
	if len(name) > maxPodName {
		return model.Invalid(argName, "is %d characters; a Kubernetes pod name has at most %d", len(name), maxPodName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '.')) {
			return model.Invalid(argName, "%q has %q at position %d; a pod name has lower-case letters, digits, '-' and '.'", clipArg(name), c, i)
		}
	}
	return nil
}

// clipPath bounds a path from the runtime (CNI_NETNS) echoed in an error.
func clipPath(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

// clipArg bounds a CNI_ARGS value echoed in an error.
func clipArg(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// podLabel is "namespace/name" from CNI_ARGS for logs, or "" when they do not name a pod.
func podLabel(args string) string {
	k, err := podKey(args)
	if err != nil {
		return ""
	}
	return k.String()
}

// checkAttachment validates the container ID and ifname: both end up in file names.
func checkAttachment(a wire.Attachment) error {
	if err := checkContainerID(a.ContainerID); err != nil {
		return err
	}
	if err := model.ValidateInterfaceName("CNI_IFNAME", a.IfName); err != nil {
		return coded(wire.CodeInvalidEnv, err)
	}
	return nil
}

// maxAttachmentName bounds a container ID and an ifname together: the node keeps each attachment
// in a file "<container id>@<ifname>.json", and a file name has at most 255 bytes.
const maxAttachmentName = 255 - len("@") - len(".json")

// fits reports whether the attachment's file name fits. One that does not can never have been
// added, so there is nothing of it to delete or check.
func fits(a wire.Attachment) bool { return len(a.ContainerID)+len(a.IfName) <= maxAttachmentName }

// checkFits refuses an ADD of an attachment whose file name would not fit.
func checkFits(a wire.Attachment) error {
	if fits(a) {
		return nil
	}
	return coded(wire.CodeInvalidEnv, model.Invalid("CNI_CONTAINERID",
		"is %d characters; with CNI_IFNAME %q that is over the %d the node can record: use a container ID of at most %d characters",
		len(a.ContainerID), a.IfName, maxAttachmentName, maxAttachmentName-len(a.IfName)))
}

// checkContainerID applies the CNI specification's rule: alphanumerics, '_', '.', '-', starting with
// an alphanumeric.
func checkContainerID(id string) error {
	if id == "" {
		return coded(wire.CodeInvalidEnv, model.Invalid("CNI_CONTAINERID", "is empty; the runtime must pass the container ID"))
	}
	if len(id) > 256 {
		return coded(wire.CodeInvalidEnv, model.Invalid("CNI_CONTAINERID", "is %d characters; container IDs are at most 256", len(id)))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return coded(wire.CodeInvalidEnv, model.Invalid("CNI_CONTAINERID",
				"%q has %q at position %d; use letters, digits, '_', '.' and '-', starting with a letter or digit", id, c, i))
		}
	}
	return nil
}

// checkNetwork validates a delegate-mode network name "tenant/name".
func checkNetwork(network string) (tenant, name string, err error) {
	tenant, name, ok := strings.Cut(network, "/")
	if !ok {
		return "", "", coded(wire.CodeInvalidConfig, model.Invalid("network", "%q is not \"tenant/name\"; name the Knitter network with its tenant", network))
	}
	if err := model.ValidateName("network", name); err != nil {
		return "", "", coded(wire.CodeInvalidConfig, err)
	}
	if err := model.ValidateName("network", tenant); err != nil {
		return "", "", coded(wire.CodeInvalidConfig, fmt.Errorf("tenant of %w", err))
	}
	return tenant, name, nil
}
