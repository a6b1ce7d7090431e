package monitor

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// StickyOwner is the sticky key of a StatefulSet's pod, "statefulset/<namespace>/<set>/<ordinal>",
// so that a pod that comes back under the same ordinal gets the same addresses; "" for any other pod.
func StickyOwner(pod *corev1.Pod) string {
	for _, ref := range pod.OwnerReferences {
		if ref.Kind != "StatefulSet" || ref.Controller == nil || !*ref.Controller {
			continue
		}
		ordinal, ok := strings.CutPrefix(pod.Name, ref.Name+"-")
		if !ok || ordinal == "" || strings.Trim(ordinal, "0123456789") != "" {
			return ""
		}
		return "statefulset/" + pod.Namespace + "/" + ref.Name + "/" + ordinal
	}
	return ""
}
