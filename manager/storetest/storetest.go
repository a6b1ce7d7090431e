// Package storetest is the contract of manager.Store: one suite that every implementation — the etcd
// adapter and the in-memory fake — must pass, so that what the manager is tested against in memory is
// what it runs on in production.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/manager"
)

// Factory makes one fresh, empty store whose clients' write queues hold queueSize commands, and
// returns a function that opens another client of it each time it is called (another manager's
// connection). Clients are closed when the test ends.
type Factory func(t *testing.T, queueSize int) (open func() manager.Store)

// guard bounds waits for events that must happen; reaching it is a failure, not a measurement.
const guard = 30 * time.Second

// Run runs the contract against the stores f makes.
func Run(t *testing.T, f Factory) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, open func() manager.Store)
	}{
		{"LoadSeesEveryWrite", loadSeesEveryWrite},
		{"OrderWithinTerm", orderWithinTerm},
		{"OneLeaderAtATime", oneLeaderAtATime},
		{"EndedTermRefuses", endedTermRefuses},
		{"FailedResignStillEnds", failedResignStillEnds},
		{"CanceledCallsEndNothing", canceledCallsEndNothing},
		{"CampaignWhileLeading", campaignWhileLeading},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, f(t, 64)) })
	}
	t.Run("FullQueueFailsAtOnce", func(t *testing.T) { fullQueueFailsAtOnce(t, f(t, 3)) })
}

// Faults are the fault knobs the fault contract needs from a store.
type Faults struct {
	// FailWriteOf makes the next write that carries key fail, once, as a lost connection to the
	// store would: its term ends.
	FailWriteOf func(key string)
}

// FaultFactory is a Factory whose store also has fault knobs.
type FaultFactory func(t *testing.T) (open func() manager.Store, faults Faults)

// RunFaults runs the part of the contract that needs injected faults.
func RunFaults(t *testing.T, f FaultFactory) {
	t.Run("FailureFailsEveryLaterWrite", func(t *testing.T) {
		open, faults := f(t)
		failureFailsEveryLater(t, open, faults)
	})
}

// failureFailsEveryLater: 80 commands are submitted without waiting and the write of the 40th fails.
// The outcomes are a run of successes, then failures only, the 40th among them; the term ends; the
// next leader loads a prefix of the commands — every acknowledged one, none reported as not
// landed, and never a later command without all the earlier ones — and writes in its own term.
func failureFailsEveryLater(t *testing.T, open func() manager.Store, faults Faults) {
	const n, bad = 80, 40
	term := campaign(t, open(), "a")
	faults.FailWriteOf(fmt.Sprintf("seq/%02d", bad))
	var ws []manager.Write
	errs := make([]error, n)
	for i := range n {
		sl, err := term.Reserve() // fails once the term has ended
		if err != nil {
			wantNotLeader(t, err, fmt.Sprintf("Reserve for command %d after the failure", i))
			errs[i] = err
			ws = append(ws, nil)
			continue
		}
		ws = append(ws, sl.Submit([]alloc.Mutation{put(fmt.Sprintf("seq/%02d", i), "x"), put("last", strconv.Itoa(i))}))
	}
	firstFail := -1
	notLanded := map[int]bool{}
	for i, w := range ws {
		err := errs[i]
		if w != nil {
			err = w.Wait()
		}
		switch {
		case err == nil && firstFail >= 0:
			t.Fatalf("command %d succeeded after command %d failed", i, firstFail)
		case err != nil && firstFail < 0:
			firstFail = i
		}
		if errors.Is(err, manager.ErrNotLeader) {
			notLanded[i] = true
		}
	}
	if firstFail < 0 || firstFail > bad {
		t.Fatalf("first failure at command %d, want the failed command %d or one before it in its transaction", firstFail, bad)
	}
	wantClosed(t, term.Lost(), "Lost after a failed write")
	if term.Err() == nil {
		t.Fatal("the term lives on after a failed write")
	}
	if _, err := term.Reserve(); err == nil {
		t.Fatal("Reserve in the term whose write failed succeeded")
	}
	next := campaign(t, open(), "b")
	got := load(t, next)
	landed := 0
	for landed < n && got[fmt.Sprintf("seq/%02d", landed)] == "x" {
		landed++
	}
	for i := landed; i < n; i++ {
		if _, ok := got[fmt.Sprintf("seq/%02d", i)]; ok {
			t.Fatalf("command %d landed but command %d did not: a later write overtook an earlier one", i, landed)
		}
	}
	if landed < firstFail {
		t.Fatalf("%d commands landed, fewer than the %d acknowledged", landed, firstFail)
	}
	for i := range notLanded {
		if i < landed {
			t.Fatalf("command %d was reported not landed (ErrNotLeader) but it is in the store", i)
		}
	}
	if landed > 0 && got["last"] != strconv.Itoa(landed-1) {
		t.Fatalf("last = %q, want %d: the commands landed out of order", got["last"], landed-1)
	}
	write(t, next, put("after", "1"))
	if got := load(t, next); got["after"] != "1" {
		t.Fatalf("the next term's write is missing: %v", got)
	}
}

