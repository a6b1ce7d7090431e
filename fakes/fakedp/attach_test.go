package fakedp

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestSortedUnion: the merge agrees with sorting the concatenation, for sorted and unsorted inputs
// with duplicates, and gives a back unchanged when b adds nothing.
func TestSortedUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	list := func(n int, sorted bool) []netip.Addr {
		out := make([]netip.Addr, n)
		for i := range out {
			out[i] = netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(40))})
		}
		if sorted {
			slices.SortFunc(out, netip.Addr.Compare)
		}
		return out
	}
	for i := range 2000 {
		a, b := list(rng.IntN(30), i%3 != 0), list(rng.IntN(30), i%5 != 0)
		want := append(slices.Clone(a), b...)
		slices.SortFunc(want, netip.Addr.Compare)
		want = slices.Compact(want)
		if got := sortedUnion(a, b); !slices.Equal(got, want) {
			t.Fatalf("sortedUnion(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
	a := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.3")}
	if got := sortedUnion(a, a[1:]); &got[0] != &a[0] {
		t.Fatalf("sortedUnion of a subset copied a")
	}
}
