package ipam

import "github.com/knitter-cni/knitter/core/model"

// timer is an address that is cooling down (owner "") or held for an owner, until a point in time.
type timer struct {
	until model.Time
	off   uint64
	owner string
	idx   int // position in its heap, so a claim or a take can remove it in O(log n)
}

// before orders timers by end, then by address: the order Expire reports and Allocate reuses them in.
func (t *timer) before(u *timer) bool {
	return t.until < u.until || t.until == u.until && t.off < u.off
}

// timerHeap is a min-heap of timers that records each timer's position in it.
type timerHeap []*timer

func (h *timerHeap) push(t *timer) {
	t.idx = len(*h)
	*h = append(*h, t)
	h.up(t.idx)
}

// remove takes t out of the heap; t must be in it.
func (h *timerHeap) remove(t *timer) {
	s := *h
	i, last := t.idx, len(s)-1
	if i != last {
		s.swap(i, last)
	}
	s[last] = nil
	*h = s[:last]
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts h[i] toward the leaves and reports whether it moved.
func (h timerHeap) down(i int) bool {
	start := i
	for {
		m, l := i, 2*i+1
		if l < len(h) && h[l].before(h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && h[r].before(h[m]) {
			m = r
		}
		if m == i {
			return i != start
		}
		h.swap(i, m)
		i = m
	}
}
