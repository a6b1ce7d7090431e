package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
	"github.com/knitter-cni/knitter/manager/storetest"
)

var errInjected = errors.New("etcdstore test: injected transport failure")

// faultKV wraps the client's KV: a transaction that puts or deletes a key the test named is held
// until released, or failed without reaching etcd, as a lost connection would.
type faultKV struct {
	clientv3.KV
	f *faults
}

type faults struct {
	mu    sync.Mutex
	fail  string                   // fail the next transaction of this key
	hold  map[string]chan struct{} // hold the next transaction of this key until the channel closes
	after chan bool                // if set, told each unheld commit's Succeeded
}

func (f *faults) failWriteOf(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = key
}

func injectFaults(s *Store) *faults {
	f := &faults{hold: map[string]chan struct{}{}}
	s.client.KV = faultKV{KV: s.client.KV, f: f}
	return f
}

func (k faultKV) Txn(ctx context.Context) clientv3.Txn {
	return &faultTxn{Txn: k.KV.Txn(ctx), f: k.f}
}

type faultTxn struct {
	clientv3.Txn
	f    *faults
	keys []string
}

func (t *faultTxn) If(cs ...clientv3.Cmp) clientv3.Txn { t.Txn = t.Txn.If(cs...); return t }
func (t *faultTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	t.Txn = t.Txn.Else(ops...)
	return t
}

func (t *faultTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	for _, op := range ops {
		t.keys = append(t.keys, string(op.KeyBytes()))
	}
	t.Txn = t.Txn.Then(ops...)
	return t
}

func (t *faultTxn) Commit() (*clientv3.TxnResponse, error) {
	f := t.f
	f.mu.Lock()
	var hold chan struct{}
	fail := false
	for _, k := range t.keys {
		if f.fail != "" && k == f.fail {
			fail, f.fail = true, ""
		}
		if h, ok := f.hold[k]; ok {
			hold = h
			delete(f.hold, k)
		}
	}
	after := f.after
	f.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	if hold != nil {
		<-hold
		return t.Txn.Commit()
	}
	resp, err := t.Txn.Commit()
	if after != nil && err == nil {
		after <- resp.Succeeded
	}
	return resp, err
}

// TestStoreFaultContract runs the manager's store fault contract against the embedded etcd, with
// small transactions so that several are in flight when one fails.
func TestStoreFaultContract(t *testing.T) {
	storetest.RunFaults(t, func(t *testing.T) (func() manager.Store, storetest.Faults) {
		cfg := testConfig(t)
		cfg.MaxTxnOps = 7 // three commands of two mutations, plus the sequence's put
		first := openStore(t, cfg)
		f := injectFaults(first)
		opened := false
		return func() manager.Store {
				if !opened {
					opened = true
					return ManagerStore{Store: first}
				}
				return ManagerStore{Store: openStore(t, cfg)}
			}, storetest.Faults{FailWriteOf: func(key string) {
				f.failWriteOf(cfg.Prefix + key)
			}}
	})
}

// TestPipelineLandsInOrder holds the term's first transaction while the three after it reach etcd:
// each fails the write sequence's check (none may land before the first), waits, and is sent once
// more after it; all four land, in order.
func TestPipelineLandsInOrder(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTxnOps = 3 // one command of two mutations per transaction, plus the sequence's put
	cfg.MaxInflight = 4
	s, start := openGated(t, cfg)
	f := injectFaults(s)
	campaign(t, s, "m1")
	release := make(chan struct{})
	f.hold[cfg.Prefix+"seq/0"] = release
	f.after = make(chan bool, 16)
	var ps []*Pending
	for i := range 4 {
		p, err := s.Submit(context.Background(), []alloc.Mutation{put(fmt.Sprintf("seq/%d", i), "x"), put("last", strconv.Itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	start()
	for i := range 3 {
		if ok := <-f.after; ok {
			t.Fatalf("transaction %d landed before the held first one", i+1)
		}
	}
	for i, p := range ps[1:] {
		select {
		case <-p.done:
			t.Fatalf("command %d completed before the held first one", i+1)
		default:
		}
	}
	close(release)
	for i, p := range ps {
		if err := p.Wait(); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if st := s.Stats(); st.Reordered != 3 || st.Txns != 4 || st.Failed != 0 {
		t.Fatalf("Stats = %+v, want 4 transactions, 3 of them sent again", st)
	}
	raw := rawClient(t)
	var prev int64
	for i := range 4 {
		_, rev, ok := getRaw(t, raw, cfg.Prefix+fmt.Sprintf("seq/%d", i))
		if !ok || rev <= prev {
			t.Fatalf("seq/%d: present %v, revision %d after %d: not in order", i, ok, rev, prev)
		}
		prev = rev
	}
	if got := asMap(t, load(t, s)); got["last"] != "3" {
		t.Fatalf("last = %q, want 3", got["last"])
	}
}
