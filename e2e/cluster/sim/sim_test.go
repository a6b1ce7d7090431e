package sim

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/knitter-cni/knitter/core/netspec"
	"github.com/knitter-cni/knitter/e2e/cluster"
)

var bootstrap = filepath.Join("..", "..", "testdata", "bootstrap.yaml")

// session is a few calls a spec would make; it returns the trace hash.
func session(t *testing.T, seed uint64) string {
	t.Helper()
	ctx := context.Background()
	c, err := Up(ctx, Config{Seed: seed, Bootstrap: bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(ctx)
	a, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: "a", Node: "node1", Annotations: map[string]string{netspec.NPWGAnnotation: "mv@net1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: "b", Node: "node2", Annotations: map[string]string{netspec.NPWGAnnotation: "mv@net1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, itf := range []string{"eth0", "net1"} {
		bi, _ := b.Interface(itf)
		if err := c.Ping(ctx, a, bi.Addrs[0].Addr()); err != nil {
			t.Fatalf("a cannot reach b's %s: %v", itf, err)
		}
	}
	out, err := c.Exec(ctx, a, "ip", "-4", "route", "show", "default")
	if err != nil || !strings.HasPrefix(out, "default via 10.10.0.1 dev eth0") {
		t.Fatalf("ip -4 route show default: %q %v", out, err)
	}
	beth0, _ := b.Interface("eth0")
	gone := beth0.Addrs[0].Addr()
	if err := c.DeletePod(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx, a, gone); err == nil || !strings.Contains(err.Error(), "no interface that is up holds "+gone.String()) {
		t.Fatalf("a to the deleted pod's %s: %v; want no reach", gone, err)
	}
	return c.Hash()
}

// One seed and one sequence of calls give one trace; another seed another (the runtime's delays
// are the seed's).
func TestSessionDeterministic(t *testing.T) {
	h1, h2, h3 := session(t, 3), session(t, 3), session(t, 4)
	if h1 != h2 {
		t.Fatalf("seed 3 twice: traces %s and %s", h1, h2)
	}
	if h1 == h3 {
		t.Fatalf("seeds 3 and 4 gave one trace %s", h1)
	}
}

// A stopped manager makes ADD fail with try-again-later through the plugin's own error mapping,
// and the admin client sees the manager as unavailable.
func TestManagerStoppedThroughThePlugin(t *testing.T) {
	ctx := context.Background()
	c, err := Up(ctx, Config{Seed: 1, Bootstrap: bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Down(ctx)
	if err := c.StopManager(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreatePod(ctx, cluster.PodSpec{Namespace: "e2e", Name: "x", Node: "node1"})
	var te *types.Error
	if !errors.As(err, &te) || te.Code != types.ErrTryAgainLater {
		t.Fatalf("ADD with the manager stopped: %v; want CNI error 11", err)
	}
	if _, err := c.ManagerClient().ListTenants(ctx); err == nil {
		t.Fatal("the admin client reached a stopped manager")
	}
	if err := c.StartManager(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ManagerClient().ListTenants(ctx); err != nil {
		t.Fatalf("after StartManager: %v", err)
	}
}

func TestExecRefusesWhatItDoesNotModel(t *testing.T) {
	if _, err := execIP(nil, []string{"ping", "10.0.0.1"}); !errors.Is(err, errNotModelled) {
		t.Fatalf("ping: %v", err)
	}
	if _, err := execIP(nil, []string{"ip", "neigh", "replace", "10.0.0.1"}); !errors.Is(err, errNotModelled) {
		t.Fatalf("ip neigh: %v", err)
	}
}
