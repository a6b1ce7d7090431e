package ipam

import (
	"net/netip"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// Allocate hands out the lowest free address (with SetNextFit, the first free one after the last
// it handed out, wrapping round). Addresses in cooldown are skipped while any other address
// is free; when only cooling addresses remain, it takes the one whose cooldown ends first (ties: lowest
// address) and reports wasCooling=true. Held (sticky) addresses are never handed out. No address left:
// *model.Error CodeExhausted naming the subnet.
func (p *Pool) Allocate() (a netip.Addr, wasCooling bool, err error) {
	if p.nextFit {
		if !p.placed {
			p.cursor, _ = p.taken.max()
			p.placed = true
		}
		off, ok := p.freeFrom(p.cursor + 1)
		if !ok {
			off, ok = p.lowestFree() // wrap round
		}
		if ok {
			p.taken.add(off) // the hint stays: it was at or below the lowest free, and still is
			p.cursor = off
			return p.addr(off), false, nil
		}
	}
	if off, ok := p.lowestFree(); ok {
		p.taken.add(off)
		p.hint = off
		return p.addr(off), false, nil
	}
	p.hint = p.last // nothing is free at all, so any hint is at or below the lowest free offset
	if len(p.cool) > 0 {
		t := p.cool[0]
		p.cool.remove(t)
		delete(p.timers, t.off)
		return p.addr(t.off), true, nil
	}
	return netip.Addr{}, false, model.Errorf(model.CodeExhausted, "",
		"subnet %s has no free address: all %d allocatable addresses are in use (%d held for sticky owners); add ranges, shrink exclusions or delete pods",
		p.prefix, p.capacity, len(p.owners))
}

// lowestFree returns the lowest allocatable offset that is not taken, searching from the hint.
func (p *Pool) lowestFree() (uint64, bool) { return p.freeFrom(p.hint) }

// SetNextFit makes the pool hand out, instead of the lowest free address, the first free one after
// the address it handed out last, wrapping round at the end of the ranges (next-fit): a released
// address comes back only after every other free one was used. Cooldown and holds apply as before.
// Where it stands is memory only: a new or restored pool starts after its highest used, cooling or
// held address, so a restarted manager does not go back to addresses released just before.
func (p *Pool) SetNextFit() { p.nextFit = true }

// freeFrom returns the lowest allocatable offset at or above off that is not taken. It alternates
// between skipping reserved spans and skipping runs of taken offsets.
func (p *Pool) freeFrom(off uint64) (uint64, bool) {
	for {
		a, ok := p.avail.next(off)
		if !ok {
			return 0, false
		}
		c, ok := p.taken.nextClear(a)
		if !ok {
			return 0, false
		}
		if c == a {
			return a, true
		}
		off = c
	}
}

// Claim marks a specific address used (static IP request, IP-group member, or restore from storage).
// Errors: outside the subnet or outside the ranges / excluded / network / broadcast / gateway ->
// CodeInvalid (message says why and what to do); already used or held -> CodeConflict. Claiming an address
// that is cooling down is allowed (an explicit request overrides cooldown) and reports wasCooling=true.
//
// Errors have no field: the caller knows which input the address came from and adds it with
// model.Prefix.
func (p *Pool) Claim(a netip.Addr) (wasCooling bool, err error) {
	off, err := p.allocatable(a)
	if err != nil {
		return false, err
	}
	if p.taken.add(off) {
		return false, nil
	}
	t := p.timers[off]
	switch {
	case t == nil:
		return false, model.Errorf(model.CodeConflict, "", "%s is already in use; pick another address or delete the port that has it", a)
	case t.owner != "":
		// The owner is not named: it may be another tenant's, and owners are theirs to know.
		return false, model.Errorf(model.CodeConflict, "", "%s is held for a sticky owner until %d; pick another address", a, t.until)
	}
	p.cool.remove(t)
	delete(p.timers, off)
	return true, nil
}

// Release gives back a used address. until is when its cooldown ends; until == 0 frees it at once.
// Releasing an address that is not used is a no-op returning false.
//
// A cooldown that ends in the past still lasts until the next Expire: only Expire reads the clock.
func (p *Pool) Release(a netip.Addr, until model.Time) bool {
	off, ok := p.offset(a)
	if !ok || !p.taken.has(off) || p.timers[off] != nil {
		return false
	}
	if until == 0 {
		p.free(off)
		return true
	}
	t := &timer{until: until, off: off}
	p.timers[off] = t
	p.cool.push(t)
	return true
}

// free makes a taken offset free again.
func (p *Pool) free(off uint64) {
	p.taken.remove(off)
	p.hint = min(p.hint, off)
}

// allocatable returns a's offset, or a CodeInvalid error saying why a can never be handed out.
func (p *Pool) allocatable(a netip.Addr) (uint64, error) {
	off, ok := p.offset(a)
	if ok && p.avail.has(off) {
		return off, nil
	}
	return 0, model.Invalid("", "%s", p.whyReserved(a, off, ok))
}

func (p *Pool) whyReserved(a netip.Addr, off uint64, in bool) string {
	switch {
	case !a.IsValid():
		return "no address given; give one inside " + p.prefix.String()
	case !in:
		return a.String() + " is outside " + p.prefix.String() + "; pick an address inside the subnet"
	case off == 0:
		return a.String() + " is the network address of " + p.prefix.String() + "; pick a host address"
	case p.is4 && off == p.last:
		return a.String() + " is the broadcast address of " + p.prefix.String() + "; pick a host address"
	case a == p.gateway:
		return a.String() + " is the gateway of " + p.prefix.String() + "; pick another address"
	}
	for _, r := range p.exclude {
		if r.Contains(a) {
			return a.String() + " is excluded from " + p.prefix.String() + " by " + r.String() + "; pick another address or change the exclusion"
		}
	}
	rs := make([]string, len(p.ranges))
	for i, r := range p.ranges {
		rs[i] = r.String()
	}
	return a.String() + " is outside the allocation ranges of " + p.prefix.String() + " (" + strings.Join(rs, ", ") + "); pick an address inside them"
}
