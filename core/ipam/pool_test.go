package ipam

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

var ip = netip.MustParseAddr

func rng(a, b string) model.Range { return model.Range{Start: ip(a), End: ip(b)} }

func newPool(t *testing.T, s model.Subnet) *Pool {
	t.Helper()
	p, err := NewPool(&s)
	if err != nil {
		t.Fatalf("NewPool(%v): %v", s.CIDR, err)
	}
	return p
}

func allocate(t *testing.T, p *Pool) netip.Addr {
	t.Helper()
	a, cooling, err := p.Allocate()
	if err != nil || cooling {
		t.Fatalf("Allocate = %v, cooling=%v, %v", a, cooling, err)
	}
	return a
}

func allocateAll(t *testing.T, p *Pool) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for {
		a, cooling, err := p.Allocate()
		if err != nil {
			if !errors.Is(err, model.ErrExhausted) {
				t.Fatalf("Allocate: %v, want exhausted", err)
			}
			return out
		}
		if cooling {
			t.Fatalf("Allocate took cooling %s", a)
		}
		out = append(out, a)
	}
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = ip(s)
	}
	return out
}

// TestAllocationOrder covers what Allocate hands out, in order, for every reservation rule.
func TestAllocationOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		subnet   model.Subnet
		want     []netip.Addr // everything Allocate hands out before it is exhausted
		capacity uint64
	}{
		{
			name:   "v4 /29 without gateway: network and broadcast reserved",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.8/29")},
			want:   addrs("10.0.0.9", "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"),
		},
		{
			name:   "v4 /29 with gateway in the middle",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.8/29"), Gateway: ip("10.0.0.11")},
			want:   addrs("10.0.0.9", "10.0.0.10", "10.0.0.12", "10.0.0.13", "10.0.0.14"),
		},
		{
			name:   "v4 /30 edge size",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("192.168.1.4/30")},
			want:   addrs("192.168.1.5", "192.168.1.6"),
		},
		{
			name:   "v4 /30 with gateway leaves one",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("192.168.1.4/30"), Gateway: ip("192.168.1.5")},
			want:   addrs("192.168.1.6"),
		},
		{
			name:   "v6 /126: no broadcast, network reserved",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("fd00::4/126")},
			want:   addrs("fd00::5", "fd00::6", "fd00::7"),
		},
		{
			name:   "v6 /126 with gateway",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("fd00::4/126"), Gateway: ip("fd00::5")},
			want:   addrs("fd00::6", "fd00::7"),
		},
		{
			name: "ranges limit allocation",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: ip("10.0.0.1"),
				Ranges: []model.Range{rng("10.0.0.200", "10.0.0.201"), rng("10.0.0.10", "10.0.0.11")}},
			want: addrs("10.0.0.10", "10.0.0.11", "10.0.0.200", "10.0.0.201"),
		},
		{
			name: "ranges covering network, gateway and broadcast still skip them",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/29"), Gateway: ip("10.0.0.2"),
				Ranges: []model.Range{rng("10.0.0.0", "10.0.0.3"), rng("10.0.0.6", "10.0.0.7")}},
			want: addrs("10.0.0.1", "10.0.0.3", "10.0.0.6"),
		},
		{
			name: "overlapping exclusions, one partly outside the ranges",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/28"),
				Ranges:  []model.Range{rng("10.0.0.4", "10.0.0.12")},
				Exclude: []model.Range{rng("10.0.0.5", "10.0.0.7"), rng("10.0.0.6", "10.0.0.9"), rng("10.0.0.12", "10.0.0.15")}},
			want: addrs("10.0.0.4", "10.0.0.10", "10.0.0.11"),
		},
		{
			name: "everything excluded",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/30"),
				Exclude: []model.Range{rng("10.0.0.1", "10.0.0.2")}},
			want: nil,
		},
		{
			name: "v6 range at the very top of a /64",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("fd00:1::/64"),
				Ranges: []model.Range{rng("fd00:1::ffff:ffff:ffff:fffd", "fd00:1::ffff:ffff:ffff:ffff")}},
			want: addrs("fd00:1::ffff:ffff:ffff:fffd", "fd00:1::ffff:ffff:ffff:fffe", "fd00:1::ffff:ffff:ffff:ffff"),
		},
		{
			name: "v4 at the top of the address space",
			subnet: model.Subnet{CIDR: netip.MustParsePrefix("255.255.255.248/29"),
				Exclude: []model.Range{rng("255.255.255.250", "255.255.255.253")}},
			want: addrs("255.255.255.249", "255.255.255.254"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, tc.subnet)
			if got := p.Stats().Capacity; got != uint64(len(tc.want)) {
				t.Errorf("Capacity = %d, want %d", got, len(tc.want))
			}
			if got := allocateAll(t, p); !slices.Equal(got, tc.want) {
				t.Errorf("allocated %v, want %v", got, tc.want)
			}
			for _, a := range tc.want {
				if s := p.State(a); s != Used {
					t.Errorf("State(%s) = %v, want used", a, s)
				}
			}
		})
	}
}

