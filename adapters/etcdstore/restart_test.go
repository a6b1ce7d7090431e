package etcdstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
)

// TestRestartKeepsEverything stops the embedded server and starts it again on the same data dir:
// every write is still there, and a new leader can campaign and write.
func TestRestartKeepsEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	start := func() *Embedded {
		e, err := StartEmbedded(EmbedConfig{DataDir: dir, LogLevel: "error"})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := start()
	s, err := Open(context.Background(), e.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	campaign(t, s, "m1")
	const n = 1000
	for lo := 0; lo < n; lo += 100 {
		muts := make([]alloc.Mutation, 0, 100)
		for i := lo; i < lo+100; i++ {
			muts = append(muts, put(fmt.Sprintf("ports/%04d", i), portJSON(i)))
		}
		apply(t, s, muts...)
	}
	apply(t, s, del("ports/0000"))
	s.Close()
	e.Close()

	e = start()
	defer e.Close()
	s, err = Open(context.Background(), e.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := load(t, s)
	if len(recs) != n-1 {
		t.Fatalf("after restart Load returned %d records, want %d", len(recs), n-1)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("ports/%04d", i+1); r.Key != want || string(r.Value) != portJSON(i+1) {
			t.Fatalf("record %d = %q, want %q", i, r.Key, want)
		}
	}
	campaign(t, s, "m2")
	apply(t, s, put("ports/0000", "again"))
	if got := asMap(t, load(t, s)); got["ports/0000"] != "again" {
		t.Fatal("a write after restart did not land")
	}
}
