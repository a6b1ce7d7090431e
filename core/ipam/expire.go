package ipam

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/knitter-cni/knitter/core/model"
)

// Expired is a cooldown or a hold that Expire ended; the address is free again.
type Expired struct {
	Addr  netip.Addr
	Owner string // "" for a cooldown
	Until model.Time
}

// Entry is a cooling or held address, as Cooling and Held list them.
type Entry struct {
	Addr  netip.Addr
	Owner string // "" for a cooldown
	Until model.Time
}

// Expire frees every cooldown and hold that ends at or before now and returns them, sorted by
// (Until, Addr), so the caller can delete their persisted records. It costs O(log n) per expired
// address and O(1) when nothing expires.
func (p *Pool) Expire(now model.Time) []Expired {
	var out []Expired
	for len(p.cool) > 0 && p.cool[0].until <= now {
		t := p.cool[0]
		p.cool.remove(t)
		delete(p.timers, t.off)
		p.free(t.off)
		out = append(out, Expired{Addr: p.addr(t.off), Until: t.until})
	}
	n := len(out)
	for len(p.holds) > 0 && p.holds[0].until <= now {
		t := p.holds[0]
		p.drop(t)
		p.free(t.off)
		out = append(out, Expired{Addr: p.addr(t.off), Owner: t.owner, Until: t.until})
	}
	if n > 0 && n < len(out) { // two sorted runs: cooldowns, then holds
		slices.SortFunc(out, func(a, b Expired) int {
			return cmp.Or(cmp.Compare(a.Until, b.Until), a.Addr.Compare(b.Addr))
		})
	}
	return out
}

// Cooling lists the addresses in cooldown, sorted by address.
func (p *Pool) Cooling() []Entry {
	return p.entries(p.cool)
}

// Held lists the sticky holds, sorted by address.
func (p *Pool) Held() []Entry {
	ts := make([]*timer, 0, len(p.owners))
	for _, t := range p.owners {
		ts = append(ts, t)
	}
	return p.entries(ts)
}

func (p *Pool) entries(ts []*timer) []Entry {
	if len(ts) == 0 {
		return nil
	}
	out := make([]Entry, len(ts))
	for i, t := range ts {
		out[i] = Entry{Addr: p.addr(t.off), Owner: t.owner, Until: t.until}
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Addr.Compare(b.Addr) })
	return out
}
