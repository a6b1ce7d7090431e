package ipam

import (
	"net/netip"
	"strconv"
)

// AddrState is the state of one address in a pool.
type AddrState uint8

// The states of an address. The zero value is Outside, so a state nobody set never claims an address
// belongs to the pool.
const (
	Outside  AddrState = iota // not in the pool's subnet
	Reserved                  // network, IPv4 broadcast, gateway, excluded, or outside the ranges
	Free
	Used
	Cooling // released; reused only when nothing else is free
	Held    // kept for a sticky owner
)

var stateNames = [...]string{"outside", "reserved", "free", "used", "cooling", "held"}

// String returns the state's lower-case name.
func (s AddrState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "AddrState(" + strconv.Itoa(int(s)) + ")"
}

// State returns the state of a.
func (p *Pool) State(a netip.Addr) AddrState {
	off, ok := p.offset(a)
	switch {
	case !ok:
		return Outside
	case !p.avail.has(off):
		return Reserved
	case !p.taken.has(off):
		return Free
	}
	switch t := p.timers[off]; {
	case t == nil:
		return Used
	case t.owner == "":
		return Cooling
	}
	return Held
}

// Stats counts a pool's addresses. Capacity is the number of allocatable addresses (the ranges minus
// every reserved address); Used, Cooling and Held partition the ones not free.
type Stats struct {
	Capacity, Used, Cooling, Held uint64
}

// Stats returns the pool's counts.
func (p *Pool) Stats() Stats {
	c, h := uint64(len(p.cool)), uint64(len(p.owners))
	return Stats{Capacity: p.capacity, Used: p.taken.n - c - h, Cooling: c, Held: h}
}
