package etcdstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
)

// BenchmarkApply measures durable command throughput on the embedded etcd (real fsync), with one
// caller and with 64 concurrent callers sharing group commits. Each command is a port allocation:
// the port record (~300 bytes of JSON) and its address index entry. The baseline, raw-etcd, is 64
// callers each sending the same command as its own unfenced transaction straight to etcd.
func BenchmarkApply(b *testing.B) {
	for _, tc := range []struct {
		name    string
		callers int
		raw     bool
	}{{"callers=1", 1, false}, {"callers=64", 64, false}, {"raw-etcd/callers=64", 64, true}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := testConfig(b)
			s := leader(b, cfg, "bench")
			write := func(muts []alloc.Mutation) error { return s.Apply(context.Background(), muts) }
			if tc.raw {
				c := rawClient(b)
				write = func(muts []alloc.Mutation) error {
					ops := make([]clientv3.Op, len(muts))
					for i, m := range muts {
						ops[i] = clientv3.OpPut(cfg.Prefix+m.Key, string(m.Value))
					}
					_, err := c.Txn(context.Background()).Then(ops...).Commit()
					return err
				}
			}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, tc.callers)
			b.ResetTimer()
			start := time.Now()
			for range tc.callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= b.N {
							return
						}
						muts := []alloc.Mutation{
							put(fmt.Sprintf("ports/%08d", i), portJSON(i)),
							put(fmt.Sprintf("ips/%08d", i), fmt.Sprintf("port-%08d", i)),
						}
						t0 := time.Now()
						if err := write(muts); err != nil {
							errs <- err
							return
						}
						lat[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "mutations/s")
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commands/s")
			if st := s.Stats(); !tc.raw {
				b.ReportMetric(float64(st.Commands)/float64(max(st.Txns, 1)), "commands/txn")
			}
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

const loadRecords = 150000

var loadSetup sync.Once

// BenchmarkLoad150k measures a cold start's read: Load of 150,000 port-sized records.
func BenchmarkLoad150k(b *testing.B) {
	cfg := shared.ClientConfig()
	cfg.Prefix = "/bench/load150k/"
	s := openStore(b, cfg)
	loadSetup.Do(func() {
		w := openStore(b, cfg)
		campaign(b, w, "bench")
		const per = 2000 // records per command: one transaction each, well inside the limits
		for lo := 0; lo < loadRecords; lo += per {
			muts := make([]alloc.Mutation, 0, per)
			for i := lo; i < lo+per; i++ {
				muts = append(muts, put(fmt.Sprintf("ports/%08d", i), portJSON(i)))
			}
			apply(b, w, muts...)
		}
		w.Close()
	})
	for b.Loop() {
		recs, err := s.Load(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != loadRecords {
			b.Fatalf("Load returned %d records, want %d", len(recs), loadRecords)
		}
	}
	b.ReportMetric(float64(loadRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
