package ipam

import (
	"slices"
	"sort"
)

// span is an inclusive interval of offsets. Inclusive ends let one span cover a whole /64 (offsets 0
// to 2^64-1), which a half-open interval could not express in a uint64.
type span struct{ lo, hi uint64 }

// spans is a sorted list of disjoint, non-adjacent spans. Reserved addresses are kept this way, so an
// exclusion of a /12 inside a /8 costs one entry.
type spans []span

// normalize sorts s and merges overlapping and adjacent spans.
func normalize(s []span) spans {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := spans{}
	for _, x := range s {
		if n := len(out); n > 0 && (x.lo <= out[n-1].hi || x.lo-1 == out[n-1].hi) {
			out[n-1].hi = max(out[n-1].hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// minus returns the offsets of s that are not in r; both must be normalized.
func (s spans) minus(r spans) spans {
	out := spans{}
	j := 0
	for _, x := range s {
		for j < len(r) && r[j].hi < x.lo {
			j++
		}
		lo, covered := x.lo, false
		for k := j; k < len(r) && r[k].lo <= x.hi && !covered; k++ {
			if r[k].lo > lo {
				out = append(out, span{lo, r[k].lo - 1})
			}
			if r[k].hi >= x.hi {
				covered = true
			} else {
				lo = r[k].hi + 1
			}
		}
		if !covered {
			out = append(out, span{lo, x.hi})
		}
	}
	return out
}

// find returns the index of the first span that ends at or after off.
func (s spans) find(off uint64) int {
	return sort.Search(len(s), func(i int) bool { return s[i].hi >= off })
}

// next returns the lowest member of s at or above off.
func (s spans) next(off uint64) (uint64, bool) {
	i := s.find(off)
	if i == len(s) {
		return 0, false
	}
	return max(off, s[i].lo), true
}

// has reports whether off is a member of s.
func (s spans) has(off uint64) bool {
	i := s.find(off)
	return i < len(s) && s[i].lo <= off
}

// size returns the number of members. It cannot overflow for a pool's spans: offset 0 (the network
// address) is never a member, so at most 2^64-1 offsets are.
func (s spans) size() uint64 {
	var n uint64
	for _, x := range s {
		n += x.hi - x.lo + 1
	}
	return n
}
