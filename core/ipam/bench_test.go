package ipam

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

// heapBytes returns the live heap after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// bytesPerAddr returns how much live heap fill adds to a new pool, per address it puts in use. Call it
// before b.Loop and report it after: b.Loop's first call deletes metrics reported earlier.
func bytesPerAddr(b *testing.B, s model.Subnet, n int, fill func(*Pool)) float64 {
	before := heapBytes()
	p, err := NewPool(&s)
	if err != nil {
		b.Fatal(err)
	}
	fill(p)
	after := heapBytes()
	if got := p.Stats().Used; got != uint64(n) {
		b.Fatalf("filled %d addresses, want %d", got, n)
	}
	runtime.KeepAlive(p)
	return float64(int64(after)-int64(before)) / float64(n)
}

func reportRate(b *testing.B, n int) {
	ops := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/ops, "ns/addr")
	b.ReportMetric(ops/b.Elapsed().Seconds(), "addrs/s")
}

// BenchmarkAllocate fills a fresh pool with n addresses per iteration.
func BenchmarkAllocate(b *testing.B) {
	for _, tc := range []struct {
		name string
		cidr string
		n    int
	}{
		{"v4-16", "10.0.0.0/16", 65000},
		{"v4-8", "10.0.0.0/8", 100000},
		{"v6-64", "fd00::/64", 100000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := model.Subnet{CIDR: netip.MustParsePrefix(tc.cidr)}
			fill := func(p *Pool) {
				for range tc.n {
					if _, _, err := p.Allocate(); err != nil {
						b.Fatal(err)
					}
				}
			}
			mem := bytesPerAddr(b, s, tc.n, fill)
			for b.Loop() {
				p, _ := NewPool(&s)
				fill(p)
			}
			reportRate(b, tc.n)
			b.ReportMetric(mem, "B/addr")
		})
	}
}

// BenchmarkClaimRestore claims 150,000 addresses in random order, as a cold start restoring ports
// from storage does: the first 150,000 of a /14 shuffled (what allocation leaves behind), and
// 150,000 addresses scattered over a /64 (the worst case for memory).
func BenchmarkClaimRestore(b *testing.B) {
	const n = 150000
	rng := rand.New(rand.NewPCG(1, 2))
	dense := model.Subnet{CIDR: netip.MustParsePrefix("10.64.0.0/14")}
	sparse := model.Subnet{CIDR: netip.MustParsePrefix("fd00:1::/64")}
	for _, tc := range []struct {
		name string
		s    model.Subnet
		offs func() uint64
	}{
		{"v4-14-dense-shuffled", dense, nil},
		{"v6-64-scattered", sparse, func() uint64 { return 1 + rng.Uint64N(1<<63) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, _ := NewPool(&tc.s)
			seen := map[netip.Addr]bool{}
			var list []netip.Addr
			for i := uint64(1); len(list) < n; i++ {
				off := i
				if tc.offs != nil {
					off = tc.offs()
				}
				if a := p.addr(off); !seen[a] {
					seen[a] = true
					list = append(list, a)
				}
			}
			rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
			fill := func(p *Pool) {
				for _, a := range list {
					if _, err := p.Claim(a); err != nil {
						b.Fatal(err)
					}
				}
			}
			mem := bytesPerAddr(b, tc.s, n, fill)
			for b.Loop() {
				p, _ := NewPool(&tc.s)
				fill(p)
			}
			reportRate(b, n)
			b.ReportMetric(mem, "B/addr")
		})
	}
}

// BenchmarkChurn keeps 150,000 addresses of a /14 in use; each op releases a random one, expires what
// is due, and allocates. With a cooldown, released addresses wait 30,000 ops before reuse, so each
// Allocate searches past the cooling ones; without, two releases and two allocations per op make the
// second Allocate search from one hole to the next.
func BenchmarkChurn(b *testing.B) {
	const n = 150000
	for _, cooldown := range []model.Time{30000, 0} {
		name := "cooldown"
		if cooldown == 0 {
			name = "no-cooldown"
		}
		b.Run(name, func(b *testing.B) {
			s := model.Subnet{CIDR: netip.MustParsePrefix("10.64.0.0/14")}
			p, _ := NewPool(&s)
			used := make([]netip.Addr, n)
			for i := range used {
				used[i], _, _ = p.Allocate()
			}
			rng := rand.New(rand.NewPCG(3, 4))
			now := model.Time(1)
			churn := func() {
				i := rng.IntN(n)
				until := model.Time(0)
				if cooldown > 0 {
					until = now + cooldown
				}
				p.Release(used[i], until)
				now++
				p.Expire(now)
				a, _, err := p.Allocate()
				if err != nil {
					b.Fatal(err)
				}
				used[i] = a
			}
			for range 2 * cooldown { // reach the steady state: as many cooling as one cooldown's releases
				churn()
			}
			for b.Loop() {
				churn()
				if cooldown == 0 {
					churn()
				}
			}
			st := p.Stats()
			b.ReportMetric(float64(st.Cooling), "cooling")
		})
	}
}

// BenchmarkMACAllocate fills a MAC pool with 100,000 MACs per iteration.
func BenchmarkMACAllocate(b *testing.B) {
	const n = 100000
	for b.Loop() {
		m := NewMACPool("acme/net", `network "acme/net"`)
		for range n {
			if _, err := m.Allocate(); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, n)
}
