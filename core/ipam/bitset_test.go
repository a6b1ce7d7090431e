package ipam

import (
	"math/rand/v2"
	"testing"
)

// TestBitsetAgainstMap drives a bitset and a map through the same random adds and removes, in a
// range narrow enough that chunks go from sparse to dense and back, and compares membership, counts
// and nextClear from random points.
func TestBitsetAgainstMap(t *testing.T) {
	for _, width := range []uint64{200, 3 * chunkSize, 2 * sparseMax} {
		rng := rand.New(rand.NewPCG(7, width))
		var b bitset
		ref := map[uint64]bool{}
		base := uint64(chunkSize - 100) // straddle a chunk boundary
		for step := range 60000 {
			off := base + rng.Uint64N(width)
			// Bias toward adding for the first half and removing for the second, so chunks fill and empty.
			if add := rng.IntN(100) < 80; step < 30000 == add {
				if b.add(off) == ref[off] {
					t.Fatalf("width %d step %d: add(%d) reported %v with member=%v", width, step, off, !ref[off], ref[off])
				}
				ref[off] = true
			} else {
				if b.remove(off) != ref[off] {
					t.Fatalf("width %d step %d: remove(%d) disagrees with member=%v", width, step, off, ref[off])
				}
				delete(ref, off)
			}
			if b.n != uint64(len(ref)) {
				t.Fatalf("width %d step %d: n = %d, want %d", width, step, b.n, len(ref))
			}
			if step%97 == 0 {
				from := base - 3 + rng.Uint64N(width+6)
				want := from
				for ref[want] {
					want++
				}
				if got, ok := b.nextClear(from); !ok || got != want {
					t.Fatalf("width %d step %d: nextClear(%d) = %d, %v, want %d", width, step, from, got, ok, want)
				}
				if b.has(from) != ref[from] {
					t.Fatalf("width %d step %d: has(%d) = %v", width, step, from, !ref[from])
				}
			}
		}
		if len(ref) == 0 && len(b.chunks) != 0 {
			t.Fatalf("width %d: empty set keeps %d chunks", width, len(b.chunks))
		}
	}
}

func TestBitsetRepresentation(t *testing.T) {
	var b bitset
	for i := range uint64(sparseMax) {
		b.add(i)
	}
	if c := b.chunks[0]; c.dense != nil || len(c.sparse) != sparseMax {
		t.Fatalf("chunk with %d members should still be sparse", sparseMax)
	}
	b.add(sparseMax)
	if c := b.chunks[0]; c.dense == nil || c.sparse != nil {
		t.Fatalf("chunk with %d members should be dense", sparseMax+1)
	}
	for i := uint64(sparseMin); i <= sparseMax; i++ {
		b.remove(i)
	}
	if c := b.chunks[0]; c.dense == nil || c.n != sparseMin {
		t.Fatalf("chunk with %d members should still be dense (hysteresis), n=%d", sparseMin, c.n)
	}
	b.remove(sparseMin - 1)
	if c := b.chunks[0]; c.dense != nil || len(c.sparse) != sparseMin-1 || !b.has(sparseMin-2) || b.has(sparseMin-1) {
		t.Fatalf("chunk shrunk below %d members should be sparse again with the same members", sparseMin)
	}
	for i := range uint64(sparseMin - 1) {
		b.remove(i)
	}
	if len(b.chunks) != 0 || b.n != 0 {
		t.Fatalf("empty bitset keeps %d chunks, n=%d", len(b.chunks), b.n)
	}
}

func TestBitsetFullChunksAndTop(t *testing.T) {
	var b bitset
	for i := range uint64(2*chunkSize + 5) {
		b.add(i)
	}
	if got, _ := b.nextClear(0); got != 2*chunkSize+5 {
		t.Fatalf("nextClear over two full chunks = %d, want %d", got, 2*chunkSize+5)
	}
	// The only clear bit sits in the second summary word, below the search start's position in the
	// first one.
	b.remove(67*64 + 5)
	if got, _ := b.nextClear(10*64 + 3); got != 67*64+5 {
		t.Fatalf("nextClear = %d, want %d", got, 67*64+5)
	}
	b.add(67*64 + 5)
	b.remove(chunkSize + 7)
	if got, _ := b.nextClear(3); got != chunkSize+7 {
		t.Fatalf("nextClear = %d, want %d", got, chunkSize+7)
	}
	// The last chunk of the 64-bit space: no wrap-around past 2^64-1.
	top := ^uint64(0)
	var c bitset
	for i := range uint64(chunkSize) {
		c.add(top - i)
	}
	if _, ok := c.nextClear(top - 10); ok {
		t.Fatal("nextClear found a clear offset above a full last chunk")
	}
	c.remove(top)
	if got, ok := c.nextClear(top - 10); !ok || got != top {
		t.Fatalf("nextClear = %d, %v, want 2^64-1", got, ok)
	}
}