func campaign(t *testing.T, s manager.Store, id string) manager.Term {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	term, err := s.Campaign(ctx, id)
	if err != nil {
		t.Fatalf("Campaign(%s): %v", id, err)
	}
	return term
}

func put(key, value string) alloc.Mutation { return alloc.Mutation{Key: key, Value: []byte(value)} }
func del(key string) alloc.Mutation        { return alloc.Mutation{Key: key} }

func submit(t *testing.T, term manager.Term, muts ...alloc.Mutation) manager.Write {
	t.Helper()
	sl, err := term.Reserve()
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	return sl.Submit(muts)
}

func write(t *testing.T, term manager.Term, muts ...alloc.Mutation) {
	t.Helper()
	if err := submit(t, term, muts...).Wait(); err != nil {
		t.Fatalf("write %v: %v", muts, err)
	}
}

func load(t *testing.T, term manager.Term) map[string]string {
	t.Helper()
	recs, err := term.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	m := map[string]string{}
	for i, r := range recs {
		if i > 0 && recs[i-1].Key >= r.Key {
			t.Fatalf("Load is not sorted by key: %q before %q", recs[i-1].Key, r.Key)
		}
		m[r.Key] = string(r.Value)
	}
	return m
}

func resign(t *testing.T, term manager.Term) {
	t.Helper()
	if err := term.Resign(context.Background()); err != nil {
		t.Fatalf("Resign: %v", err)
	}
}

func wantClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("%s: not closed within %s", what, guard)
	}
}

func wantNotLeader(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, manager.ErrNotLeader) {
		t.Fatalf("%s = %v, want an error matching manager.ErrNotLeader", what, err)
	}
}

// loadSeesEveryWrite: an empty store loads nothing; acknowledged puts and deletes are what the same
// term and the next leader load.
func loadSeesEveryWrite(t *testing.T, open func() manager.Store) {
	a := campaign(t, open(), "a")
	if got := load(t, a); len(got) != 0 {
		t.Fatalf("a new store loads %v, want nothing", got)
	}
	write(t, a, put("tenants/x", `{"name":"x"}`), put("tenants/y", "y"), put("pods/1", ""))
	write(t, a, del("tenants/y"), put("tenants/x", "x2"))
	want := map[string]string{"tenants/x": "x2", "pods/1": ""}
	if got := load(t, a); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Load in the writing term = %v, want %v", got, want)
	}
	resign(t, a)
	b := campaign(t, open(), "b")
	if got := load(t, b); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Load by the next leader = %v, want %v", got, want)
	}
}

