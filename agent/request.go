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
// (IgnoreUnknown, K8S_POD_INFRA_CONTAINER_ID).
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
	return k, nil
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