func TestV6Slash64(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("fd00:10::/64"), Gateway: ip("fd00:10::1")})
	if got, want := p.Stats().Capacity, ^uint64(0)-1; got != want {
		t.Fatalf("Capacity = %d, want 2^64-2", got)
	}
	if a := allocate(t, p); a != ip("fd00:10::2") {
		t.Fatalf("first address %s, want fd00:10::2", a)
	}
	top := ip("fd00:10::ffff:ffff:ffff:ffff")
	if _, err := p.Claim(top); err != nil {
		t.Fatalf("Claim(%s): %v", top, err)
	}
	if p.State(top) != Used || p.State(top.Next()) != Outside || p.State(ip("fd00:10::")) != Reserved {
		t.Fatalf("states at the edges: %v %v %v", p.State(top), p.State(top.Next()), p.State(ip("fd00:10::")))
	}
	if !p.Release(top, 0) || p.State(top) != Free {
		t.Fatal("Release of the top address failed")
	}
}

// TestLargeExclusionIsCheap checks that reservations are intervals: a /12 carved out of a /8 is one
// gap, not a million entries.
func TestLargeExclusionIsCheap(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/8"), Gateway: ip("10.0.0.1"),
		Exclude: []model.Range{rng("10.0.0.0", "10.15.255.255")}})
	if len(p.avail) != 1 {
		t.Fatalf("avail has %d spans, want 1: %v", len(p.avail), p.avail)
	}
	if got, want := p.Stats().Capacity, uint64(1<<24-1<<20-1); got != want {
		t.Fatalf("Capacity = %d, want %d", got, want)
	}
	if a := allocate(t, p); a != ip("10.16.0.0") {
		t.Fatalf("first address %s, want 10.16.0.0", a)
	}
}

func TestReleasedAddressIsReusedLowestFirst(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/8")})
	var got []netip.Addr
	for range 2*chunkSize + 10 { // cross chunk boundaries, so the search passes full chunks
		got = append(got, allocate(t, p))
	}
	for _, i := range []int{chunkSize + 3, 5, 2*chunkSize + 1} {
		if !p.Release(got[i], 0) {
			t.Fatalf("Release(%s) = false", got[i])
		}
	}
	for _, i := range []int{5, chunkSize + 3, 2*chunkSize + 1, 2*chunkSize + 10} {
		want := ip("10.0.0.1")
		for range i {
			want = want.Next()
		}
		if a := allocate(t, p); a != want {
			t.Fatalf("Allocate = %s, want %s", a, want)
		}
	}
}

