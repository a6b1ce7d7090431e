package netspec

import (
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Named returns the interface names the pod's annotations give explicitly (an NPWG "interface" or
// "name@ifname", a Knitter port's interface), as opposed to those Normalize assigns by position.
func Named(annotations map[string]string, podNamespace string) (map[string]bool, error) {
	out := map[string]bool{}
	if v := annotations[KnitterAnnotation]; strings.TrimSpace(v) != "" {
		reqs, err := ParseKnitter(v)
		if err != nil {
			return nil, err
		}
		addNamed(out, reqs)
	}
	if v := annotations[NPWGAnnotation]; strings.TrimSpace(v) != "" {
		reqs, err := ParseNPWG(v, podNamespace)
		if err != nil {
			return nil, err
		}
		addNamed(out, reqs)
	}
	return out, nil
}

func addNamed(out map[string]bool, reqs []model.AttachRequest) {
	for _, r := range reqs {
		if r.Interface != "" {
			out[r.Interface] = true
		}
	}
}

// DelegatePort picks the port that a delegate-mode call (a meta-plugin's delegate configured with
// one Knitter network) builds as ifName. Meta-plugins such as Multus name their delegates by position
// (eth0, net1, net2, …), which need not be the order of the pod's annotation, so:
//   - the port on ifName is taken when it is on network;
//   - otherwise, when the annotation did not name ifName for another network and did not name another
//     interface for network, the one port on network is taken and built as ifName (the delegate's
//     network decides);
//   - a name the annotation gave explicitly is never overridden: that is a conflict.
//
// named is what Named returned for the pod's annotations. The port returned has Interface ifName.
func DelegatePort(pod model.Pod, named map[string]bool, ifName, network string) (model.Port, error) {
	var onIf *model.Port
	var onNet []model.Port
	for i, p := range pod.Ports {
		if p.Interface == ifName {
			onIf = &pod.Ports[i]
		}
		if p.Network == network {
			onNet = append(onNet, p)
		}
	}
	if onIf != nil && onIf.Network == network {
		return *onIf, nil
	}
	podName := pod.Namespace + "/" + pod.Name
	if onIf != nil && named[ifName] {
		return model.Port{}, model.Errorf(model.CodeConflict, "network",
			"pod %s's annotation puts interface %s on network %s, not %s; fix the attachment's interface name or network", podName, ifName, onIf.Network, network)
	}
	for _, p := range onNet {
		if named[p.Interface] {
			return model.Port{}, model.Errorf(model.CodeConflict, "CNI_IFNAME",
				"pod %s's annotation puts network %s on interface %s, but the call attaches it as %s; name the interface %s in the annotation, or leave the name out and let the delegate's position decide",
				podName, network, p.Interface, ifName, ifName)
		}
	}
	switch len(onNet) {
	case 0:
		return model.Port{}, model.Errorf(model.CodeNotFound, "network",
			"pod %s has no port on network %s; its annotations must ask for network %s (the delegate's \"network\")", podName, network, network)
	case 1:
		p := onNet[0]
		p.Interface = ifName
		return p, nil
	}
	return model.Port{}, model.Errorf(model.CodeConflict, "CNI_IFNAME",
		"pod %s has %d ports on network %s and none on interface %s; name each attachment's interface in the annotation so the delegates can be told apart", podName, len(onNet), network, ifName)
}
