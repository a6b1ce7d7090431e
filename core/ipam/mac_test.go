package ipam

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func mac(t *testing.T, s string) model.MAC {
	t.Helper()
	m, err := model.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMACPrefix(t *testing.T) {
	seen := map[[2]byte]bool{}
	for i := range 2000 {
		seed := fmt.Sprintf("tenant-%d/net", i)
		m := NewMACPool(seed, fmt.Sprintf("network %q", seed))
		p := m.Prefix()
		if p[0]&0x02 == 0 || p[0]&0x01 != 0 {
			t.Fatalf("%s: prefix %x is not locally administered unicast", seed, p)
		}
		h := fnv.New32a()
		h.Write([]byte(seed))
		s := h.Sum32()
		if p[1] != byte(s) || p[0]|0x03 != byte(s>>8)|0x03 {
			t.Fatalf("%s: prefix %x does not come from FNV-1a %08x", seed, p, s)
		}
		seen[p] = true
		first, err := m.Allocate()
		if err != nil || first != (model.MAC{p[0], p[1], 0, 0, 0, 1}) {
			t.Fatalf("%s: first MAC %s, %v", seed, first, err)
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("2000 seeds gave only %d prefixes", len(seen))
	}
	if a, b := NewMACPool("acme/net-a", `network "acme/net-a"`).Prefix(), NewMACPool("acme/net-a", `network "acme/net-a"`).Prefix(); a != b {
		t.Fatal("same seed, different prefixes")
	}
	if got := NewMACPool("x", `network "x"`).String(); !strings.HasSuffix(got, ":xx:xx:xx:xx") || len(got) != 17 {
		t.Fatalf("String = %q", got)
	}
}

func TestMACAllocateClaimRelease(t *testing.T) {
	m := NewMACPool("acme/net-a", `network "acme/net-a"`)
	p := m.Prefix()
	at := func(c uint32) model.MAC {
		return model.MAC{p[0], p[1], byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
	}
	// A static MAC inside the prefix is skipped by Allocate.
	if err := m.Claim(at(2)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []model.MAC{at(1), at(3), at(4)} {
		if got, err := m.Allocate(); err != nil || got != want {
			t.Fatalf("Allocate = %s, %v; want %s", got, err, want)
		}
	}
	static := mac(t, "52:54:00:12:34:56")
	if err := m.Claim(static); err != nil {
		t.Fatalf("Claim of a MAC outside the prefix: %v", err)
	}
	if m.Len() != 5 || !m.InUse(static) || !m.InUse(at(3)) || m.InUse(at(5)) {
		t.Fatalf("Len=%d InUse wrong", m.Len())
	}
	for _, tc := range []struct {
		mac  model.MAC
		code model.Code
	}{
		{static, model.CodeConflict},
		{at(3), model.CodeConflict},
		{model.MAC{}, model.CodeInvalid},
		{mac(t, "01:00:5e:00:00:01"), model.CodeInvalid},
		{mac(t, "ff:ff:ff:ff:ff:ff"), model.CodeInvalid},
	} {
		if err := m.Claim(tc.mac); model.CodeOf(err) != tc.code {
			t.Errorf("Claim(%s) = %v, want %s", tc.mac, err, tc.code)
		}
	}
	if !m.Release(at(3)) || m.Release(at(3)) || !m.Release(static) || m.Release(static) || m.Release(at(99)) {
		t.Fatal("Release must report true once per MAC in use")
	}
	if got, _ := m.Allocate(); got != at(3) {
		t.Fatalf("Allocate after release = %s, want the lowest free %s", got, at(3))
	}
	if m.Len() != 4 {
		t.Fatalf("Len = %d, want 4", m.Len())
	}
	// Counter 0 is never handed out but can be claimed as a static MAC.
	if err := m.Claim(at(0)); err != nil || !m.InUse(at(0)) || !m.Release(at(0)) {
		t.Fatalf("counter 0: %v", err)
	}
}

func TestMACExhaustion(t *testing.T) {
	m := NewMACPool("tiny", `network "tiny"`)
	m.limit = 3
	for range 3 {
		if _, err := m.Allocate(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Allocate()
	if !errors.Is(err, model.ErrExhausted) || !strings.Contains(err.Error(), `network "tiny" has no free MAC: all 3 of`) {
		t.Fatalf("Allocate on a full MAC pool: %v", err)
	}
	p := m.Prefix()
	m.Release(model.MAC{p[0], p[1], 0, 0, 0, 2})
	if got, err := m.Allocate(); err != nil || got != (model.MAC{p[0], p[1], 0, 0, 0, 2}) {
		t.Fatalf("Allocate after release = %s, %v", got, err)
	}
}

// TestMACAgainstMap checks uniqueness and lowest-first allocation against a plain map on a tiny space.
func TestMACAgainstMap(t *testing.T) {
	seed := uint64(42)
	rng := rand.New(rand.NewPCG(seed, seed))
	m := NewMACPool("prop", `network "prop"`)
	m.limit = 40
	p := m.Prefix()
	at := func(c int) model.MAC { return model.MAC{p[0], p[1], 0, 0, 0, byte(c)} }
	used := map[model.MAC]bool{}
	for step := range 20000 {
		switch rng.IntN(3) {
		case 0:
			got, err := m.Allocate()
			want := -1
			for c := 1; c <= 40; c++ {
				if !used[at(c)] {
					want = c
					break
				}
			}
			if want < 0 {
				if model.CodeOf(err) != model.CodeExhausted {
					t.Fatalf("seed %d step %d: Allocate = %s, %v; want exhausted", seed, step, got, err)
				}
				continue
			}
			if err != nil || got != at(want) {
				t.Fatalf("seed %d step %d: Allocate = %s, %v; want %s", seed, step, got, err, at(want))
			}
			used[got] = true
		case 1:
			x := at(rng.IntN(45))
			if rng.IntN(4) == 0 {
				x = model.MAC{0x52, 0x54, 0, 0, 0, byte(rng.IntN(5))}
			}
			err := m.Claim(x)
			if used[x] != (model.CodeOf(err) == model.CodeConflict) || !used[x] && err != nil {
				t.Fatalf("seed %d step %d: Claim(%s) = %v with used=%v", seed, step, x, err, used[x])
			}
			used[x] = true
		case 2:
			x := at(rng.IntN(45))
			if rng.IntN(4) == 0 {
				x = model.MAC{0x52, 0x54, 0, 0, 0, byte(rng.IntN(5))}
			}
			if m.Release(x) != used[x] {
				t.Fatalf("seed %d step %d: Release(%s) disagrees with used=%v", seed, step, x, used[x])
			}
			delete(used, x)
		}
		if m.Len() != len(used) {
			t.Fatalf("seed %d step %d: Len = %d, want %d", seed, step, m.Len(), len(used))
		}
	}
}
