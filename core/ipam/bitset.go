package ipam

import (
	"math/bits"
	"slices"
	"sort"
)

const (
	chunkShift = 16
	chunkSize  = 1 << chunkShift // offsets per chunk
	chunkMask  = chunkSize - 1
	chunkWords = chunkSize / 64
	lastChunk  = ^uint64(0) >> chunkShift
	// sparseMax is where a chunk's sorted array (2 bytes a member) would outgrow its bitmap (8 KiB).
	sparseMax = chunkSize / 16
	// sparseMin is where a bitmap goes back to an array; the gap to sparseMax stops a chunk that hovers
	// around one size from converting on every call.
	sparseMin = sparseMax / 2
)

// bitset is a set of uint64 offsets in chunks of 65,536. An empty chunk is absent, a sparse one is a
// sorted array, a dense one a bitmap with a summary of its full words, so memory follows the number
// of members, not the span they lie in, and the lowest non-member is found in a few word operations.
type bitset struct {
	chunks map[uint64]*chunk
	n      uint64
	// last caches the chunk used most recently: allocation and restore mostly touch one chunk in a
	// row, and this saves them a map lookup per call.
	last  *chunk
	lastK uint64
}

// get returns chunk k, or nil when it is empty.
func (b *bitset) get(k uint64) *chunk {
	if b.last != nil && b.lastK == k {
		return b.last
	}
	c := b.chunks[k]
	if c != nil {
		b.last, b.lastK = c, k
	}
	return c
}

type chunk struct {
	n      int      // members
	sparse []uint16 // sorted members while dense is nil
	dense  *bitmap
}

type bitmap struct {
	words [chunkWords]uint64
	full  [chunkWords / 64]uint64 // bit w is set when words[w] has every bit set
}

func (b *bitset) has(off uint64) bool {
	c := b.get(off >> chunkShift)
	return c != nil && c.has(uint16(off))
}

// add inserts off and reports whether it was missing.
func (b *bitset) add(off uint64) bool {
	if b.chunks == nil {
		b.chunks = make(map[uint64]*chunk)
	}
	k := off >> chunkShift
	c := b.get(k)
	if c == nil {
		c = &chunk{}
		b.chunks[k] = c
		b.last, b.lastK = c, k
	}
	if !c.add(uint16(off)) {
		return false
	}
	b.n++
	return true
}

// remove deletes off and reports whether it was present. Empty chunks are dropped.
func (b *bitset) remove(off uint64) bool {
	k := off >> chunkShift
	c := b.get(k)
	if c == nil || !c.remove(uint16(off)) {
		return false
	}
	if c.n == 0 {
		delete(b.chunks, k)
		b.last = nil
	}
	b.n--
	return true
}

// nextClear returns the lowest offset at or above off that is not a member; false only when every
// offset from off to 2^64-1 is one. It visits one chunk per 65,536 consecutive members it passes.
func (b *bitset) nextClear(off uint64) (uint64, bool) {
	for {
		k := off >> chunkShift
		c := b.get(k)
		if c == nil {
			return off, true
		}
		if p := c.nextClear(int(off & chunkMask)); p < chunkSize {
			return k<<chunkShift | uint64(p), true
		}
		if k == lastChunk {
			return 0, false
		}
		off = (k + 1) << chunkShift
	}
}

func (c *chunk) has(p uint16) bool {
	if c.dense != nil {
		return c.dense.words[p>>6]&(1<<(p&63)) != 0
	}
	_, ok := slices.BinarySearch(c.sparse, p)
	return ok
}

func (c *chunk) add(p uint16) bool {
	if c.dense != nil {
		w, m := p>>6, uint64(1)<<(p&63)
		if c.dense.words[w]&m != 0 {
			return false
		}
		c.dense.words[w] |= m
		if c.dense.words[w] == ^uint64(0) {
			c.dense.full[w>>6] |= 1 << (w & 63)
		}
		c.n++
		return true
	}
	i, ok := slices.BinarySearch(c.sparse, p)
	if ok {
		return false
	}
	c.sparse = slices.Insert(c.sparse, i, p)
	c.n++
	if c.n > sparseMax {
		c.toDense()
	}
	return true
}

func (c *chunk) remove(p uint16) bool {
	if c.dense != nil {
		w, m := p>>6, uint64(1)<<(p&63)
		if c.dense.words[w]&m == 0 {
			return false
		}
		c.dense.words[w] &^= m
		c.dense.full[w>>6] &^= 1 << (w & 63)
		c.n--
		if c.n < sparseMin {
			c.toSparse()
		}
		return true
	}
	i, ok := slices.BinarySearch(c.sparse, p)
	if !ok {
		return false
	}
	c.sparse = slices.Delete(c.sparse, i, i+1)
	c.n--
	return true
}

func (c *chunk) toDense() {
	d := &bitmap{}
	for _, p := range c.sparse {
		d.words[p>>6] |= 1 << (p & 63)
	}
	for w, x := range d.words {
		if x == ^uint64(0) {
			d.full[w>>6] |= 1 << (w & 63)
		}
	}
	c.dense, c.sparse = d, nil
}

func (c *chunk) toSparse() {
	s := make([]uint16, 0, c.n)
	for w, x := range c.dense.words {
		for x != 0 {
			s = append(s, uint16(w<<6|bits.TrailingZeros64(x)))
			x &= x - 1
		}
	}
	c.sparse, c.dense = s, nil
}

// nextClear returns the lowest position at or above p that is not a member, or chunkSize if none is.
func (c *chunk) nextClear(p int) int {
	if c.n == chunkSize {
		return chunkSize
	}
	if c.dense != nil {
		return c.dense.nextClear(p)
	}
	s := c.sparse
	i := sort.Search(len(s), func(i int) bool { return int(s[i]) >= p })
	if i == len(s) || int(s[i]) != p {
		return p
	}
	// Members are distinct and sorted, so s[j]-j never decreases and stays equal to s[i]-i exactly
	// while s[i..j] is a run of consecutive positions: a binary search finds the run's end.
	d := int(s[i]) - i
	j := i + sort.Search(len(s)-i, func(k int) bool { return int(s[i+k])-(i+k) != d })
	return int(s[j-1]) + 1
}

func (d *bitmap) nextClear(p int) int {
	w := p >> 6
	if m := ^d.words[w] &^ (1<<(p&63) - 1); m != 0 {
		return w<<6 | bits.TrailingZeros64(m)
	}
	for w++; w < chunkWords; w = (w | 63) + 1 {
		if m := ^d.full[w>>6] &^ (1<<(w&63) - 1); m != 0 {
			w = w&^63 | bits.TrailingZeros64(m)
			return w<<6 | bits.TrailingZeros64(^d.words[w])
		}
	}
	return chunkSize
}

// max returns the highest member; ok is false when there is none.
func (b *bitset) max() (off uint64, ok bool) {
	var top *chunk
	var k uint64
	for ck, c := range b.chunks {
		if c.n > 0 && (top == nil || ck > k) {
			top, k = c, ck
		}
	}
	if top == nil {
		return 0, false
	}
	if top.dense == nil {
		return k<<chunkShift | uint64(top.sparse[len(top.sparse)-1]), true
	}
	for w := len(top.dense.words) - 1; w >= 0; w-- {
		if x := top.dense.words[w]; x != 0 {
			return k<<chunkShift | uint64(w*64+bits.Len64(x)-1), true
		}
	}
	return 0, false
}
