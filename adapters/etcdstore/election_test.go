package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/knitter-cni/knitter/core/alloc"
)

// campaignAsync runs Campaign in the background and returns its result channel.
func campaignAsync(s *Store, id string) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_, err := s.Campaign(ctx, id)
		done <- err
	}()
	return done
}

func leaderID(t *testing.T, s *Store) string {
	t.Helper()
	id, err := s.Leader(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestFailoverOnRevokedSession: A leads, B waits; A's lease is revoked behind its back (as when it
// expires); B takes over, A learns it lost, and A's later writes fail and never land.
func TestFailoverOnRevokedSession(t *testing.T) {
	cfg := testConfig(t)
	a := leader(t, cfg, "manager-a")
	b := openStore(t, cfg)
	raw := rawClient(t)
	apply(t, a, put("before", "a"))

	bWon := campaignAsync(b, "manager-b")
	waitKeys(t, raw, b.electionPrefix+"/", 2) // B's candidacy is in place
	select {
	case err := <-bWon:
		t.Fatalf("B's Campaign returned %v while A leads", err)
	default:
	}
	if id := leaderID(t, b); id != "manager-a" {
		t.Fatalf("Leader = %q, want manager-a", id)
	}

	lost := a.Lost()
	if _, err := raw.Revoke(context.Background(), a.currentTerm().session.Lease()); err != nil {
		t.Fatal(err)
	}
	if err := <-bWon; err != nil {
		t.Fatalf("B's Campaign: %v", err)
	}
	if id := leaderID(t, a); id != "manager-b" {
		t.Fatalf("Leader = %q, want manager-b", id)
	}
	waitClosed(t, lost, "A's Lost after its lease was revoked")

	err := a.Apply(context.Background(), []alloc.Mutation{put("after", "a")})
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed A's Apply = %v, want ErrNotLeader", err)
	}
	apply(t, b, put("after-b", "b"))
	got := asMap(t, load(t, b))
	if _, ok := got["after"]; ok || got["before"] != "a" || got["after-b"] != "b" {
		t.Fatalf("Load = %v, want before=a and after-b=b only", got)
	}
}

// TestFenceStopsStaleLeader removes A's election key while A's session stays healthy, so A still
// believes it leads when B wins: only the transaction's fence can stop A's write, and it must.
func TestFenceStopsStaleLeader(t *testing.T) {
	cfg := testConfig(t)
	a := leader(t, cfg, "manager-a")
	b := openStore(t, cfg)
	raw := rawClient(t)

	bWon := campaignAsync(b, "manager-b")
	waitKeys(t, raw, b.electionPrefix+"/", 2)
	if _, err := raw.Delete(context.Background(), a.currentTerm().key); err != nil {
		t.Fatal(err)
	}
	if err := <-bWon; err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
		t.Fatal("A noticed the loss before writing; this test needs its term still live")
	default:
	}
	err := a.Apply(context.Background(), []alloc.Mutation{put("stale", "a")})
	if !errors.Is(err, ErrNotLeader) || !errors.Is(err, errFenced) {
		t.Fatalf("stale A's Apply = %v, want ErrNotLeader from the fence", err)
	}
	waitClosed(t, a.Lost(), "A's Lost after a fenced write")
	if _, _, ok := getRaw(t, raw, cfg.Prefix+"stale"); ok {
		t.Fatal("the stale leader's write landed")
	}
	if st := a.Stats(); st.Failed != 1 || st.Commands != 0 {
		t.Fatalf("A's Stats = %+v, want the one command failed", st)
	}
}

func TestResignHandsOver(t *testing.T) {
	cfg := testConfig(t)
	a := leader(t, cfg, "manager-a")
	b := openStore(t, cfg)
	raw := rawClient(t)
	bWon := campaignAsync(b, "manager-b")
	waitKeys(t, raw, b.electionPrefix+"/", 2)

	if err := a.Resign(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, a.Lost(), "A's Lost after Resign")
	if err := <-bWon; err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(context.Background(), []alloc.Mutation{put("x", "a")}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply after Resign = %v, want ErrNotLeader", err)
	}
	apply(t, b, put("x", "b"))
	if err := a.Resign(context.Background()); err != nil {
		t.Fatalf("a second Resign = %v", err)
	}
	if id := leaderID(t, b); id != "manager-b" {
		t.Fatalf("Leader = %q after A resigned twice, want manager-b", id)
	}
}

