package bench

import (
	"context"
	"fmt"
	"io"
	"log"
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

func newRig(b *testing.B, dir string) *rig { return newRigInflight(b, dir, 0) }

// newRigInflight is newRig with at most inflight etcd transactions in flight (0: the default).
func newRigInflight(b *testing.B, dir string, inflight int) *rig {
	b.Helper()
	// etcd wants its data directory private; a fresh subdirectory is created with mode 0700.
	emb, err := etcdstore.StartEmbedded(etcdstore.EmbedConfig{DataDir: filepath.Join(dir, "etcd"), LogLevel: "error"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cfg := emb.ClientConfig()
	cfg.MaxInflight = inflight
	store, err := etcdstore.Open(ctx, cfg)
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

// reportStore reports the etcd writer's commands per transaction and how many transactions were
// sent again because they reached etcd before the one before them.
func (r *rig) reportStore(b *testing.B) {
	st := r.store.Stats()
	if st.Txns > 0 {
		b.ReportMetric(float64(st.Commands)/float64(st.Txns), "cmds/txn")
		b.ReportMetric(float64(st.Reordered), "resent")
	}
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
func run(b *testing.B, clients int, fn func(client int, i int64) error) {
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
				if err := fn(c, i); err != nil {
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
// embedded etcd, with 1, 16 and 64 concurrent clients: every answer is durable in etcd. The clients
// are long-lived: each has made one request before the timing starts, so the TLS handshakes (one
// per connection) are outside it. h2 is what knitter-manager serves and its clients negotiate (one
// multiplexed connection for all the goroutines of one client); h1 is HTTP/1.1, a connection per
// concurrent request. shared: all the goroutines share one Client, as one monitor would; otherwise
// each has its own Client (its own connection), as separate agents would. inflight=1 writes one etcd
// transaction at a time, the writer before pipelining.
func BenchmarkManagerAllocateHTTPS(b *testing.B) {
	for _, tc := range []struct {
		clients, inflight int
		h2, shared        bool
	}{{1, 0, true, false}, {16, 0, true, false}, {64, 0, true, false}, {64, 0, true, true}, {64, 0, false, true}, {64, 1, true, false}} {
		name := fmt.Sprintf("clients=%d", tc.clients)
		if !tc.h2 {
			name += "/h1"
		}
		if tc.shared {
			name += "/shared"
		}
		if tc.inflight != 0 {
			name += fmt.Sprintf("/inflight=%d", tc.inflight)
		}
		clients := tc.clients
		b.Run(name, func(b *testing.B) {
			r := newRigInflight(b, b.TempDir(), tc.inflight)
			defer r.close()
			r.setup(b)
			srv := httptest.NewUnstartedServer(httpapi.NewServer(backend{r.mgr}, httpapi.Options{}))
			srv.EnableHTTP2 = tc.h2
			// httptest's own client, unused, leaves handshakes that Close interrupts; they are noise.
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			defer srv.Close()
			tr := srv.Client().Transport.(*http.Transport)
			tlsConf := tr.TLSClientConfig.Clone()
			if !tc.h2 {
				tlsConf.NextProtos = []string{"http/1.1"}
			}
			cs := make([]*httpapi.Client, clients)
			for i := range cs {
				if i > 0 && tc.shared {
					cs[i] = cs[0]
					continue
				}
				c, err := httpapi.NewClient(httpapi.ClientConfig{URL: srv.URL, Token: "bench-admin-token-0123456789", TLSConfig: tlsConf})
				if err != nil {
					b.Fatal(err)
				}
				cs[i] = c
			}
			var warm sync.WaitGroup
			for i, c := range cs {
				warm.Go(func() {
					if _, _, err := c.AllocatePod(context.Background(), pod(int64(1<<40+i))); err != nil {
						b.Error(err)
					}
				})
			}
			warm.Wait()
			run(b, clients, func(c int, i int64) error {
				_, _, err := cs[c].AllocatePod(context.Background(), pod(i))
				return err
			})
			r.reportStore(b)
		})
	}
}

// BenchmarkManagerAllocateDirect is the same without HTTP: manager.Do straight into etcd, to show
// what the API layer costs.
func BenchmarkManagerAllocateDirect(b *testing.B) {
	for _, tc := range []struct{ clients, inflight int }{{1, 0}, {64, 0}, {64, 1}, {64, 2}} {
		name := fmt.Sprintf("clients=%d", tc.clients)
		if tc.inflight != 0 {
			name += fmt.Sprintf("/inflight=%d", tc.inflight)
		}
		clients := tc.clients
		b.Run(name, func(b *testing.B) {
			r := newRigInflight(b, b.TempDir(), tc.inflight)
			defer r.close()
			r.setup(b)
			run(b, clients, func(_ int, i int64) error {
				_, err := r.mgr.Do(context.Background(), alloc.AllocatePodCmd{PodRequest: pod(i)})
				return err
			})
			r.reportStore(b)
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
