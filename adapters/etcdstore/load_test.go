package etcdstore

import (
	"context"
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
)

func TestApplyLoadRoundTrip(t *testing.T) {
	s := leader(t, testConfig(t), "m1")
	if got := load(t, s); len(got) != 0 {
		t.Fatalf("fresh prefix holds %d records: %v", len(got), got)
	}
	apply(t, s, put("tenants/zeta", `{"name":"zeta"}`), put("networks/net1", "n1"), put("tenants/acme", `{"name":"acme"}`))
	apply(t, s, put("ports/p1", "p1"), put("networks/net1", "n1-v2"), put("empty", ""))
	apply(t, s, del("tenants/zeta"), del("never/existed"))

	got := load(t, s)
	want := []alloc.Record{
		{Key: "empty", Value: []byte{}},
		{Key: "networks/net1", Value: []byte("n1-v2")},
		{Key: "ports/p1", Value: []byte("p1")},
		{Key: "tenants/acme", Value: []byte(`{"name":"acme"}`)},
	}
	if len(got) != len(want) {
		t.Fatalf("Load = %q, want %q", got, want)
	}
	for i := range want {
		if got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) || got[i].Value == nil {
			t.Fatalf("record %d = %q %q, want %q %q", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
}

// TestCommandRepeatsKey checks that a command (or batch) may touch a key several times, which etcd
// refuses inside one transaction, and that the last mutation wins.
func TestCommandRepeatsKey(t *testing.T) {
	s := leader(t, testConfig(t), "m1")
	apply(t, s, put("a", "1"), put("a", "2"), put("b", "1"), del("b"), del("c"), put("c", "3"))
	got := asMap(t, load(t, s))
	if len(got) != 2 || got["a"] != "2" || got["c"] != "3" {
		t.Fatalf("Load = %v, want a=2 c=3", got)
	}
}

func TestPrefixIsolation(t *testing.T) {
	base := testConfig(t)
	cfgA, cfgB := base, base
	cfgA.Prefix = base.Prefix + "a/"
	cfgB.Prefix = base.Prefix + "ab/" // a sibling whose name extends A's
	a := leader(t, cfgA, "a")
	b := leader(t, cfgB, "b")
	apply(t, a, put("x", "from-a"))
	apply(t, b, put("x", "from-b"), put("y", "from-b"))
	raw := rawClient(t)
	if _, err := raw.Put(context.Background(), base.Prefix+"a", "bare prefix without slash"); err != nil {
		t.Fatal(err)
	}

	gotA := asMap(t, load(t, a))
	if len(gotA) != 1 || gotA["x"] != "from-a" {
		t.Fatalf("A loads %v, want only x=from-a (and no election key)", gotA)
	}
	gotB := asMap(t, load(t, b))
	if len(gotB) != 2 || gotB["x"] != "from-b" || gotB["y"] != "from-b" {
		t.Fatalf("B loads %v, want x and y from B", gotB)
	}
	// The election key is there, under the reserved subtree, but Load leaves it out.
	resp, err := raw.Get(context.Background(), cfgA.Prefix+reservedPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != 1 {
		t.Fatalf("election keys under A = %v, %v; want 1", resp, err)
	}
}

// TestLoadPages loads more records than fit one page, with page sizes that do and do not divide
// the count, and checks every record once, in order.
func TestLoadPages(t *testing.T) {
	const n = 20000
	cfg := testConfig(t)
	s := leader(t, cfg, "m1")
	for lo := 0; lo < n; lo += 1000 {
		muts := make([]alloc.Mutation, 0, 1000)
		for i := lo; i < lo+1000; i++ {
			muts = append(muts, put(fmt.Sprintf("ports/%06d", i), portJSON(i)))
		}
		apply(t, s, muts...)
	}
	for _, page := range []int{3000, 5000, n, n + 1} {
		cfg.LoadPageSize = page
		r := openStore(t, cfg)
		recs := load(t, r)
		if len(recs) != n {
			t.Fatalf("page %d: Load returned %d records, want %d", page, len(recs), n)
		}
		for i, rec := range recs {
			if want := fmt.Sprintf("ports/%06d", i); rec.Key != want || string(rec.Value) != portJSON(i) {
				t.Fatalf("page %d: record %d = %q, want %q", page, i, rec.Key, want)
			}
		}
	}
}

// portJSON is a record shaped and sized like a stored port (about 300 bytes).
func portJSON(i int) string {
	return fmt.Sprintf(`{"id":"port-%08d","tenant":"tenant-%03d","network":"net-%04d","subnet":"subnet-%04d-v4",`+
		`"ip":"10.%d.%d.%d","mac":"02:42:%02x:%02x:%02x:%02x","pod_uid":"7f3c2a1e-%04x-4d2b-9a7e-%012x",`+
		`"pod":"default/app-%d","node":"node-%04d","interface":"eth%d","state":"bound","created":%d}`,
		i, i%100, i%1000, i%1000, (i>>16)&255, (i>>8)&255, i&255, (i>>24)&255, (i>>16)&255, (i>>8)&255, i&255,
		i&0xffff, i, i, i%5000, i%4, 1700000000000+int64(i))
}
