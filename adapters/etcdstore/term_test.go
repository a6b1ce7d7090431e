package etcdstore

import (
	"context"
	"errors"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

// TestFailedResignGetsNewFence: when Resign cannot delete the election key, the next Campaign must
// not reuse the session, or it would find its own old key and take over its create revision — and a
// transaction of the old term that etcd applies late would pass the new term's fence.
func TestFailedResignGetsNewFence(t *testing.T) {
	s := openStore(t, testConfig(t))
	old := campaign(t, s, "m1")
	oldKey, oldRev := old.Fence()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := old.Resign(canceled); err == nil {
		t.Fatal("Resign with a canceled context succeeded; the test needs it to fail")
	}
	if old.Err() == nil {
		t.Fatal("a failed Resign left the term alive")
	}
	fresh := campaign(t, s, "m1")
	key, rev := fresh.Fence()
	if key == oldKey || rev == oldRev {
		t.Fatalf("the term after a failed Resign has fence %s@%d, the old one had %s@%d; want a new key and revision", key, rev, oldKey, oldRev)
	}
	// A transaction fenced on the old term, as a late one of it would be, cannot land now.
	resp, err := s.client.Txn(context.Background()).
		If(clientv3.Compare(clientv3.CreateRevision(oldKey), "=", oldRev)).
		Then(clientv3.OpPut(s.cfg.Prefix+"late", "old")).Commit()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Succeeded {
		t.Fatal("a transaction fenced on the resigned term landed in the next term")
	}
}

// TestReserveFullQueueFailsAtOnce: Reserve never waits; a full queue is an ErrQueueFull error that
// the manager turns into "unavailable", and a cancelled slot frees its place.
func TestReserveFullQueueFailsAtOnce(t *testing.T) {
	cfg := testConfig(t)
	cfg.QueueSize = 2
	s, start := openGated(t, cfg)
	term := campaign(t, s, "m1")
	a, err := term.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	b, err := term.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := term.Reserve(); !errors.Is(err, ErrQueueFull) || !errors.Is(err, manager.ErrQueueFull) {
		t.Fatalf("Reserve on a full queue = %v, want ErrQueueFull", err)
	}
	b.Cancel()
	c, err := term.Reserve()
	if err != nil {
		t.Fatalf("Reserve after a Cancel = %v", err)
	}
	pa := a.Submit([]alloc.Mutation{put("a", "1")})
	pc := c.Submit([]alloc.Mutation{put("c", "1")})
	if _, err := term.Reserve(); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Reserve with two commands queued = %v, want ErrQueueFull", err)
	}
	start()
	if err := pa.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := pc.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := asMap(t, load(t, s)); len(got) != 2 {
		t.Fatalf("Load = %v, want a and c", got)
	}
	if term.Err() != nil {
		t.Fatalf("a full queue ended the term: %v", term.Err())
	}
}

// TestOldTermSlotNeverLandsInNewTerm: a slot reserved in one term and submitted after that term
// ended fails with ErrNotLeader, even though the Store leads again.
func TestOldTermSlotNeverLandsInNewTerm(t *testing.T) {
	s := openStore(t, testConfig(t))
	old := campaign(t, s, "m1")
	sl, err := old.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Resign(context.Background()); err != nil {
		t.Fatal(err)
	}
	fresh := campaign(t, s, "m1")
	if err := sl.Submit([]alloc.Mutation{put("old", "1")}).Wait(); !errors.Is(err, manager.ErrNotLeader) {
		t.Fatalf("old term's write = %v, want ErrNotLeader", err)
	}
	if _, err := old.Load(context.Background()); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Load in the ended term = %v, want ErrNotLeader", err)
	}
	if fresh.Err() != nil {
		t.Fatalf("the old term's failure ended the new term: %v", fresh.Err())
	}
	if got := asMap(t, load(t, s)); len(got) != 0 {
		t.Fatalf("Load = %v, want nothing", got)
	}
}
