package alloc

import (
	"container/heap"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// PortCursor is a position in the ordered list of ports (by pod UID, then the pod's request order):
// the next port to consider is port Index of pod UID, then every port of the pods after it. The zero
// cursor is the start of the list.
type PortCursor struct {
	UID   string
	Index int
}

// PortsPage returns at most limit of the ports Ports(a, f) returns, starting at from, and the cursor
// of the port after the last one returned; more says whether any port may follow. A port is
// positioned by its pod's UID and its place in the pod, never by an offset, so a port that exists
// for a whole listing is returned exactly once however many pods are allocated or released between
// the pages. It costs one pass over the pods and a sort of at most limit of them: a page of a large
// state does not sort, or copy, all of it.
func (s *State) PortsPage(a Actor, f PortFilter, from PortCursor, limit int) (ports []model.Port, next PortCursor, more bool) {
	if limit <= 0 {
		return nil, from, true
	}
	start := func(uid string) int {
		if uid == from.UID {
			return from.Index
		}
		return 0
	}
	matches := func(pod *model.Pod) bool {
		if uid := pod.UID; uid < from.UID || !a.sees(pod.Tenant) {
			return false
		}
		for i := start(pod.UID); i < len(pod.Ports); i++ {
			if f.match(&pod.Ports[i]) {
				return true
			}
		}
		return false
	}
	// Every selected pod has a matching port, so the limit first pods in UID order fill the page.
	sel := &podHeap{}
	dropped := false
	consider := func(pod *model.Pod) {
		if !matches(pod) {
			return
		}
		switch {
		case sel.Len() < limit:
			heap.Push(sel, pod)
		case pod.UID < (*sel)[0].UID:
			(*sel)[0] = pod
			heap.Fix(sel, 0)
			dropped = true
		default:
			dropped = true
		}
	}
	if f.PodUID != "" {
		if pod, ok := s.pods[f.PodUID]; ok {
			consider(pod)
		}
	} else {
		for _, pod := range s.pods {
			consider(pod)
		}
	}
	pods := slices.SortedFunc(slices.Values(*sel), func(x, y *model.Pod) int {
		switch {
		case x.UID < y.UID:
			return -1
		case x.UID > y.UID:
			return 1
		}
		return 0
	})
	for n, pod := range pods {
		for i := start(pod.UID); i < len(pod.Ports); i++ {
			if !f.match(&pod.Ports[i]) {
				continue
			}
			if len(ports) == limit {
				return ports, PortCursor{UID: pod.UID, Index: i}, true
			}
			ports = append(ports, pod.Ports[i])
		}
		if len(ports) == limit && (n+1 < len(pods) || dropped) {
			return ports, PortCursor{UID: pod.UID, Index: len(pod.Ports)}, true
		}
	}
	return ports, PortCursor{}, false
}

// podHeap is a max-heap of pods by UID: its root is the largest UID selected so far.
type podHeap []*model.Pod

func (h podHeap) Len() int           { return len(h) }
func (h podHeap) Less(i, j int) bool { return h[i].UID > h[j].UID }
func (h podHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *podHeap) Push(x any)        { *h = append(*h, x.(*model.Pod)) }
func (h *podHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
