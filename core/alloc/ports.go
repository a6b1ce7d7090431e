package alloc

import "github.com/knitter-cni/knitter/core/model"

// PortFilter selects ports; empty fields match everything.
type PortFilter struct {
	Tenant  string
	Network string // network key "tenant/name"
	Node    string
	PodUID  string
}

func (f PortFilter) match(p *model.Port) bool {
	return (f.Tenant == "" || p.Tenant == f.Tenant) && (f.Network == "" || p.Network == f.Network) &&
		(f.Node == "" || p.Node == f.Node) && (f.PodUID == "" || p.Pod.UID == f.PodUID)
}

// Ports returns the live ports that match f and that the actor may see, ordered by pod UID and then
// by the pod's request order.
func (s *State) Ports(a Actor, f PortFilter) []model.Port {
	var out []model.Port
	if f.PodUID != "" {
		if pod, ok := s.pods[f.PodUID]; ok && a.sees(pod.Tenant) {
			for i := range pod.Ports {
				if f.match(&pod.Ports[i]) {
					out = append(out, pod.Ports[i])
				}
			}
		}
		return out
	}
	for _, uid := range sortedKeys(s.pods) {
		pod := s.pods[uid]
		if !a.sees(pod.Tenant) {
			continue
		}
		for i := range pod.Ports {
			if f.match(&pod.Ports[i]) {
				out = append(out, pod.Ports[i])
			}
		}
	}
	return out
}

// Pods returns the UIDs of every allocated pod, sorted (the monitor's garbage collector compares
// them with the live pods).
func (s *State) Pods() []string { return sortedKeys(s.pods) }

// Holds returns the sticky holds, sorted by key.
func (s *State) Holds() []Hold {
	out := make([]Hold, 0, len(s.holds))
	for _, k := range sortedKeys(s.holds) {
		out = append(out, *s.holds[k])
	}
	return out
}
