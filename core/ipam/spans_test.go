package ipam

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []span
		want spans
	}{
		{"empty", nil, spans{}},
		{"sorted", []span{{5, 6}, {1, 2}}, spans{{1, 2}, {5, 6}}},
		{"overlap", []span{{1, 5}, {3, 9}}, spans{{1, 9}}},
		{"adjacent", []span{{1, 2}, {3, 4}}, spans{{1, 4}}},
		{"contained", []span{{1, 10}, {3, 4}}, spans{{1, 10}}},
		{"top of the space", []span{{0, ^uint64(0)}, {5, 7}}, spans{{0, ^uint64(0)}}},
	} {
		if got := normalize(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: normalize(%v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestMinus(t *testing.T) {
	max := ^uint64(0)
	for _, tc := range []struct {
		name string
		s, r spans
		want spans
	}{
		{"nothing removed", spans{{0, 9}}, spans{}, spans{{0, 9}}},
		{"middle", spans{{0, 9}}, spans{{3, 4}}, spans{{0, 2}, {5, 9}}},
		{"ends", spans{{0, 9}}, spans{{0, 0}, {9, 9}}, spans{{1, 8}}},
		{"all", spans{{2, 4}}, spans{{0, 9}}, spans{}},
		{"across spans", spans{{0, 4}, {8, 12}}, spans{{3, 9}}, spans{{0, 2}, {10, 12}}},
		{"one removal, many spans", spans{{0, 1}, {3, 4}, {6, 7}}, spans{{1, 6}}, spans{{0, 0}, {7, 7}}},
		{"full /64", spans{{0, max}}, spans{{0, 0}, {max, max}}, spans{{1, max - 1}}},
	} {
		if got := tc.s.minus(tc.r); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v minus %v = %v, want %v", tc.name, tc.s, tc.r, got, tc.want)
		}
	}
}

// TestSpansAgainstNaive checks minus, next, has and size against a plain membership array.
func TestSpansAgainstNaive(t *testing.T) {
	const n = 64
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() ([]span, [n]bool) {
		var in [n]bool
		var s []span
		for range rng.IntN(5) {
			lo := rng.Uint64N(n)
			hi := lo + rng.Uint64N(n-lo)
			s = append(s, span{lo, hi})
			for i := lo; i <= hi; i++ {
				in[i] = true
			}
		}
		return s, in
	}
	for i := range 2000 {
		a, ina := random()
		b, inb := random()
		got := normalize(a).minus(normalize(b))
		var want [n]bool
		var size uint64
		for k := range n {
			want[k] = ina[k] && !inb[k]
			if want[k] {
				size++
			}
		}
		if got.size() != size {
			t.Fatalf("case %d: size %d, want %d (%v)", i, got.size(), size, got)
		}
		for k := range uint64(n) {
			if got.has(k) != want[k] {
				t.Fatalf("case %d: has(%d) = %v, want %v (%v)", i, k, got.has(k), want[k], got)
			}
			nx, ok := got.next(k)
			wantNx, wantOK := k, false
			for ; wantNx < n; wantNx++ {
				if want[wantNx] {
					wantOK = true
					break
				}
			}
			if ok != wantOK || ok && nx != wantNx {
				t.Fatalf("case %d: next(%d) = %d, %v, want %d, %v (%v)", i, k, nx, ok, wantNx, wantOK, got)
			}
		}
		for k := 1; k < len(got); k++ {
			if got[k].lo <= got[k-1].hi+1 {
				t.Fatalf("case %d: %v is not disjoint and non-adjacent", i, got)
			}
		}
	}
}
