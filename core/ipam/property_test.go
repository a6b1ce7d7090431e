package ipam

import (
	"math/rand/v2"
	"testing"
)

// TestPoolAgainstNaiveModel runs 10,000 random command sequences (1,000 with -short; a quarter of
// either under -race) against the naive ref. A failure prints the seed; rerun one sequence with the
// seed to debug it.
func TestPoolAgainstNaiveModel(t *testing.T) {
	sequences := 10000
	if testing.Short() {
		sequences = 1000
	}
	sequences /= raceScale
	for i := range sequences {
		seed := uint64(i)
		c := randChooser{rand.New(rand.NewPCG(seed, 0x1a3))}
		if err := runSequence(c, 20+c.intn(100)); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// FuzzPool drives the same comparison from the fuzzer's bytes: the first bytes choose the subnet, each
// following byte or two a command, up to 300 commands.
func FuzzPool(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runSequence(&byteChooser{b: data}, 300); err != nil {
			t.Fatal(err)
		}
	})
}
