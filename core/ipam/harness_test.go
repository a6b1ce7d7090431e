package ipam

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/knitter-cni/knitter/core/model"
)

// chooser supplies the choices of a command sequence: math/rand in the property test, the fuzzer's
// bytes in FuzzPool. intn returns a value in [0, n).
type chooser interface{ intn(n int) int }

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }

// byteChooser reads one byte per choice and reports when it has run out.
type byteChooser struct {
	b    []byte
	done bool
}

func (c *byteChooser) intn(n int) int {
	if len(c.b) == 0 {
		c.done = true
		return 0
	}
	v := int(c.b[0]) % n
	c.b = c.b[1:]
	return v
}

// randomSubnet builds a small subnet — IPv4 /26-/30 or IPv6 /121-/126, some at the top of their
// offset space — with an optional gateway, ranges and exclusions.
func randomSubnet(c chooser) *model.Subnet {
	bases := []string{"10.1.2.128", "255.255.255.192", "fd00::1:0:0:80", "fd00::ffff:ffff:ffff:ff80"}
	base := netip.MustParseAddr(bases[c.intn(len(bases))])
	bits := 26 + c.intn(5)
	if base.Is6() {
		bits = 121 + c.intn(6)
	}
	s := &model.Subnet{CIDR: netip.PrefixFrom(base, bits).Masked()}
	var all []netip.Addr
	for a := s.CIDR.Addr(); s.CIDR.Contains(a); a = a.Next() {
		all = append(all, a)
	}
	pick := func() netip.Addr { return all[c.intn(len(all))] }
	span := func() model.Range {
		i, j := c.intn(len(all)), c.intn(len(all))
		return model.Range{Start: all[min(i, j)], End: all[max(i, j)]}
	}
	if c.intn(2) == 0 {
		s.Gateway = pick()
	}
	for range c.intn(3) {
		s.Ranges = append(s.Ranges, span())
	}
	for range c.intn(3) {
		s.Exclude = append(s.Exclude, span())
	}
	v6 := base.Is6()
	fam := map[bool]string{false: "ipv4", true: "ipv6"}[v6]
	if s.Validate(fam, v6) != nil {
		s.Gateway = netip.Addr{} // network or broadcast
	}
	if s.Validate(fam, v6) != nil {
		s.Ranges = s.Ranges[:min(1, len(s.Ranges))] // overlapping ranges
	}
	return s
}

// runSequence drives a Pool and the naive ref through the same commands and returns the first
// disagreement, with the commands that led to it.
func runSequence(c chooser, steps int) error {
	s := randomSubnet(c)
	p, err := NewPool(s)
	if err != nil {
		return fmt.Errorf("NewPool(%+v): %v", s, err)
	}
	r := newRef(s)
	probes := slices.Clone(r.addrs)
	probes = append(probes, r.addrs[0].Prev(), r.addrs[len(r.addrs)-1].Next(), netip.MustParseAddr("192.0.2.1"),
		netip.MustParseAddr("2001:db8::1"), netip.Addr{})
	owners := []string{"", "sts/a", "sts/b", "sts/c"}
	now := model.Time(100)
	out := map[netip.Addr]bool{} // handed out and not given back, from results alone
	var log []string
	fail := func(format string, args ...any) error {
		if len(log) > 40 {
			log = append([]string{"..."}, log[len(log)-40:]...)
		}
		return fmt.Errorf("subnet %s gw %v ranges %v exclude %v\n%s\n%s", s.CIDR, s.Gateway, s.Ranges, s.Exclude,
			strings.Join(log, "\n"), fmt.Sprintf(format, args...))
	}
	until := func(zero int) model.Time {
		if c.intn(zero) == 0 {
			return 0
		}
		return now - 2 + model.Time(c.intn(10))
	}
	for step := 0; step < steps; step++ {
		if bc, ok := c.(*byteChooser); ok && bc.done {
			break
		}
		switch op := c.intn(11); {
		case op < 3:
			a, cool, err := p.Allocate()
			wa, wcool, wcode := r.allocate()
			log = append(log, fmt.Sprintf("Allocate() = %v %v %v", a, cool, err))
			if a != wa || cool != wcool || model.CodeOf(err) != wcode {
				return fail("want %v %v %q", wa, wcool, wcode)
			}
			if err == nil && out[a] {
				return fail("%s handed out twice", a)
			}
			out[a] = err == nil || out[a]
		case op < 5:
			a := probes[c.intn(len(probes))]
			cool, err := p.Claim(a)
			wcool, wcode := r.claim(a)
			log = append(log, fmt.Sprintf("Claim(%v) = %v %v", a, cool, err))
			if cool != wcool || model.CodeOf(err) != wcode {
				return fail("want %v %q", wcool, wcode)
			}
			if err == nil && out[a] {
				return fail("%s handed out twice", a)
			}
			out[a] = err == nil || out[a]
		case op < 7:
			a, u := probes[c.intn(len(probes))], until(3)
			ok := p.Release(a, u)
			log = append(log, fmt.Sprintf("Release(%v, %d) = %v", a, u, ok))
			if ok != r.release(a, u) {
				return fail("want %v", !ok)
			}
			if ok {
				delete(out, a)
			}
		case op < 9:
			a, o, u := probes[c.intn(len(probes))], owners[c.intn(len(owners))], until(5)
			err := p.Hold(a, o, u)
			log = append(log, fmt.Sprintf("Hold(%v, %q, %d) = %v", a, o, u, err))
			if w := r.hold(a, o, u); model.CodeOf(err) != w {
				return fail("want %q", w)
			}
		case op < 10:
			o := owners[c.intn(len(owners))]
			a, ok := p.TakeHeld(o)
			wa, wok := r.takeHeld(o)
			log = append(log, fmt.Sprintf("TakeHeld(%q) = %v %v", o, a, ok))
			if a != wa || ok != wok {
				return fail("want %v %v", wa, wok)
			}
		default:
			now += model.Time(c.intn(6))
			got := p.Expire(now)
			log = append(log, fmt.Sprintf("Expire(%d) = %v", now, got))
			if want := r.expire(now); !slices.Equal(got, want) {
				return fail("want %v", want)
			}
			for _, e := range got {
				delete(out, e.Addr)
			}
		}
		if err := compare(p, r, probes); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// compare checks every observable of p against r.
func compare(p *Pool, r *ref, probes []netip.Addr) error {
	for _, a := range probes {
		if got, want := p.State(a), r.state(a); got != want {
			return fmt.Errorf("State(%v) = %v, want %v", a, got, want)
		}
	}
	if got, want := p.Stats(), r.stats(); got != want {
		return fmt.Errorf("Stats = %+v, want %+v", got, want)
	}
	if got, want := p.Cooling(), r.entries(Cooling); !slices.Equal(got, want) {
		return fmt.Errorf("Cooling = %v, want %v", got, want)
	}
	held := p.Held()
	if want := r.entries(Held); !slices.Equal(held, want) {
		return fmt.Errorf("Held = %v, want %v", held, want)
	}
	owners := map[string]bool{}
	for _, h := range held {
		if owners[h.Owner] {
			return fmt.Errorf("owner %q holds two addresses: %v", h.Owner, held)
		}
		owners[h.Owner] = true
	}
	return nil
}
