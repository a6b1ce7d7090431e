package ipam

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// ref is the deliberately naive pool the property test and the fuzzer check Pool against: one slot
// per address of a small subnet, every operation a linear scan, written straight from the rules.
type ref struct {
	addrs []netip.Addr
	index map[netip.Addr]int
	slots []refSlot
}

type refSlot struct {
	state AddrState
	owner string
	until model.Time
}

func newRef(s *model.Subnet) *ref {
	r := &ref{index: map[netip.Addr]int{}}
	last := model.LastAddr(s.CIDR)
	for a := s.CIDR.Addr(); ; a = a.Next() {
		reserved := a == s.CIDR.Addr() || a.Is4() && a == last || a == s.Gateway
		for _, x := range s.Exclude {
			reserved = reserved || x.Contains(a)
		}
		if len(s.Ranges) > 0 {
			inRange := false
			for _, x := range s.Ranges {
				inRange = inRange || x.Contains(a)
			}
			reserved = reserved || !inRange
		}
		st := Free
		if reserved {
			st = Reserved
		}
		r.index[a] = len(r.addrs)
		r.addrs = append(r.addrs, a)
		r.slots = append(r.slots, refSlot{state: st})
		if a == last {
			return r
		}
	}
}

func (r *ref) find(a netip.Addr) int {
	if i, ok := r.index[a]; ok {
		return i
	}
	return -1
}

func (r *ref) state(a netip.Addr) AddrState {
	if i := r.find(a); i >= 0 {
		return r.slots[i].state
	}
	return Outside
}

func (r *ref) allocate() (netip.Addr, bool, model.Code) {
	for i := range r.slots {
		if r.slots[i].state == Free {
			r.slots[i].state = Used
			return r.addrs[i], false, ""
		}
	}
	best := -1
	for i, s := range r.slots {
		if s.state == Cooling && (best < 0 || s.until < r.slots[best].until) {
			best = i
		}
	}
	if best < 0 {
		return netip.Addr{}, false, model.CodeExhausted
	}
	r.slots[best] = refSlot{state: Used}
	return r.addrs[best], true, ""
}

func (r *ref) claim(a netip.Addr) (bool, model.Code) {
	i := r.find(a)
	if i < 0 || r.slots[i].state == Reserved {
		return false, model.CodeInvalid
	}
	switch r.slots[i].state {
	case Used, Held:
		return false, model.CodeConflict
	case Cooling:
		r.slots[i] = refSlot{state: Used}
		return true, ""
	}
	r.slots[i].state = Used
	return false, ""
}

func (r *ref) release(a netip.Addr, until model.Time) bool {
	i := r.find(a)
	if i < 0 || r.slots[i].state != Used {
		return false
	}
	if until == 0 {
		r.slots[i] = refSlot{state: Free}
	} else {
		r.slots[i] = refSlot{state: Cooling, until: until}
	}
	return true
}

func (r *ref) hold(a netip.Addr, owner string, until model.Time) model.Code {
	i := r.find(a)
	switch {
	case owner == "", i < 0, r.slots[i].state == Reserved:
		return model.CodeInvalid
	}
	for _, s := range r.slots {
		if s.state == Held && s.owner == owner {
			return model.CodeConflict
		}
	}
	switch r.slots[i].state {
	case Free, Cooling:
		return model.CodeNotFound
	case Held:
		return model.CodeConflict
	}
	r.slots[i] = refSlot{state: Held, owner: owner, until: until}
	return ""
}

func (r *ref) takeHeld(owner string) (netip.Addr, bool) {
	for i, s := range r.slots {
		if s.state == Held && s.owner == owner {
			r.slots[i] = refSlot{state: Used}
			return r.addrs[i], true
		}
	}
	return netip.Addr{}, false
}

func (r *ref) expire(now model.Time) []Expired {
	var out []Expired
	for i, s := range r.slots {
		if (s.state == Cooling || s.state == Held) && s.until != 0 && s.until <= now {
			out = append(out, Expired{Addr: r.addrs[i], Owner: s.owner, Until: s.until})
			r.slots[i] = refSlot{state: Free}
		}
	}
	slices.SortStableFunc(out, func(a, b Expired) int { return cmp.Compare(a.Until, b.Until) })
	return out
}

func (r *ref) entries(st AddrState) []Entry {
	var out []Entry
	for i, s := range r.slots {
		if s.state == st {
			out = append(out, Entry{Addr: r.addrs[i], Owner: s.owner, Until: s.until})
		}
	}
	return out
}

func (r *ref) stats() Stats {
	var s Stats
	for _, x := range r.slots {
		switch x.state {
		case Free:
			s.Capacity++
		case Used:
			s.Capacity++
			s.Used++
		case Cooling:
			s.Capacity++
			s.Cooling++
		case Held:
			s.Capacity++
			s.Held++
		}
	}
	return s
}