// orderWithinTerm: commands submitted without waiting land in submission order.
func orderWithinTerm(t *testing.T, open func() manager.Store) {
	term := campaign(t, open(), "a")
	var ws []manager.Write
	for i := range 50 {
		ws = append(ws, submit(t, term, put("last", strconv.Itoa(i)), put(fmt.Sprintf("seq/%02d", i), "x")))
	}
	for i, w := range ws {
		if err := w.Wait(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	got := load(t, term)
	if got["last"] != "49" || len(got) != 51 {
		t.Fatalf("after 50 ordered writes: last=%q and %d records, want last=49 and 51 records", got["last"], len(got))
	}
}

// oneLeaderAtATime: a second client's campaign waits while the first leads (a canceled one gives
// up), and wins when the first resigns; the first term is then over and the second sees its writes.
func oneLeaderAtATime(t *testing.T, open func() manager.Store) {
	a := campaign(t, open(), "a")
	write(t, a, put("k", "from-a"))
	b := open()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if term, err := b.Campaign(ctx, "b"); err == nil {
		t.Fatalf("a canceled campaign won while another client leads (term %v)", term)
	}
	won := make(chan manager.Term, 1)
	failed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		term, err := b.Campaign(ctx, "b")
		if err != nil {
			failed <- err
			return
		}
		won <- term
	}()
	resign(t, a)
	wantClosed(t, a.Lost(), "the resigned term's Lost")
	var bt manager.Term
	select {
	case bt = <-won:
	case err := <-failed:
		t.Fatalf("the waiting campaign after the leader resigned: %v", err)
	}
	if got := load(t, bt); got["k"] != "from-a" {
		t.Fatalf("the new leader loads %v, want k=from-a", got)
	}
	_, err := a.Reserve()
	wantNotLeader(t, err, "Reserve in the resigned term")
	write(t, bt, put("k", "from-b"))
}

// endedTermRefuses: after a term ends, a slot reserved in it cannot land — not even when the same
// client leads again — and Load, Reserve and Err say the term is over.
func endedTermRefuses(t *testing.T, open func() manager.Store) {
	s := open()
	old := campaign(t, s, "a")
	sl, err := old.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	resign(t, old)
	fresh := campaign(t, s, "a")
	wantNotLeader(t, sl.Submit([]alloc.Mutation{put("old", "1")}).Wait(), "a write of the ended term")
	_, err = old.Load(context.Background())
	wantNotLeader(t, err, "Load in the ended term")
	_, err = old.Reserve()
	wantNotLeader(t, err, "Reserve in the ended term")
	wantNotLeader(t, old.Err(), "Err of the ended term")
	if err := fresh.Err(); err != nil {
		t.Fatalf("the old term's refusals ended the new one: %v", err)
	}
	if got := load(t, fresh); len(got) != 0 {
		t.Fatalf("Load = %v, want nothing", got)
	}
}

// failedResignStillEnds: a Resign that fails (here: its context is over) still ends the term; the
// client can lead again, and only the new term's writes land.
func failedResignStillEnds(t *testing.T, open func() manager.Store) {
	s := open()
	old := campaign(t, s, "a")
	sl, err := old.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = old.Resign(ctx) // may or may not report the failure; the term must end either way
	wantClosed(t, old.Lost(), "Lost after a failed Resign")
	fresh := campaign(t, s, "a")
	wantNotLeader(t, sl.Submit([]alloc.Mutation{put("old", "1")}).Wait(), "a write of the term whose Resign failed")
	write(t, fresh, put("new", "1"))
	if got := load(t, fresh); fmt.Sprint(got) != "map[new:1]" {
		t.Fatalf("Load = %v, want only new=1", got)
	}
}

// canceledCallsEndNothing: a canceled Load fails, and the term lives on.
func canceledCallsEndNothing(t *testing.T, open func() manager.Store) {
	term := campaign(t, open(), "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := term.Load(ctx); err == nil {
		t.Fatal("Load with a canceled context succeeded")
	}
	if err := term.Err(); err != nil {
		t.Fatalf("a canceled Load ended the term: %v", err)
	}
	write(t, term, put("k", "v"))
}

// campaignWhileLeading returns the live term, not a new one.
func campaignWhileLeading(t *testing.T, open func() manager.Store) {
	s := open()
	first := campaign(t, s, "a")
	again := campaign(t, s, "a")
	if first != again {
		t.Fatal("Campaign while leading started a new term")
	}
	if first.Err() != nil {
		t.Fatalf("a second Campaign ended the term: %v", first.Err())
	}
}

// fullQueueFailsAtOnce: Reserve never waits: a full queue fails with ErrQueueFull and leaves the term
// alive; a cancelled slot frees its place.
func fullQueueFailsAtOnce(t *testing.T, open func() manager.Store) {
	term := campaign(t, open(), "a")
	var slots []manager.Slot
	for range 3 {
		sl, err := term.Reserve()
		if err != nil {
			t.Fatalf("Reserve within the queue size: %v", err)
		}
		slots = append(slots, sl)
	}
	if _, err := term.Reserve(); !errors.Is(err, manager.ErrQueueFull) {
		t.Fatalf("Reserve on a full queue = %v, want ErrQueueFull", err)
	}
	slots[0].Cancel()
	sl, err := term.Reserve()
	if err != nil {
		t.Fatalf("Reserve after a Cancel: %v", err)
	}
	if err := term.Err(); err != nil {
		t.Fatalf("a full queue ended the term: %v", err)
	}
	if err := sl.Submit([]alloc.Mutation{put("k", "v")}).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, sl := range slots[1:] {
		sl.Cancel()
	}
	if got := load(t, term); got["k"] != "v" {
		t.Fatalf("Load = %v, want k=v", got)
	}
}
