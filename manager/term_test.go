package manager_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

// doAsync runs Do on its own goroutine (as an HTTP handler would) and returns its outcome.
func doAsync(m *manager.Manager, ctx context.Context, c alloc.Command) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := m.Do(ctx, c)
		ch <- err
	}()
	return ch
}

func hasPod(t *testing.T, m *manager.Manager, uid string) bool {
	t.Helper()
	var ok bool
	if err := m.View(func(s *alloc.State) { _, ok = s.Pod(uid) }); err != nil {
		t.Fatal(err)
	}
	return ok
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestCallersGoingAwayEndNothing: 16 clients disconnect while their writes wait for the store. The
// manager must keep serving in its term — the old code resigned and reloaded everything, for every
// tenant — and every command lands.
func TestCallersGoingAwayEndNothing(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	term, _ := store.Campaign(context.Background(), "test")
	store.SetSlow(true)
	var cancels []context.CancelFunc
	var results []<-chan error
	for i := range 16 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		results = append(results, doAsync(m, ctx, podCmd(fmt.Sprintf("gone%d", i))))
	}
	store.WaitHeld(16)
	for _, cancel := range cancels {
		cancel()
	}
	store.Flush()
	for i, ch := range results {
		if err := <-ch; err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	if ok, why := m.Ready(); !ok || isClosed(m.Done(term)) {
		t.Fatalf("after 16 clients went away: ready=%v (%s), want still serving in the same term", ok, why)
	}
	for i := range 16 {
		if !hasPod(t, m, fmt.Sprintf("gone%d", i)) {
			t.Errorf("pod gone%d missing", i)
		}
	}
	if term.Err() != nil {
		t.Fatalf("the term ended: %v", term.Err())
	}
}

// TestLateOldTermFailureSparesNewActivation: a write of an old term that fails after the manager has
// been activated in a newer term ends nothing: the failure belongs to the old activation.
func TestLateOldTermFailureSparesNewActivation(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	old, _ := store.Campaign(context.Background(), "test")
	store.SetSlow(true)
	late := doAsync(m, context.Background(), podCmd("late"))
	store.WaitHeld(1)
	store.SetSlow(false)
	if !store.LoseTerm() {
		t.Fatal("no term to lose")
	}
	m.Deactivate(old, "lost the leadership")
	fresh := activate(t, m, store)
	store.Flush() // the old term's write now fails: its term is gone
	if err := <-late; !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("the old term's command = %v, want unavailable", err)
	}
	if ok, why := m.Ready(); !ok || isClosed(m.Done(fresh)) {
		t.Fatalf("the old term's failure stopped the new activation: ready=%v (%s)", ok, why)
	}
	m.Deactivate(old, "a late duplicate of the old term's loss")
	if ok, _ := m.Ready(); !ok {
		t.Fatal("Deactivate of the old term stopped the new activation")
	}
	if hasPod(t, m, "late") {
		t.Fatal("the new activation holds a pod whose write never landed")
	}
	if _, err := m.Do(context.Background(), podCmd("late")); err != nil {
		t.Fatalf("retry in the new term: %v", err)
	}
}

// TestFullQueueRefusesAtOnce: with the store's queue full, a command is refused as unavailable at
// once with nothing changed, while reads and Authenticate answer without waiting.
func TestFullQueueRefusesAtOnce(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	store.SetQueueSize(2)
	store.SetSlow(true)
	a := doAsync(m, context.Background(), podCmd("a"))
	b := doAsync(m, context.Background(), podCmd("b"))
	store.WaitHeld(2)
	before := describe(t, m)
	_, err := m.Do(context.Background(), podCmd("c"))
	if !errors.Is(err, model.ErrUnavailable) || !strings.Contains(err.Error(), "queue is full") {
		t.Fatalf("Do with a full queue = %v, want unavailable naming the full queue", err)
	}
	if got := describe(t, m); got != before {
		t.Fatalf("a refused command changed the state:\n%s\nwant:\n%s", got, before)
	}
	if _, err := m.Authenticate("admin-secret"); err != nil {
		t.Fatalf("Authenticate behind a full queue: %v", err)
	}
	if ok, _ := m.Ready(); !ok {
		t.Fatal("a full queue stopped the manager")
	}
	store.Flush()
	for _, ch := range []<-chan error{a, b} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	store.SetSlow(false)
	if _, err := m.Do(context.Background(), podCmd("c")); err != nil {
		t.Fatalf("after the queue drained: %v", err)
	}
}

