package manager_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
)

func register(t *testing.T, m interface {
	Do(context.Context, alloc.Command) (any, error)
}, name, vtep string) error {
	t.Helper()
	_, err := m.Do(context.Background(), alloc.RegisterNodeCmd{As: alloc.AsSystem, Node: model.Node{Name: name, VTEP: netip.MustParseAddr(vtep)}})
	return err
}

// A heartbeat that changes nothing is kept in memory: it makes no store write (a failing store does
// not fail it) and wakes no watcher.
func TestHeartbeatIsNotAStoreWrite(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	if err := register(t, m, "node-1", "192.168.0.1"); err != nil {
		t.Fatal(err)
	}
	_, rev, _, err := m.WatchNodes(context.Background(), "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Second)
	store.FailWrite(1)
	if err := register(t, m, "node-1", "192.168.0.1"); err != nil {
		t.Fatalf("a heartbeat needed a store write: %v", err)
	}
	if at, ok := m.NodeSeen("node-1"); !ok || !at.Equal(clk.Now()) {
		t.Fatalf("NodeSeen = %v, %v; want the heartbeat's time %v", at, ok, clk.Now())
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, same, changed, err := m.WatchNodes(done, "", "", rev); err != nil || changed || same != rev {
		t.Fatalf("after a heartbeat the node set is %q (changed %v, %v), want still %q", same, changed, err, rev)
	}
}

// A watcher waiting on the current revision is woken by a new node and gets the new set.
func TestWatchNodesWakesOnAChange(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	if err := register(t, m, "node-1", "192.168.0.1"); err != nil {
		t.Fatal(err)
	}
	_, rev, _, err := m.WatchNodes(context.Background(), "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		nodes   []model.Node
		rev     string
		changed bool
		err     error
	}
	got := make(chan answer, 1)
	go func() {
		nodes, r, changed, err := m.WatchNodes(context.Background(), "", "", rev)
		got <- answer{nodes, r, changed, err}
	}()
	if err := register(t, m, "node-2", "192.168.0.2"); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || !a.changed || a.rev == rev || len(a.nodes) != 2 || a.nodes[1].Name != "node-2" {
		t.Fatalf("the watcher got %+v; want both nodes at a new revision", a)
	}
	// A revision from another activation never matches: the new one answers at once.
	activate(t, m, store)
	if _, r, changed, err := m.WatchNodes(context.Background(), "", "", a.rev); err != nil || !changed || r == a.rev {
		t.Fatalf("a revision from before a reload = %q, changed %v, %v", r, changed, err)
	}
}
