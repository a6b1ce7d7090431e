package alloc

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func benchState(b *testing.B, cidr string) *State {
	b.Helper()
	s, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CreateTenant(Admin, model.Tenant{Name: "t"}); err != nil {
		b.Fatal(err)
	}
	n := model.Network{Tenant: "t", Name: "n", Type: model.Overlay}
	p := netip.MustParsePrefix(cidr)
	if p.Addr().Is4() {
		n.IPv4 = &model.Subnet{CIDR: p}
	} else {
		n.IPv6 = &model.Subnet{CIDR: p}
	}
	if _, _, err := s.CreateNetwork(Admin, n); err != nil {
		b.Fatal(err)
	}
	return s
}

func onePortPod(i int) PodRequest {
	uid := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
	return PodRequest{Pod: model.PodRef{UID: uid, Namespace: "t", Name: uid[:8]}, Tenant: "t",
		Requests: []model.AttachRequest{{Network: "n", Interface: "eth0"}}}
}

// BenchmarkAllocatePod measures whole-pod allocations (one port each, mutations encoded) on an
// IPv4 /16, an IPv4 /8 and an IPv6 /64 network. The state is rebuilt every 60,000 pods so the /16 never
// runs out.
func BenchmarkAllocatePod(b *testing.B) {
	for _, cidr := range []string{"10.0.0.0/16", "10.0.0.0/8", "fd00::/64"} {
		b.Run(cidr, func(b *testing.B) {
			s := benchState(b, cidr)
			reqs := make([]PodRequest, 60000)
			for i := range reqs {
				reqs[i] = onePortPod(i)
			}
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%len(reqs) == 0 {
					b.StopTimer()
					s = benchState(b, cidr)
					b.StartTimer()
				}
				if _, _, err := s.AllocatePod(Admin, reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ports/s")
		})
	}
}

// BenchmarkHeapPerPort fills a network with 50,000 one-port pods per iteration and reports the live
// heap each port costs in the state (pod record, port, pool bits), on the same three networks.
func BenchmarkHeapPerPort(b *testing.B) {
	const pods = 50000
	for _, cidr := range []string{"10.0.0.0/16", "10.0.0.0/8", "fd00::/64"} {
		b.Run(cidr, func(b *testing.B) {
			reqs := make([]PodRequest, pods)
			for i := range reqs {
				reqs[i] = onePortPod(i)
			}
			var perPort float64
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				s := benchState(b, cidr)
				for i := range reqs {
					if _, _, err := s.AllocatePod(Admin, reqs[i]); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perPort = float64(after.HeapAlloc-before.HeapAlloc) / pods
				runtime.KeepAlive(s)
			}
			b.ReportMetric(perPort, "heapB/port")
		})
	}
}

// BenchmarkRestore150k measures rebuilding the state from the records of 150,000 ports (50,000
// pods of three ports on three networks), as a manager does at start or on failover.
func BenchmarkRestore150k(b *testing.B) {
	s, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	store := map[string][]byte{}
	apply := func(muts []Mutation, err error) {
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range muts {
			store[m.Key] = m.Value
		}
	}
	apply(s.CreateTenant(Admin, model.Tenant{Name: "t"}))
	for i, cidr := range []string{"10.0.0.0/16", "10.1.0.0/16", "fd00::/64"} {
		n := model.Network{Tenant: "t", Name: fmt.Sprintf("n%d", i), Type: model.Overlay}
		if i < 2 {
			n.IPv4 = &model.Subnet{CIDR: netip.MustParsePrefix(cidr)}
		} else {
			n.IPv6 = &model.Subnet{CIDR: netip.MustParsePrefix(cidr)}
		}
		_, m, err := s.CreateNetwork(Admin, n)
		apply(m, err)
	}
	for i := range 50000 {
		r := onePortPod(i)
		r.Requests = []model.AttachRequest{{Network: "n0", Interface: "eth0"}, {Network: "n1", Interface: "net1"}, {Network: "n2", Interface: "net2"}}
		_, m, err := s.AllocatePod(Admin, r)
		apply(m, err)
	}
	recs := make([]Record, 0, len(store))
	for _, k := range sortedKeys(store) {
		recs = append(recs, Record{Key: k, Value: store[k]})
	}
	b.ResetTimer()
	for range b.N {
		r, err := Restore(DefaultConfig(), recs)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.pods) != 50000 {
			b.Fatalf("restored %d pods", len(r.pods))
		}
	}
	b.ReportMetric(150000*float64(b.N)/b.Elapsed().Seconds(), "ports/s")
}