// TestStoreTimeoutEndsOnlyItsTerm: a write the store times out ends the activation (memory may be
// ahead of the store); the next activation holds exactly the store's records.
func TestStoreTimeoutEndsOnlyItsTerm(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	term, _ := store.Campaign(context.Background(), "test")
	store.SetSlow(true)
	ch := doAsync(m, context.Background(), podCmd("slow"))
	store.WaitHeld(1)
	store.TimeOut(true)
	if err := <-ch; !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Do whose write timed out = %v, want unavailable", err)
	}
	if !isClosed(m.Done(term)) {
		t.Fatal("the activation survived a failed write")
	}
	store.SetSlow(false)
	activate(t, m, store)
	if !hasPod(t, m, "slow") {
		t.Fatal("the timed-out write landed in the store but the reloaded state lacks it")
	}
}

// TestStepByStep drives the manager on one goroutine through a lost term, a failed write and a
// failed resignation, as the simulator does.
func TestStepByStep(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	ctx := context.Background()
	peer := store.Peer()
	term, _ := store.Campaign(ctx, "test")
	if _, err := peer.Campaign(canceled(), "peer"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a standby's campaign while the leader lives = %v, want its context's error", err)
	}
	store.FailResign(1)
	if err := term.Resign(ctx); err == nil {
		t.Fatal("injected Resign failure did not fail")
	}
	if _, err := m.Do(ctx, podCmd("x")); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Do after the term ended = %v, want unavailable", err)
	}
	pterm, err := peer.Campaign(ctx, "peer")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Activate(ctx, pterm); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Do(ctx, podCmd("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Do(ctx, podCmd("y")); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("the deposed manager's Do = %v, want unavailable", err)
	}
	if err := m.Activate(ctx, term); err == nil {
		t.Fatal("Activate in an ended term succeeded")
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestStartOnOneGoroutineOverASlowStore drives a slow store on one goroutine, as the simulator does:
// Start applies commands without blocking, Done stays open until the store completes the write, and
// Finish then answers at once; a write that times out ends the activation in Finish, and a later
// command's Op, started before the failure, fails too.
func TestStartOnOneGoroutineOverASlowStore(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	ctx := context.Background()
	term, _ := store.Campaign(ctx, "test")
	store.SetSlow(true)
	a := m.Start(ctx, podCmd("a"))
	b := m.Start(ctx, podCmd("b"))
	if store.Held() != 2 {
		t.Fatalf("held writes = %d, want 2", store.Held())
	}
	if isClosed(a.Done()) || isClosed(b.Done()) {
		t.Fatal("Done closed before the store completed the writes")
	}
	if !hasPod(t, m, "a") || !hasPod(t, m, "b") {
		t.Fatal("Start did not apply the commands in memory")
	}
	store.Flush()
	if !isClosed(a.Done()) || !isClosed(b.Done()) {
		t.Fatal("Done still open after the store completed the writes")
	}
	res, err := a.Finish()
	if pod, ok := res.(model.Pod); err != nil || !ok || pod.UID != "a" {
		t.Fatalf("Finish = %v, %v; want pod a", res, err)
	}
	if _, err := b.Finish(); err != nil {
		t.Fatal(err)
	}

	c := m.Start(ctx, podCmd("c"))
	d := m.Start(ctx, podCmd("d"))
	store.TimeOut(false)
	if !isClosed(c.Done()) || !isClosed(d.Done()) {
		t.Fatal("Done still open after the store timed the writes out")
	}
	if ok, _ := m.Ready(); !ok {
		t.Fatal("the activation ended before any Finish saw the failure") // Finish is where it ends
	}
	if _, err := c.Finish(); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Finish of a timed-out write = %v, want unavailable", err)
	}
	if _, err := d.Finish(); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Finish of the later write = %v, want unavailable", err)
	}
	if !isClosed(m.Done(term)) {
		t.Fatal("the activation survived a failed write")
	}
	if _, err2 := c.Finish(); !errors.Is(err2, model.ErrUnavailable) {
		t.Fatalf("a second Finish = %v, want the same outcome", err2)
	}
	refused := m.Start(ctx, podCmd("e"))
	if !isClosed(refused.Done()) {
		t.Fatal("a refused command's Done is open")
	}
	if _, err := refused.Finish(); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Start while not serving = %v, want unavailable", err)
	}
}
