package porttest

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/agenttest"
	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// ManagerClient runs the ManagerClient contract. open returns a client of m (a real manager with
// agenttest's world) and a switch that makes the client's manager unreachable.
func ManagerClient(t *testing.T, open func(t *testing.T, m *agenttest.Manager) (agent.ManagerClient, func(down bool))) {
	ctx := context.Background()
	ref := model.PodRef{UID: "u-1", Namespace: agenttest.Tenant, Name: "web"}
	req := alloc.PodRequest{Pod: ref, Tenant: agenttest.Tenant, Requests: []model.AttachRequest{{Network: agenttest.Overlay, Interface: "eth0"}}}

	t.Run("reads", func(t *testing.T) {
		m := agenttest.NewManager(t)
		c, _ := open(t, m)
		tn, err := c.Tenant(ctx, agenttest.Tenant)
		if err != nil || tn.Name != agenttest.Tenant || tn.DefaultNetwork != agenttest.Overlay {
			t.Fatalf("Tenant = %+v, %v", tn, err)
		}
		n, err := c.Network(ctx, agenttest.Tenant, agenttest.Overlay)
		if err != nil || n.VNI != agenttest.VNI || n.Type != model.Overlay {
			t.Fatalf("Network = %+v, %v", n, err)
		}
		for what, err := range map[string]error{
			"tenant":  second(c.Tenant(ctx, "nope")),
			"network": second(c.Network(ctx, agenttest.Tenant, "nope")),
			"pod":     second(c.Pod(ctx, "u-nope")),
			"bind":    second(c.BindPod(ctx, "u-nope", "node-1")),
		} {
			if model.CodeOf(err) != model.CodeNotFound || errors.Is(err, agent.ErrUnavailable) {
				t.Errorf("a missing %s gave %v (code %q), want not found", what, err, model.CodeOf(err))
			}
		}
	})
	t.Run("allocate bind", func(t *testing.T) {
		m := agenttest.NewManager(t)
		c, _ := open(t, m)
		if err := c.RegisterNode(ctx, model.Node{Name: "node-1", VTEP: netip.MustParseAddr("192.168.0.1")}); err != nil {
			t.Fatal(err)
		}
		p, err := c.AllocatePod(ctx, req)
		if err != nil || len(p.Ports) != 1 || len(p.Ports[0].IPs) != 1 {
			t.Fatalf("AllocatePod = %+v, %v", p, err)
		}
		again, err := c.AllocatePod(ctx, req)
		if err != nil || again.Ports[0].IPs[0] != p.Ports[0].IPs[0] || again.Ports[0].MAC != p.Ports[0].MAC {
			t.Fatalf("a repeated AllocatePod = %+v, %v; want the same ports %+v", again, err, p)
		}
		if _, err := c.BindPod(ctx, ref.UID, "node-2"); model.CodeOf(err) != model.CodeNotFound || errors.Is(err, agent.ErrUnavailable) {
			t.Fatalf("BindPod to an unregistered node = %v (code %q), want not found", err, model.CodeOf(err))
		}
		b, err := c.BindPod(ctx, ref.UID, "node-1")
		if err != nil {
			t.Fatal(err)
		}
		// The answer is the bound pod and the networks of its ports, as the manager holds them.
		want, _ := m.Pod(t, ref.UID)
		if b.Pod.Node != "node-1" || !reflect.DeepEqual(b.Pod, want) {
			t.Fatalf("BindPod's pod = %+v, want %+v", b.Pod, want)
		}
		overlay, err := c.Network(ctx, agenttest.Tenant, agenttest.Overlay)
		if err != nil {
			t.Fatal(err)
		}
		if key := agenttest.Tenant + "/" + agenttest.Overlay; len(b.Networks) != 1 || !reflect.DeepEqual(b.Networks[key], overlay) {
			t.Fatalf("BindPod's networks = %+v, want only %s = %+v", b.Networks, key, overlay)
		}
		// Again to the same node changes nothing; to another node is a conflict.
		if again, err := c.BindPod(ctx, ref.UID, "node-1"); err != nil || !reflect.DeepEqual(again, b) {
			t.Fatalf("a repeated BindPod = %+v, %v; want %+v", again, err, b)
		}
		if err := c.RegisterNode(ctx, model.Node{Name: "node-2", VTEP: netip.MustParseAddr("192.168.0.2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.BindPod(ctx, ref.UID, "node-2"); model.CodeOf(err) != model.CodeConflict || errors.Is(err, agent.ErrUnavailable) {
			t.Fatalf("BindPod to another node = %v (code %q), want a conflict", err, model.CodeOf(err))
		}
		got, err := c.Pod(ctx, ref.UID)
		if err != nil || got.Node != "node-1" || got.Ports[0].IPs[0] != p.Ports[0].IPs[0] {
			t.Fatalf("Pod after BindPod = %+v, %v", got, err)
		}
		if pod, ok := m.Pod(t, ref.UID); !ok || pod.Node != "node-1" {
			t.Fatalf("the manager holds %+v (ok %v)", pod, ok)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		m := agenttest.NewManager(t)
		c, _ := open(t, m)
		vtep := netip.MustParseAddr("192.168.0.7")
		if err := c.RegisterNode(ctx, model.Node{Name: "node-7", VTEP: vtep}); err != nil {
			t.Fatal(err)
		}
		set, err := c.WatchNodes(ctx, "", "", "")
		if err != nil || !set.Changed || set.Revision == "" || len(set.Nodes) != 1 || set.Nodes[0].Name != "node-7" || set.Nodes[0].VTEP != vtep {
			t.Fatalf("WatchNodes(\"\") = %+v, %v", set, err)
		}
		// Nothing changed: a small unchanged answer, and a heartbeat that changes nothing is no
		// change either.
		if err := c.RegisterNode(ctx, model.Node{Name: "node-7", VTEP: vtep}); err != nil {
			t.Fatal(err)
		}
		same, err := c.WatchNodes(ctx, "", "", set.Revision)
		if err != nil || same.Changed || len(same.Nodes) != 0 || same.Revision != set.Revision {
			t.Fatalf("WatchNodes(current) = %+v, %v; want unchanged", same, err)
		}
		// A new node: the next watch from the old revision has it.
		if err := c.RegisterNode(ctx, model.Node{Name: "node-8", VTEP: netip.MustParseAddr("192.168.0.8")}); err != nil {
			t.Fatal(err)
		}
		next, err := c.WatchNodes(ctx, "", "", set.Revision)
		if err != nil || !next.Changed || next.Revision == set.Revision || len(next.Nodes) != 2 {
			t.Fatalf("WatchNodes after a new node = %+v, %v", next, err)
		}
	})
	t.Run("peer gate", func(t *testing.T) {
		m := agenttest.NewManager(t)
		c, _ := open(t, m)
		if err := c.RegisterNode(ctx, model.Node{Name: "node-7", VTEP: netip.MustParseAddr("192.168.0.7")}); err != nil {
			t.Fatal(err)
		}
		// node-7's agent watches but has applied nothing yet: it is live and behind.
		set, err := c.WatchNodes(ctx, "node-7", "", "")
		if err != nil || !set.Changed {
			t.Fatalf("WatchNodes = %+v, %v", set, err)
		}
		if behind, err := c.WaitPeersApplied(ctx, "node-7", 0); err != nil || !slices.Equal(behind, []string{"node-7"}) {
			t.Fatalf("WaitPeersApplied before node-7 applied anything = %v, %v; want [node-7] behind", behind, err)
		}
		// Its next watch says it has applied the set holding its registration.
		if _, err := c.WatchNodes(ctx, "node-7", set.Revision, ""); err != nil {
			t.Fatal(err)
		}
		if behind, err := c.WaitPeersApplied(ctx, "node-7", time.Second); err != nil || len(behind) != 0 {
			t.Fatalf("WaitPeersApplied after node-7 applied = %v, %v; want none behind", behind, err)
		}
		if _, err := c.WaitPeersApplied(ctx, "node-9", time.Second); model.CodeOf(err) != model.CodeNotFound {
			t.Fatalf("WaitPeersApplied of an unregistered node = %v; want not found", err)
		}
	})
	t.Run("unavailable", func(t *testing.T) {
		m := agenttest.NewManager(t)
		c, setDown := open(t, m)
		setDown(true)
		for what, err := range map[string]error{
			"Tenant":           second(c.Tenant(ctx, agenttest.Tenant)),
			"Network":          second(c.Network(ctx, agenttest.Tenant, agenttest.Overlay)),
			"Pod":              second(c.Pod(ctx, "u-1")),
			"AllocatePod":      second(c.AllocatePod(ctx, req)),
			"BindPod":          second(c.BindPod(ctx, "u-1", "node-1")),
			"RegisterNode":     c.RegisterNode(ctx, model.Node{Name: "node-7", VTEP: netip.MustParseAddr("192.168.0.7")}),
			"WatchNodes":       second(c.WatchNodes(ctx, "", "", "")),
			"WaitPeersApplied": second(c.WaitPeersApplied(ctx, "node-7", time.Second)),
		} {
			if !errors.Is(err, agent.ErrUnavailable) {
				t.Errorf("%s with the manager down = %v; want agent.ErrUnavailable", what, err)
			}
		}
		setDown(false)
		if _, err := c.Tenant(ctx, agenttest.Tenant); err != nil {
			t.Fatalf("after the manager is back: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }
