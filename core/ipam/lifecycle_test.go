package ipam

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func small(t *testing.T) *Pool { // 10.0.0.1 - 10.0.0.6 allocatable
	return newPool(t, model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/29")})
}

func TestCooldownSkippedWhileOthersFree(t *testing.T) {
	p := small(t)
	claim(t, p, "10.0.0.1", "10.0.0.2")
	if !p.Release(ip("10.0.0.1"), 1000) {
		t.Fatal("Release = false")
	}
	for _, want := range addrs("10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6") {
		if a := allocate(t, p); a != want {
			t.Fatalf("Allocate = %s, want %s (cooling 10.0.0.1 must wait)", a, want)
		}
	}
	a, cooling, err := p.Allocate()
	if err != nil || !cooling || a != ip("10.0.0.1") {
		t.Fatalf("Allocate with only a cooling address left = %s, %v, %v", a, cooling, err)
	}
	if p.State(a) != Used || len(p.Cooling()) != 0 || len(p.Expire(5000)) != 0 {
		t.Fatal("a reused cooling address must be plain used, with no cooldown left to expire")
	}
}

func TestCooldownReuseOrder(t *testing.T) {
	p := small(t)
	allocateAll(t, p)
	// Ends: .5 and .2 at 20, .4 at 15, .6 at 30, .1 at 20; .3 stays used.
	for _, r := range []struct {
		a     string
		until model.Time
	}{{"10.0.0.5", 20}, {"10.0.0.2", 20}, {"10.0.0.4", 15}, {"10.0.0.6", 30}, {"10.0.0.1", 20}} {
		if !p.Release(ip(r.a), r.until) {
			t.Fatalf("Release(%s) = false", r.a)
		}
	}
	wantCooling := []Entry{
		{ip("10.0.0.1"), "", 20}, {ip("10.0.0.2"), "", 20}, {ip("10.0.0.4"), "", 15}, {ip("10.0.0.5"), "", 20}, {ip("10.0.0.6"), "", 30},
	}
	if got := p.Cooling(); !slices.Equal(got, wantCooling) {
		t.Fatalf("Cooling = %v, want %v", got, wantCooling)
	}
	for _, want := range addrs("10.0.0.4", "10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.0.6") {
		a, cooling, err := p.Allocate()
		if err != nil || !cooling || a != want {
			t.Fatalf("Allocate = %s, %v, %v; want cooling %s", a, cooling, err, want)
		}
	}
	if _, _, err := p.Allocate(); model.CodeOf(err) != model.CodeExhausted {
		t.Fatalf("Allocate on a full pool: %v", err)
	}
}

func TestClaimOverridesCooldown(t *testing.T) {
	p := small(t)
	claim(t, p, "10.0.0.3", "10.0.0.4")
	p.Release(ip("10.0.0.3"), 50)
	p.Release(ip("10.0.0.4"), 60)
	cooling, err := p.Claim(ip("10.0.0.4"))
	if err != nil || !cooling {
		t.Fatalf("Claim of a cooling address = %v, %v; want allowed, wasCooling", cooling, err)
	}
	if p.State(ip("10.0.0.4")) != Used {
		t.Fatal("claimed address is not used")
	}
	if got := p.Cooling(); !slices.Equal(got, []Entry{{ip("10.0.0.3"), "", 50}}) {
		t.Fatalf("Cooling = %v", got)
	}
	if got := p.Expire(100); !slices.Equal(got, []Expired{{ip("10.0.0.3"), "", 50}}) {
		t.Fatalf("Expire = %v; the claimed address must not expire", got)
	}
	if p.State(ip("10.0.0.4")) != Used {
		t.Fatal("Expire freed a claimed address")
	}
}

func TestRelease(t *testing.T) {
	p := small(t)
	claim(t, p, "10.0.0.1", "10.0.0.2", "10.0.0.3")
	p.Release(ip("10.0.0.2"), 10)
	if err := p.Hold(ip("10.0.0.3"), "o", 10); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.0.0.4", "10.0.0.2", "10.0.0.3", "10.0.0.0", "10.0.0.7", "10.0.0.9", "fd00::1"} {
		before := p.State(ip(a))
		if p.Release(ip(a), 0) {
			t.Errorf("Release(%s) in state %v = true, want a no-op", a, before)
		}
		if p.State(ip(a)) != before {
			t.Errorf("Release(%s) changed its state from %v", a, before)
		}
	}
	if p.Release(netip.Addr{}, 0) {
		t.Error("Release of the zero Addr = true")
	}
	if !p.Release(ip("10.0.0.1"), 0) || p.State(ip("10.0.0.1")) != Free {
		t.Error("Release(until 0) must free at once")
	}
	if got := p.Expire(10); len(got) != 2 {
		t.Errorf("Expire = %v, want the cooldown and the hold", got)
	}
}

func TestHold(t *testing.T) {
	p := small(t)
	claim(t, p, "10.0.0.1", "10.0.0.2", "10.0.0.3")
	if err := p.Hold(ip("10.0.0.2"), "sts/a", 100); err != nil {
		t.Fatal(err)
	}
	if p.State(ip("10.0.0.2")) != Held {
		t.Fatal("not held")
	}
	// Never handed out, even when it is the only address left.
	got := allocateAll(t, p)
	if !slices.Equal(got, addrs("10.0.0.4", "10.0.0.5", "10.0.0.6")) {
		t.Fatalf("allocated %v", got)
	}
	if _, err := p.Claim(ip("10.0.0.2")); model.CodeOf(err) != model.CodeConflict {
		t.Fatalf("Claim of a held address: %v", err)
	}
	if a, ok := p.TakeHeld("sts/b"); ok {
		t.Fatalf("TakeHeld of another owner = %s", a)
	}
	if a, ok := p.TakeHeld("sts/a"); !ok || a != ip("10.0.0.2") {
		t.Fatalf("TakeHeld = %s, %v", a, ok)
	}
	if p.State(ip("10.0.0.2")) != Used || len(p.Held()) != 0 {
		t.Fatal("taken address must be used with no hold left")
	}
	if _, ok := p.TakeHeld("sts/a"); ok {
		t.Fatal("second TakeHeld succeeded")
	}
	if got := p.Expire(1000); got != nil {
		t.Fatalf("a taken hold expired: %v", got)
	}
	// The owner may hold again once it has taken its address back.
	if err := p.Hold(ip("10.0.0.3"), "sts/a", 200); err != nil {
		t.Fatal(err)
	}
}

func TestHoldErrors(t *testing.T) {
	p := small(t)
	claim(t, p, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
	p.Release(ip("10.0.0.3"), 10)
	if err := p.Hold(ip("10.0.0.2"), "a", 10); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr  string
		owner string
		code  model.Code
		field string
		want  string
	}{
		{"10.0.0.1", "", model.CodeInvalid, "owner", "is empty"},
		{"10.0.0.0", "b", model.CodeInvalid, "", "network address"},
		{"10.0.1.1", "b", model.CodeInvalid, "", "is outside 10.0.0.0/29"},
		{"10.0.0.1", "a", model.CodeConflict, "owner", `"a" already holds 10.0.0.2 in 10.0.0.0/29`},
		{"10.0.0.5", "b", model.CodeNotFound, "", "10.0.0.5 is free; only an address in use can be held"},
		{"10.0.0.3", "b", model.CodeNotFound, "", "10.0.0.3 is cooling down"},
		{"10.0.0.2", "b", model.CodeConflict, "", `10.0.0.2 is already held for another owner`},
	} {
		err := p.Hold(ip(tc.addr), tc.owner, 20)
		e, _ := err.(*model.Error)
		if e == nil || e.Code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.want) {
			t.Errorf("Hold(%s, %q) = %v; want %s on %q containing %q", tc.addr, tc.owner, err, tc.code, tc.field, tc.want)
		}
	}
	if got := p.Held(); !slices.Equal(got, []Entry{{ip("10.0.0.2"), "a", 10}}) {
		t.Errorf("failed holds changed Held: %v", got)
	}
}

func TestExpire(t *testing.T) {
	p := small(t)
	allocateAll(t, p)
	p.Release(ip("10.0.0.6"), 10)
	p.Release(ip("10.0.0.1"), 20)
	p.Release(ip("10.0.0.5"), 20)
	for _, h := range []struct {
		a, owner string
		until    model.Time
	}{{"10.0.0.3", "x", 10}, {"10.0.0.2", "y", 20}, {"10.0.0.4", "z", 0}} {
		if err := p.Hold(ip(h.a), h.owner, h.until); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Expire(9); got != nil {
		t.Fatalf("Expire(9) = %v, want nothing", got)
	}
	want := []Expired{{ip("10.0.0.3"), "x", 10}, {ip("10.0.0.6"), "", 10}}
	if got := p.Expire(10); !slices.Equal(got, want) {
		t.Fatalf("Expire(10) = %v, want %v (an end equal to now expires)", got, want)
	}
	want = []Expired{{ip("10.0.0.1"), "", 20}, {ip("10.0.0.2"), "y", 20}, {ip("10.0.0.5"), "", 20}}
	if got := p.Expire(1 << 40); !slices.Equal(got, want) {
		t.Fatalf("Expire = %v, want %v", got, want)
	}
	for _, a := range addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6") {
		if p.State(a) != Free {
			t.Errorf("State(%s) = %v after expiry, want free", a, p.State(a))
		}
	}
	// A hold until 0 never expires.
	if got := p.Held(); !slices.Equal(got, []Entry{{ip("10.0.0.4"), "z", 0}}) {
		t.Fatalf("Held = %v", got)
	}
	if _, ok := p.TakeHeld("x"); ok {
		t.Fatal("an expired hold can still be taken")
	}
	if a, ok := p.TakeHeld("z"); !ok || a != ip("10.0.0.4") {
		t.Fatalf("TakeHeld(z) = %s, %v", a, ok)
	}
	// Freed addresses are handed out lowest first again.
	if a := allocate(t, p); a != ip("10.0.0.1") {
		t.Fatalf("Allocate after expiry = %s", a)
	}
}

func TestHeldSortedByAddress(t *testing.T) {
	p := small(t)
	allocateAll(t, p)
	for i, a := range []string{"10.0.0.5", "10.0.0.1", "10.0.0.3"} {
		if err := p.Hold(ip(a), string(rune('c'-i)), model.Time(30-i)); err != nil {
			t.Fatal(err)
		}
	}
	want := []Entry{{ip("10.0.0.1"), "b", 29}, {ip("10.0.0.3"), "a", 28}, {ip("10.0.0.5"), "c", 30}}
	if got := p.Held(); !slices.Equal(got, want) {
		t.Fatalf("Held = %v, want %v", got, want)
	}
	if st := p.Stats(); st != (Stats{Capacity: 6, Used: 3, Held: 3}) {
		t.Fatalf("Stats = %+v", st)
	}
}
