package ipam

import (
	"encoding/binary"
	"net/netip"

	"github.com/knitter-cni/knitter/core/model"
)

// Pool allocates the addresses of one subnet (one model.Subnet, IPv4 or IPv6).
//
// Every address of the pool is in exactly one state: Reserved (never handed out), Free, Used, Cooling
// (released, waiting for its cooldown to end) or Held (kept for a sticky owner). A Pool is not safe for
// concurrent use; the allocation state machine that owns it serialises calls.
type Pool struct {
	prefix  netip.Prefix
	gateway netip.Addr
	ranges  []model.Range // as configured, for error messages
	exclude []model.Range
	is4     bool
	base    [16]byte // the network address, As16 form
	baseLo  uint64   // its low 32 (IPv4) or 64 (IPv6) bits
	last    uint64   // the highest offset in the subnet

	avail    spans  // allocatable offsets: the ranges minus every reserved address
	capacity uint64 // avail.size()

	// taken holds every offset that is used, cooling or held; timers says which of them are cooling
	// or held, so a plain used address costs one bit and nothing else.
	taken  bitset
	timers map[uint64]*timer
	cool   timerHeap // every cooling address
	holds  timerHeap // holds that end (a hold until 0 never ends and is not here)
	owners map[string]*timer
	// hint is at or below the lowest free allocatable offset, so Allocate starts its search there
	// instead of at the subnet's start.
	hint uint64
	// nextFit makes Allocate search from cursor+1, the offset after the last one it handed out,
	// wrapping round (SetNextFit); cursor is memory only.
	nextFit bool
	cursor  uint64
	placed  bool // cursor is set: at the first Allocate, after the highest taken offset
}

// NewPool builds a pool for s (already validated by model.Subnet.Validate). Never handed out: the
// network address, the IPv4 broadcast address, the gateway, every Exclude range, and everything
// outside s.Ranges when Ranges is non-empty (empty Ranges = whole subnet).
//
// NewPool validates s again, because offsets only fit in 64 bits for the subnets validation admits;
// errors carry the field path under "ipv4" or "ipv6".
func NewPool(s *model.Subnet) (*Pool, error) {
	if s == nil {
		return nil, model.Invalid("", "no subnet given; give one such as {\"cidr\": \"10.1.0.0/16\"}")
	}
	v6 := s.CIDR.Addr().Is6()
	field := "ipv4"
	if v6 {
		field = "ipv6"
	}
	if err := s.Validate(field, v6); err != nil {
		return nil, err
	}
	a := s.CIDR.Addr()
	p := &Pool{
		prefix:  s.CIDR,
		gateway: s.Gateway,
		ranges:  append([]model.Range(nil), s.Ranges...),
		exclude: append([]model.Range(nil), s.Exclude...),
		is4:     a.Is4(),
		base:    a.As16(),
		last:    ^uint64(0) >> (64 - (a.BitLen() - s.CIDR.Bits())),
		timers:  make(map[uint64]*timer),
		owners:  make(map[string]*timer),
	}
	if p.is4 {
		p.baseLo = uint64(binary.BigEndian.Uint32(p.base[12:]))
	} else {
		p.baseLo = binary.BigEndian.Uint64(p.base[8:])
	}

	in := spans{{0, p.last}}
	if len(s.Ranges) > 0 {
		in = p.rangeSpans(s.Ranges)
	}
	reserved := []span{{0, 0}} // the network address (in IPv6 the subnet-router anycast address)
	if p.is4 {
		reserved = append(reserved, span{p.last, p.last})
	}
	if s.Gateway.IsValid() {
		off, _ := p.offset(s.Gateway)
		reserved = append(reserved, span{off, off})
	}
	reserved = append(reserved, p.rangeSpans(s.Exclude)...)
	p.avail = in.minus(normalize(reserved))
	p.capacity = p.avail.size()
	return p, nil
}

// rangeSpans converts validated ranges (inside the subnet, start <= end) to normalized spans.
func (p *Pool) rangeSpans(rs []model.Range) spans {
	s := make([]span, 0, len(rs))
	for _, r := range rs {
		lo, _ := p.offset(r.Start)
		hi, _ := p.offset(r.End)
		s = append(s, span{lo, hi})
	}
	return normalize(s)
}

// Prefix returns the pool's subnet.
func (p *Pool) Prefix() netip.Prefix { return p.prefix }

// Contains reports whether a is in the pool's subnet, whatever its state.
func (p *Pool) Contains(a netip.Addr) bool { return p.prefix.Contains(a) }

// offset returns a's distance from the network address; false when a is outside the subnet.
func (p *Pool) offset(a netip.Addr) (uint64, bool) {
	if !p.prefix.Contains(a) {
		return 0, false
	}
	if p.is4 {
		b := a.As4()
		return uint64(binary.BigEndian.Uint32(b[:])) - p.baseLo, true
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[8:]) - p.baseLo, true
}

// addr is the inverse of offset.
func (p *Pool) addr(off uint64) netip.Addr {
	if p.is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(p.baseLo+off))
		return netip.AddrFrom4(b)
	}
	b := p.base
	binary.BigEndian.PutUint64(b[8:], p.baseLo+off)
	return netip.AddrFrom16(b)
}
