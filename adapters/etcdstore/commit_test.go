package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
)

// TestGroupCommitBatchesInOrder queues commands before the writer runs, so the batching is exact:
// 300 commands of 2 operations fill transactions of 129 operations, 64 commands each plus the write
// sequence's put. Several transactions are in flight at once; they land in order all the same.
func TestGroupCommitBatchesInOrder(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTxnOps = 129
	s, start := openGated(t, cfg)
	campaign(t, s, "m1")
	const n = 300
	pending := make([]*Pending, n)
	for i := range n {
		p, err := s.Submit(context.Background(), []alloc.Mutation{put(fmt.Sprintf("seq/%04d", i), "x"), put("last", strconv.Itoa(i))})
		if err != nil {
			t.Fatal(err)
		}
		pending[i] = p
	}
	start()
	for i, p := range pending {
		if err := p.Wait(); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if st := s.Stats(); st.Txns != 5 || st.Commands != n || st.Mutations != 2*n || st.Failed != 0 {
		t.Fatalf("Stats = %+v, want 5 txns for %d commands", st, n)
	}
	got := asMap(t, load(t, s))
	if got["last"] != strconv.Itoa(n-1) {
		t.Fatalf("last = %q, want the last command's %d", got["last"], n-1)
	}
	// Call order is write order: revisions never go back along the sequence, and they advance
	// exactly at the transaction boundaries.
	raw := rawClient(t)
	var prev int64
	steps := 0
	for i := range n {
		_, rev, ok := getRaw(t, raw, cfg.Prefix+fmt.Sprintf("seq/%04d", i))
		if !ok || rev < prev {
			t.Fatalf("seq/%04d: present %v, revision %d after %d", i, ok, rev, prev)
		}
		if rev > prev && i > 0 {
			steps++
			if i%64 != 0 {
				t.Fatalf("a transaction boundary at command %d, want every 64", i)
			}
		}
		prev = rev
	}
	if steps != 4 {
		t.Fatalf("%d transaction boundaries, want 4", steps)
	}
}

// TestLargeCommandGoesAlone checks that a command above MaxTxnOps or MaxTxnBytes is not split, and
// that its neighbours go in their own transactions.
func TestLargeCommandGoesAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit func(*Config)
	}{
		{"ops", func(c *Config) { c.MaxTxnOps = 128 }},
		{"bytes", func(c *Config) { c.MaxTxnBytes = 4096 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.limit(&cfg)
			s, start := openGated(t, cfg)
			campaign(t, s, "m1")
			big := make([]alloc.Mutation, 300)
			for i := range big {
				big[i] = put(fmt.Sprintf("big/%03d", i), "0123456789abcdef")
			}
			var ps []*Pending
			for _, muts := range [][]alloc.Mutation{{put("small/1", "a")}, big, {put("small/2", "b")}} {
				p, err := s.Submit(context.Background(), muts)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			start()
			for _, p := range ps {
				if err := p.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			if st := s.Stats(); st.Txns != 3 || st.Commands != 3 {
				t.Fatalf("Stats = %+v, want 3 commands in 3 txns", st)
			}
			if got := load(t, s); len(got) != 302 {
				t.Fatalf("Load returned %d records, want 302", len(got))
			}
		})
	}
}

// TestConcurrentApply runs many callers at once: every command lands, each caller's commands land
// in its call order, and group commit needs fewer transactions than commands.
func TestConcurrentApply(t *testing.T) {
	const callers, each = 64, 20
	cfg := testConfig(t)
	s := leader(t, cfg, "m1")
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				muts := []alloc.Mutation{put(fmt.Sprintf("c/%02d/%02d", g, i), "x"), put(fmt.Sprintf("g/%02d", g), strconv.Itoa(i))}
				if err := s.Apply(context.Background(), muts); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Commands != callers*each || st.Txns >= st.Commands {
		t.Fatalf("Stats = %+v, want %d commands in fewer transactions", st, callers*each)
	}
	t.Logf("%d commands in %d transactions", st.Commands, st.Txns)
	got := asMap(t, load(t, s))
	if len(got) != callers*each+callers {
		t.Fatalf("Load returned %d records, want %d", len(got), callers*each+callers)
	}
	raw := rawClient(t)
	for g := range callers {
		if v := got[fmt.Sprintf("g/%02d", g)]; v != strconv.Itoa(each-1) {
			t.Fatalf("caller %d: last value %q, want %d", g, v, each-1)
		}
		var prev int64
		for i := range each {
			_, rev, _ := getRaw(t, raw, cfg.Prefix+fmt.Sprintf("c/%02d/%02d", g, i))
			if rev <= prev {
				t.Fatalf("caller %d: command %d at revision %d, not after %d", g, i, rev, prev)
			}
			prev = rev
		}
	}
}

func TestSubmitQueueFull(t *testing.T) {
	cfg := testConfig(t)
	cfg.QueueSize = 1
	s, start := openGated(t, cfg)
	campaign(t, s, "m1")
	first, err := s.Submit(context.Background(), []alloc.Mutation{put("a", "1")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Submit(ctx, []alloc.Mutation{put("b", "1")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit on a full queue = %v, want context.Canceled", err)
	}
	start()
	if err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := asMap(t, load(t, s)); len(got) != 1 || got["a"] != "1" {
		t.Fatalf("Load = %v, want only a=1", got)
	}
}

// TestCloseFlushesQueue: commands queued before Close are written before it returns.
func TestCloseFlushesQueue(t *testing.T) {
	cfg := testConfig(t)
	s, start := openGated(t, cfg)
	campaign(t, s, "m1")
	var ps []*Pending
	for i := range 10 {
		p, err := s.Submit(context.Background(), []alloc.Mutation{put(fmt.Sprintf("k%d", i), "v")})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	start()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(context.Background(), []alloc.Mutation{put("late", "v")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close = %v, want ErrClosed", err)
	}
	r := openStore(t, cfg)
	if got := load(t, r); len(got) != 10 {
		t.Fatalf("Load after Close = %d records, want 10", len(got))
	}
}

func TestEmptyCommand(t *testing.T) {
	s := leader(t, testConfig(t), "m1")
	if err := s.Apply(context.Background(), nil); err != nil {
		t.Fatalf("Apply(nil) = %v", err)
	}
	if st := s.Stats(); st.Txns != 0 {
		t.Fatalf("an empty command cost %d transactions", st.Txns)
	}
}

// TestBigCommandWithinEmbeddedLimits writes one command near the byte limit that
// Embedded.ClientConfig allows, which is larger than the etcd client's default message size.
func TestBigCommandWithinEmbeddedLimits(t *testing.T) {
	cfg := testConfig(t)
	// A 3 MB transaction under -race on a loaded machine can take longer than the default write
	// timeout; the test is about size limits, not speed.
	cfg.WriteTimeout = guard
	s := leader(t, cfg, "m1")
	value := string(make([]byte, 1000))
	var muts []alloc.Mutation
	for bytes := 0; bytes < cfg.MaxTxnBytes*3/4; bytes += len(value) {
		muts = append(muts, put(fmt.Sprintf("big/%05d", len(muts)), value))
	}
	apply(t, s, muts...)
	if got := load(t, s); len(got) != len(muts) {
		t.Fatalf("Load returned %d records, want %d", len(got), len(muts))
	}
}
