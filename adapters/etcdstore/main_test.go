package etcdstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/knitter-cni/knitter/core/alloc"
)

// shared is one embedded etcd for the whole package; each test isolates itself by prefix.
var shared *Embedded

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "etcdstore-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared, err = StartEmbedded(EmbedConfig{DataDir: filepath.Join(dir, "etcd"), LogLevel: "error"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	shared.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testRun numbers the prefixes testConfig hands out.
var testRun atomic.Int64

// guard bounds waits for events that must happen; reaching it is a failure, not a measurement.
const guard = 30 * time.Second

// testConfig returns a Config on the shared server under a prefix of the test's own.
func testConfig(tb testing.TB) Config {
	cfg := shared.ClientConfig()
	// The run number keeps -count=N runs apart on the one server.
	cfg.Prefix = fmt.Sprintf("/test/%s/%d/", strings.ReplaceAll(tb.Name(), "/", "_"), testRun.Add(1))
	// The default session TTL: shorter ones expire under a loaded machine's slow fsyncs.
	return cfg
}

// openStore opens a Store with cfg and closes it when the test ends.
func openStore(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openGated opens a Store whose writer has not started, so that a test can queue commands first;
// start runs the writer.
func openGated(tb testing.TB, cfg Config) (s *Store, start func()) {
	tb.Helper()
	cfg = cfg.withDefaults()
	s, err := open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	started := false
	start = func() {
		if !started {
			started = true
			go s.write()
		}
	}
	tb.Cleanup(func() { start(); s.Close() })
	return s, start
}

// leader opens a Store and makes it the leader as id.
func leader(tb testing.TB, cfg Config, id string) *Store {
	tb.Helper()
	s := openStore(tb, cfg)
	campaign(tb, s, id)
	return s
}

func campaign(tb testing.TB, s *Store, id string) *Term {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	t, err := s.Campaign(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// rawClient is a plain etcd client on the shared server, for looking behind the Store's back.
func rawClient(tb testing.TB) *clientv3.Client {
	tb.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: shared.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func put(key, value string) alloc.Mutation { return alloc.Mutation{Key: key, Value: []byte(value)} }
func del(key string) alloc.Mutation        { return alloc.Mutation{Key: key} }

func apply(tb testing.TB, s *Store, muts ...alloc.Mutation) {
	tb.Helper()
	if err := s.Apply(context.Background(), muts); err != nil {
		tb.Fatal(err)
	}
}

func load(tb testing.TB, s *Store) []alloc.Record {
	tb.Helper()
	recs, err := s.Load(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}

// asMap returns recs as key → value, failing on an out-of-order or repeated key.
func asMap(tb testing.TB, recs []alloc.Record) map[string]string {
	tb.Helper()
	m := make(map[string]string, len(recs))
	for i, r := range recs {
		if i > 0 && recs[i-1].Key >= r.Key {
			tb.Fatalf("records %d and %d out of order: %q, %q", i-1, i, recs[i-1].Key, r.Key)
		}
		m[r.Key] = string(r.Value)
	}
	return m
}

// getRaw reads one absolute key with a raw client; ok is false if it is absent.
func getRaw(tb testing.TB, c *clientv3.Client, key string) (kv string, modRev int64, ok bool) {
	tb.Helper()
	resp, err := c.Get(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return "", 0, false
	}
	return string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision, true
}

// waitKeys blocks until at least n keys exist under prefix, following a watch rather than polling.
func waitKeys(tb testing.TB, c *clientv3.Client, prefix string, n int64) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for {
		resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			tb.Fatal(err)
		}
		if resp.Count >= n {
			return
		}
		wr := <-c.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		if err := wr.Err(); err != nil {
			tb.Fatal(err)
		}
		if ctx.Err() != nil {
			tb.Fatalf("fewer than %d keys under %s within %s", n, prefix, guard)
		}
	}
}

// waitClosed fails the test if ch is not closed within the guard.
func waitClosed(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		tb.Fatalf("%s did not happen within %s", what, guard)
	}
}
