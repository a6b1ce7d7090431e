package ipam

import (
	"net/netip"

	"github.com/knitter-cni/knitter/core/model"
)

// Hold turns a used address into a sticky hold for owner until `until`: never handed out by Allocate
// or Claim; only TakeHeld(owner) gets it back. One hold per owner per pool. until == 0 (model.Time's
// "never") makes a hold that only TakeHeld ends.
//
// Errors, checked in this order: owner empty, or a is not an allocatable address of the pool ->
// CodeInvalid; owner already holds an address here -> CodeConflict; a is free or cooling down (there is
// no port to keep it for) -> CodeNotFound; a is held for another owner -> CodeConflict.
func (p *Pool) Hold(a netip.Addr, owner string, until model.Time) error {
	if owner == "" {
		return model.Invalid("owner", "is empty; a sticky hold needs the owner that may take the address back")
	}
	off, err := p.allocatable(a)
	if err != nil {
		return err
	}
	if t := p.owners[owner]; t != nil {
		return model.Errorf(model.CodeConflict, "owner", "%q already holds %s in %s; take it back before holding another address", owner, p.addr(t.off), p.prefix)
	}
	t := p.timers[off]
	switch {
	case !p.taken.has(off):
		return model.Errorf(model.CodeNotFound, "", "%s is free; only an address in use can be held", a)
	case t != nil && t.owner == "":
		return model.Errorf(model.CodeNotFound, "", "%s is cooling down after its release; only an address in use can be held", a)
	case t != nil:
		return model.Errorf(model.CodeConflict, "", "%s is already held for another owner", a)
	}
	t = &timer{until: until, off: off, owner: owner}
	p.timers[off] = t
	p.owners[owner] = t
	if until != 0 {
		p.holds.push(t)
	}
	return nil
}

// TakeHeld turns owner's hold back into a used address. It reports false when owner holds nothing
// here. A hold whose time has passed is still taken until Expire has ended it.
func (p *Pool) TakeHeld(owner string) (netip.Addr, bool) {
	t := p.owners[owner]
	if t == nil {
		return netip.Addr{}, false
	}
	p.drop(t)
	return p.addr(t.off), true
}

// drop forgets a hold's timer; the address stays taken.
func (p *Pool) drop(t *timer) {
	delete(p.owners, t.owner)
	delete(p.timers, t.off)
	if t.until != 0 {
		p.holds.remove(t)
	}
}
