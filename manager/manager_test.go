package manager_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/fakes/memstore"
	"github.com/knitter-cni/knitter/manager"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newManager returns a manager activated in a new term of store; an earlier term of store ends.
func newManager(t *testing.T, store *memstore.Store, clk *clock) *manager.Manager {
	t.Helper()
	m, err := manager.New(manager.Options{Alloc: alloc.DefaultConfig(), Now: clk.Now, AdminToken: "admin-secret"})
	if err != nil {
		t.Fatal(err)
	}
	activate(t, m, store)
	return m
}

// activate campaigns on store, taking over from whichever term leads, and activates m in the new term.
func activate(t *testing.T, m *manager.Manager, store *memstore.Store) manager.Term {
	t.Helper()
	store.LoseTerm()
	term, err := store.Campaign(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(context.Background(), term); err != nil {
		t.Fatal(err)
	}
	return term
}

func describe(t *testing.T, m *manager.Manager) string {
	t.Helper()
	var d string
	if err := m.View(func(s *alloc.State) { d = s.Describe() }); err != nil {
		t.Fatal(err)
	}
	return d
}

func setup(t *testing.T, m *manager.Manager) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []alloc.Command{
		alloc.CreateTenantCmd{Tenant: model.Tenant{Name: "acme"}},
		alloc.CreateNetworkCmd{Network: model.Network{Tenant: "acme", Name: "net", Type: model.Overlay,
			IPv4: &model.Subnet{CIDR: netip.MustParsePrefix("10.1.0.0/16")}}},
	} {
		if _, err := m.Do(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

func podCmd(uid string) alloc.AllocatePodCmd {
	return alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: alloc.PodRequest{
		Pod: model.PodRef{UID: uid, Namespace: "acme", Name: uid}, Tenant: "acme",
		Requests: []model.AttachRequest{{Network: "net", Interface: "eth0"}, {Network: "net", Interface: "net1"}},
	}}
}

// TestRestartReloadsTheSameState checks that what a manager answered is what a new manager on the
// same store serves, cooldowns included, and that cooldowns due while it was down end on load.
func TestRestartReloadsTheSameState(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	ctx := context.Background()
	for i := range 50 {
		if _, err := m.Do(ctx, podCmd(fmt.Sprintf("p%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Do(ctx, alloc.ReleasePodCmd{UID: "p7"}); err != nil {
		t.Fatal(err)
	}
	before := describe(t, m)
	again := newManager(t, store, clk)
	if got := describe(t, again); got != before {
		t.Fatalf("reloaded state differs:\n%s\nwant:\n%s", got, before)
	}
	clk.Advance(time.Minute)
	later := newManager(t, store, clk)
	if d := describe(t, later); d == before {
		t.Fatal("the cooldown of p7's addresses did not end on load a minute later")
	}
	for _, r := range store.Records() {
		if len(r.Key) > 10 && r.Key[:10] == "cooldowns/" {
			t.Fatalf("expired cooldown record %s still stored", r.Key)
		}
	}
}

// TestFailedWriteLosesNothing injects a store failure: the caller gets "unavailable", the manager
// stops serving, and after reloading it holds exactly what the store holds — every earlier pod, and
// not the one whose write failed; retrying that pod then succeeds.
func TestFailedWriteLosesNothing(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	ctx := context.Background()
	if _, err := m.Do(ctx, podCmd("a")); err != nil {
		t.Fatal(err)
	}
	store.FailWrite(1)
	_, err := m.Do(ctx, podCmd("b"))
	if !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Do with a failed write = %v; want unavailable", err)
	}
	if ok, why := m.Ready(); ok || why == "" {
		t.Fatalf("Ready() = %v %q after a failed write; want not ready with a reason", ok, why)
	}
	if _, err := m.Do(ctx, podCmd("c")); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("Do while inactive = %v; want unavailable", err)
	}
	activate(t, m, store)
	var hasA, hasB bool
	_ = m.View(func(s *alloc.State) { _, hasA = s.Pod("a"); _, hasB = s.Pod("b") })
	if !hasA || hasB {
		t.Fatalf("after reload: pod a present=%v (want true), pod b present=%v (want false)", hasA, hasB)
	}
	res, err := m.Do(ctx, podCmd("b"))
	if err != nil {
		t.Fatalf("retry after reload: %v", err)
	}
	if got := res.(model.Pod).Ports[0].IPs[0].String(); got != "10.1.0.3" {
		t.Fatalf("retried pod b got %s; want 10.1.0.3 (the addresses after pod a's)", got)
	}
}

// TestConcurrentAllocations runs many clients at once: every pod gets distinct addresses, and the
// store ends up holding exactly the state the manager serves.
func TestConcurrentAllocations(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				uid := fmt.Sprintf("w%d-%d", w, i)
				if _, err := m.Do(context.Background(), podCmd(uid)); err != nil {
					errs <- err
				}
				if i%3 == 0 {
					if _, err := m.Do(context.Background(), alloc.ReleasePodCmd{UID: uid}); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[netip.Addr]string{}
	_ = m.View(func(s *alloc.State) {
		for _, p := range s.Ports(alloc.Admin, alloc.PortFilter{}) {
			if other, dup := seen[p.IPs[0]]; dup {
				t.Errorf("%s on %s and %s", p.IPs[0], other, p.ID)
			}
			seen[p.IPs[0]] = p.ID
		}
	})
	if len(seen) != 8*(50-17)*2 {
		t.Fatalf("%d live ports; want %d", len(seen), 8*(50-17)*2)
	}
	if got, want := describe(t, newManager(t, store, clk)), describe(t, m); got != want {
		t.Fatalf("store and memory disagree:\n%s\nwant:\n%s", got, want)
	}
}

func TestAuthenticate(t *testing.T) {
	store, clk := memstore.New(), &clock{now: time.Unix(1000, 0)}
	m := newManager(t, store, clk)
	setup(t, m)
	ctx := context.Background()
	if a, err := m.Authenticate("admin-secret"); err != nil || !a.Admin {
		t.Fatalf("admin token: %+v %v", a, err)
	}
	tenantTok, err := m.CreateToken(ctx, alloc.Admin, model.Token{ID: "acme-ci", Role: model.RoleTenant, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	sysTok, err := m.CreateToken(ctx, alloc.Admin, model.Token{ID: "agents", Role: model.RoleSystem})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := m.Authenticate(tenantTok); err != nil || a.Admin || a.System || a.Tenant != "acme" {
		t.Fatalf("tenant token: %+v %v", a, err)
	}
	if a, err := m.Authenticate(sysTok); err != nil || !a.System {
		t.Fatalf("system token: %+v %v", a, err)
	}
	if _, err := m.CreateToken(ctx, alloc.Actor{Tenant: "acme"}, model.Token{ID: "mine", Role: model.RoleAdmin}); !errors.Is(err, model.ErrForbidden) {
		t.Fatalf("tenant creating an admin token: %v; want forbidden", err)
	}
	for _, bad := range []string{"", "admin-secret ", "acme-ci", "acme-ci.", ".x", "acme-ci.wrong", tenantTok + "x", "nobody." + tenantTok[8:]} {
		if _, err := m.Authenticate(bad); !errors.Is(err, &model.Error{Code: model.CodeUnauthenticated}) {
			t.Errorf("Authenticate(%q) = %v; want unauthenticated", bad, err)
		}
	}
	if _, err := m.Do(ctx, alloc.DeleteTokenCmd{ID: "acme-ci"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(tenantTok); err == nil {
		t.Fatal("a deleted token still authenticates")
	}
	if again := newManager(t, store, clk); true {
		if a, err := again.Authenticate(sysTok); err != nil || !a.System {
			t.Fatalf("system token after restart: %+v %v", a, err)
		}
	}
}