// TestCloseHandsOver: Close revokes the lease, so a standby need not wait for the TTL.
func TestCloseHandsOver(t *testing.T) {
	cfg := testConfig(t)
	a := leader(t, cfg, "manager-a")
	b := openStore(t, cfg)
	raw := rawClient(t)
	bWon := campaignAsync(b, "manager-b")
	waitKeys(t, raw, b.electionPrefix+"/", 2)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-bWon; err != nil {
		t.Fatal(err)
	}
	if _, err := a.Campaign(context.Background(), "manager-a"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Campaign after Close = %v, want ErrClosed", err)
	}
}

// TestStaleCommandNotWrittenInNextTerm: a command queued in one term fails if that term ends
// before it is written, even when the same Store leads again by then.
func TestStaleCommandNotWrittenInNextTerm(t *testing.T) {
	s, start := openGated(t, testConfig(t))
	campaign(t, s, "m1")
	old, err := s.Submit(context.Background(), []alloc.Mutation{put("old", "1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Resign(context.Background()); err != nil {
		t.Fatal(err)
	}
	campaign(t, s, "m1")
	fresh, err := s.Submit(context.Background(), []alloc.Mutation{put("new", "1")})
	if err != nil {
		t.Fatal(err)
	}
	start()
	if err := old.Wait(); !errors.Is(err, ErrNotLeader) || !errors.Is(err, errResigned) {
		t.Fatalf("the old term's command = %v, want ErrNotLeader after resigning", err)
	}
	if err := fresh.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := asMap(t, load(t, s)); len(got) != 1 || got["new"] != "1" {
		t.Fatalf("Load = %v, want only new=1", got)
	}
}

// TestWriteErrorEndsTerm: a write etcd refuses (here, more operations than the server allows)
// ends the term, since later commands may build on it; campaigning again starts a fresh term.
func TestWriteErrorEndsTerm(t *testing.T) {
	s := leader(t, testConfig(t), "m1")
	huge := make([]alloc.Mutation, DefaultEmbedMaxTxnOps+1)
	for i := range huge {
		huge[i] = put(fmt.Sprintf("h/%05d", i), "")
	}
	lost, oldKey := s.Lost(), s.currentTerm().key
	err := s.Apply(context.Background(), huge)
	if err == nil || errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply of %d operations = %v, want a write error", len(huge), err)
	}
	waitClosed(t, lost, "Lost after a failed write")
	if err := s.Apply(context.Background(), []alloc.Mutation{put("x", "1")}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply after the term ended = %v, want ErrNotLeader", err)
	}
	campaign(t, s, "m1")
	if s.currentTerm().key == oldKey {
		t.Fatal("the new term reuses the failed term's election key, so a late write of that term could pass the fence")
	}
	apply(t, s, put("x", "1"))
	if got := asMap(t, load(t, s)); len(got) != 1 || got["x"] != "1" {
		t.Fatalf("Load has %d records, want only x", len(got))
	}
}

func TestCampaignWhileLeadingAndCanceled(t *testing.T) {
	cfg := testConfig(t)
	a := leader(t, cfg, "manager-a")
	lost := a.Lost()
	campaign(t, a, "manager-a") // already leading: a no-op that keeps the term
	select {
	case <-lost:
		t.Fatal("a second Campaign ended the term")
	default:
	}
	b := openStore(t, cfg)
	raw := rawClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	bDone := make(chan error, 1)
	go func() { _, err := b.Campaign(ctx, "manager-b"); bDone <- err }()
	waitKeys(t, raw, b.electionPrefix+"/", 2)
	cancel()
	if err := <-bDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled Campaign = %v, want context.Canceled", err)
	}
	// The canceled candidacy is withdrawn: only A's key is left.
	resp, err := raw.Get(context.Background(), b.electionPrefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count != 1 {
		t.Fatalf("election keys after the cancel = %v, %v; want 1", resp, err)
	}
	if err := b.Apply(context.Background(), []alloc.Mutation{put("x", "b")}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply after a canceled Campaign = %v, want ErrNotLeader", err)
	}
	if id := leaderID(t, b); id != "manager-a" {
		t.Fatalf("Leader = %q, want manager-a", id)
	}
	if _, err := b.Campaign(context.Background(), ""); err == nil {
		t.Fatal("Campaign with an empty id succeeded")
	}
}

func TestNoLeader(t *testing.T) {
	s := openStore(t, testConfig(t))
	if _, err := s.Leader(context.Background()); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("Leader on a fresh prefix = %v, want ErrNoLeader", err)
	}
	select {
	case <-s.Lost():
	default:
		t.Fatal("Lost is open before any Campaign")
	}
	if err := s.Resign(context.Background()); err != nil {
		t.Fatalf("Resign without a term = %v", err)
	}
}