func TestClaimErrors(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: ip("10.0.0.1"),
		Ranges:  []model.Range{rng("10.0.0.1", "10.0.0.100"), rng("10.0.0.200", "10.0.0.255")},
		Exclude: []model.Range{rng("10.0.0.50", "10.0.0.59")}})
	if _, err := p.Claim(ip("10.0.0.7")); err != nil {
		t.Fatal(err)
	}
	if err := p.Hold(ip("10.0.0.7"), "sts/ns/web/0", 500); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Claim(ip("10.0.0.8")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr netip.Addr
		code model.Code
		want string
	}{
		{netip.Addr{}, model.CodeInvalid, "no address given; give one inside 10.0.0.0/24"},
		{ip("10.0.1.1"), model.CodeInvalid, "10.0.1.1 is outside 10.0.0.0/24; pick an address inside the subnet"},
		{ip("fd00::1"), model.CodeInvalid, "fd00::1 is outside 10.0.0.0/24"},
		{ip("::ffff:10.0.0.9"), model.CodeInvalid, "is outside 10.0.0.0/24"},
		{ip("10.0.0.0"), model.CodeInvalid, "10.0.0.0 is the network address of 10.0.0.0/24; pick a host address"},
		{ip("10.0.0.255"), model.CodeInvalid, "10.0.0.255 is the broadcast address of 10.0.0.0/24"},
		{ip("10.0.0.1"), model.CodeInvalid, "10.0.0.1 is the gateway of 10.0.0.0/24"},
		{ip("10.0.0.55"), model.CodeInvalid, "10.0.0.55 is excluded from 10.0.0.0/24 by 10.0.0.50-10.0.0.59; pick another address or change the exclusion"},
		{ip("10.0.0.150"), model.CodeInvalid, "10.0.0.150 is outside the allocation ranges of 10.0.0.0/24 (10.0.0.1-10.0.0.100, 10.0.0.200-10.0.0.255)"},
		{ip("10.0.0.8"), model.CodeConflict, "10.0.0.8 is already in use"},
		{ip("10.0.0.7"), model.CodeConflict, `10.0.0.7 is held for a sticky owner until 500`},
	} {
		cooling, err := p.Claim(tc.addr)
		if model.CodeOf(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) || cooling {
			t.Errorf("Claim(%v) = %v, %v; want %s containing %q", tc.addr, cooling, err, tc.code, tc.want)
		}
	}
	// Errors carry no field of their own, so the caller's model.Prefix names the input.
	_, err := p.Claim(ip("10.0.0.0"))
	if err := model.Prefix("ips[0]", err); !strings.HasPrefix(err.Error(), "ips[0]: 10.0.0.0 is the network address") {
		t.Errorf("prefixed error = %q", err)
	}
	if !errors.Is(err, model.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if st := p.Stats(); st.Used != 1 || st.Held != 1 {
		t.Errorf("failed claims changed the pool: %+v", st)
	}
}

func TestStates(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/29"), Gateway: ip("10.0.0.1"),
		Exclude: []model.Range{rng("10.0.0.6", "10.0.0.6")}})
	claim(t, p, "10.0.0.2", "10.0.0.3", "10.0.0.4")
	p.Release(ip("10.0.0.3"), 100)
	if err := p.Hold(ip("10.0.0.4"), "o", 100); err != nil {
		t.Fatal(err)
	}
	want := map[string]AddrState{
		"10.0.0.0": Reserved, "10.0.0.1": Reserved, "10.0.0.2": Used, "10.0.0.3": Cooling, "10.0.0.4": Held,
		"10.0.0.5": Free, "10.0.0.6": Reserved, "10.0.0.7": Reserved, "10.0.0.8": Outside, "fd00::1": Outside,
	}
	for a, s := range want {
		if got := p.State(ip(a)); got != s {
			t.Errorf("State(%s) = %v, want %v", a, got, s)
		}
	}
	if got, want := p.Stats(), (Stats{Capacity: 4, Used: 1, Cooling: 1, Held: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if p.State(netip.Addr{}) != Outside {
		t.Error("the zero Addr should be outside")
	}
	names := []string{Outside.String(), Reserved.String(), Free.String(), Used.String(), Cooling.String(), Held.String(), AddrState(9).String()}
	if got := strings.Join(names, ","); got != "outside,reserved,free,used,cooling,held,AddrState(9)" {
		t.Errorf("state names = %s", got)
	}
	if !p.Contains(ip("10.0.0.0")) || p.Contains(ip("10.0.0.8")) || p.Prefix() != netip.MustParsePrefix("10.0.0.0/29") {
		t.Error("Contains/Prefix disagree with the subnet")
	}
}

func claim(t *testing.T, p *Pool, as ...string) {
	t.Helper()
	for _, a := range as {
		if cooling, err := p.Claim(ip(a)); err != nil || cooling {
			t.Fatalf("Claim(%s) = %v, %v", a, cooling, err)
		}
	}
}

func TestExhaustedError(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.9.0.0/30")})
	claim(t, p, "10.9.0.1", "10.9.0.2")
	if err := p.Hold(ip("10.9.0.2"), "o", 0); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.Allocate()
	if !errors.Is(err, model.ErrExhausted) || model.CodeOf(err) != model.CodeExhausted {
		t.Fatalf("Allocate on a full pool: %v", err)
	}
	want := "subnet 10.9.0.0/30 has no free address: all 2 allocatable addresses are in use (1 held for sticky owners)"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	// Freeing an address after exhaustion makes it allocatable again.
	p.Release(ip("10.9.0.1"), 0)
	if a := allocate(t, p); a != ip("10.9.0.1") {
		t.Fatalf("Allocate after release = %s", a)
	}
}

func TestNewPoolRejectsInvalidSubnets(t *testing.T) {
	for _, tc := range []struct {
		s     *model.Subnet
		field string
	}{
		{nil, ""},
		{&model.Subnet{}, "ipv4.cidr"},
		{&model.Subnet{CIDR: netip.MustParsePrefix("fd00::/48")}, "ipv6.cidr"},
		{&model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/31")}, "ipv4.cidr"},
		{&model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Exclude: []model.Range{rng("10.0.1.0", "10.0.1.5")}}, "ipv4.exclude[0]"},
		{&model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: ip("10.0.0.255")}, "ipv4.gateway"},
	} {
		_, err := NewPool(tc.s)
		var e *model.Error
		if !errors.As(err, &e) || e.Code != model.CodeInvalid || e.Field != tc.field {
			t.Errorf("NewPool(%+v) = %v, want invalid %q", tc.s, err, tc.field)
		}
	}
}

