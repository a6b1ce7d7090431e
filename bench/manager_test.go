package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/adapters/etcdstore"
	"github.com/knitter-cni/knitter/adapters/httpapi"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/manager"
)

type backend struct{ *manager.Manager }

func (b backend) Status() httpapi.Status {
	ok, why := b.Ready()
	return httpapi.Status{Ready: ok, Leader: ok, Reason: why}
}

// rig is a leading manager on an embedded etcd.
type rig struct {
	emb   *etcdstore.Embedded
	store *etcdstore.Store
	mgr   *manager.Manager
}

func newRig(b *testing.B, dir string) *rig {
	b.Helper()
	// etcd wants its data directory private; a fresh subdirectory is created with mode 0700.
	emb, err := etcdstore.StartEmbedded(etcdstore.EmbedConfig{DataDir: filepath.Join(dir, "etcd"), LogLevel: "error"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	store, err := etcdstore.Open(ctx, emb.ClientConfig())
	if err != nil {
		b.Fatal(err)
	}
	term, err := store.Campaign(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	mgr, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), AdminToken: "bench-admin-token-0123456789"})
	if err != nil {
		b.Fatal(err)
	}
	if err := mgr.Activate(ctx, etcdstore.ManagerTerm(term)); err != nil {
		b.Fatal(err)
	}
	return &rig{emb: emb, store: store, mgr: mgr}
}

func (r *rig) close() {
	r.store.Close()
	r.emb.Close()
}

func (r *rig) setup(b *testing.B) {
	b.Helper()
	for _, c := range []alloc.Command{
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "t"}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: "t", Name: "n", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.0.0.0/8")}}},
	} {
		if _, err := r.mgr.Do(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// pod is the reference pod of the design's targets: eth0 plus three extra interfaces.
func pod(i int64) alloc.PodRequest {
	uid := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
	return alloc.PodRequest{Pod: model.PodRef{UID: uid, Namespace: "t", Name: uid[:8]}, Tenant: "t",
		Requests: []model.AttachRequest{{Network: "n", Interface: "eth0"}, {Network: "n", Interface: "net1"},
			{Network: "n", Interface: "net2"}, {Network: "n", Interface: "net3"}}}
}

// portsPerPod is the number of ports of pod(i).
const portsPerPod = 4

// run spreads b.N calls of fn over `clients` goroutines and reports calls/s and latency percentiles.
func run(b *testing.B, clients int, fn func(i int64) error) {
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				start := time.Now()
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
				lat[c] = append(lat[c], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "pods/s")
	b.ReportMetric(portsPerPod*float64(len(all))/b.Elapsed().Seconds(), "ports/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkManagerAllocateHTTPS allocates four-port pods through the real HTTPS API of a manager on an
// embedded etcd, with 1, 16 and 64 concurrent clients: every answer is durable in etcd.
func BenchmarkManagerAllocateHTTPS(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			r := newRig(b, b.TempDir())
			defer r.close()
			r.setup(b)
			srv := httptest.NewTLSServer(httpapi.NewServer(backend{r.mgr}, httpapi.Options{}))
			defer srv.Close()
			tr := srv.Client().Transport.(*http.Transport)
			c, err := httpapi.NewClient(httpapi.ClientConfig{URL: srv.URL, Token: "bench-admin-token-0123456789", TLSConfig: tr.TLSClientConfig})
			if err != nil {
				b.Fatal(err)
			}
			run(b, clients, func(i int64) error {
				_, _, err := c.AllocatePod(context.Background(), pod(i))
				return err
			})
		})
	}
}

// BenchmarkManagerAllocateDirect is the same without HTTP: manager.Do straight into etcd, to show
// what the API layer costs.
func BenchmarkManagerAllocateDirect(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			r := newRig(b, b.TempDir())
			defer r.close()
			r.setup(b)
			run(b, clients, func(i int64) error {
				_, err := r.mgr.Do(context.Background(), alloc.AllocatePodCmd{PodRequest: pod(i)})
				return err
			})
		})
	}
}

// BenchmarkManagerColdStart150k measures what a manager does when it wins the election: load every
// record from etcd and rebuild the state, with 150,000 ports (50,000 pods of three ports) stored.
func BenchmarkManagerColdStart150k(b *testing.B) {
	dir := b.TempDir()
	r := newRig(b, dir)
	s, err := alloc.New(alloc.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var muts []alloc.Mutation
	add := func(m []alloc.Mutation, err error) {
		if err != nil {
			b.Fatal(err)
		}
		muts = append(muts, m...)
	}
	add(s.CreateTenant(alloc.Admin, model.Tenant{Name: "t"}))
	for i, cidr := range []string{"10.0.0.0/16", "10.1.0.0/16", "fd00::/64"} {
		n := model.Network{Tenant: "t", Name: fmt.Sprintf("n%d", i), Type: model.Overlay}
		if i < 2 {
			n.IPv4 = &model.Subnet{CIDR: netip.MustParsePrefix(cidr)}
		} else {
			n.IPv6 = &model.Subnet{CIDR: netip.MustParsePrefix(cidr)}
		}
		_, m, err := s.CreateNetwork(alloc.Admin, n)
		add(m, err)
	}
	for i := range int64(50000) {
		req := pod(i)
		req.Requests = []model.AttachRequest{{Network: "n0", Interface: "eth0"}, {Network: "n1", Interface: "net1"}, {Network: "n2", Interface: "net2"}}
		_, m, err := s.AllocatePod(alloc.Admin, req)
		add(m, err)
	}
	for len(muts) > 0 {
		n := min(len(muts), 5000)
		if err := r.store.Apply(context.Background(), muts[:n]); err != nil {
			b.Fatal(err)
		}
		muts = muts[n:]
	}
	b.ResetTimer()
	for range b.N {
		mgr, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig()})
		if err != nil {
			b.Fatal(err)
		}
		term, err := r.store.Campaign(context.Background(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		if err := mgr.Activate(context.Background(), etcdstore.ManagerTerm(term)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/start")
	r.close()
}