func TestNewPoolCopiesTheSubnet(t *testing.T) {
	s := model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Exclude: []model.Range{rng("10.0.0.1", "10.0.0.9")}}
	p := newPool(t, s)
	s.Exclude[0] = rng("10.0.0.20", "10.0.0.30")
	if a := allocate(t, p); a != ip("10.0.0.10") {
		t.Fatalf("Allocate = %s after the caller changed its subnet", a)
	}
	if _, err := p.Claim(ip("10.0.0.5")); err == nil || !strings.Contains(err.Error(), "by 10.0.0.1-10.0.0.9") {
		t.Fatalf("Claim message uses the caller's changed subnet: %v", err)
	}
}

// TestNextFit: a next-fit pool hands out the address after the last one it handed out, skipping
// taken ones, and comes back to released addresses only after wrapping round.
func TestNextFit(t *testing.T) {
	p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/29"), Gateway: ip("10.0.0.1")}) // .2-.6
	p.SetNextFit()
	for _, want := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		if a := allocate(t, p); a != ip(want) {
			t.Fatalf("Allocate = %s, want %s", a, want)
		}
	}
	p.Release(ip("10.0.0.2"), 0)
	if _, err := p.Claim(ip("10.0.0.6")); err != nil {
		t.Fatal(err)
	}
	// .5 is next; .6 is claimed, so the search wraps round to the released .2.
	for _, want := range []string{"10.0.0.5", "10.0.0.2"} {
		if a := allocate(t, p); a != ip(want) {
			t.Fatalf("Allocate = %s, want %s", a, want)
		}
	}
	if _, _, err := p.Allocate(); model.CodeOf(err) != model.CodeExhausted {
		t.Fatalf("Allocate on a full pool: %v, want exhausted", err)
	}
}

// TestNextFitAfterRestore: a pool rebuilt from claims continues after its highest taken address,
// not at a freed one below it, with sparse and dense chunks alike.
func TestNextFitAfterRestore(t *testing.T) {
	for _, n := range []int{3, 3 * chunkSize / 4} {
		p := newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/8")})
		a := ip("10.0.0.1")
		var last netip.Addr
		for range n {
			if _, err := p.Claim(a); err != nil {
				t.Fatal(err)
			}
			last, a = a, a.Next()
		}
		p.Release(ip("10.0.0.2"), 0)
		p.SetNextFit()
		if got := allocate(t, p); got != last.Next() {
			t.Fatalf("%d claimed: Allocate = %s, want %s (after the highest taken)", n, got, last.Next())
		}
	}
}
