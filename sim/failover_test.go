package sim

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/alloc"
	"github.com/knitter-cni/knitter/core/model"
)

// withManagers is withAgents with three managers over the one store: the leader crashes or is cut
// off, a standby takes over, the agents follow it.
func withManagers(seed uint64) Config {
	c := withAgents(seed)
	c.Managers = 3
	return c
}

// TestFailover drives two manager processes step by step: the standby does not serve while the
// leader does, takes over when the leader crashes (with every acknowledged allocation), and the
// restarted one stands by; a lost session moves the leadership back and the old leader stops
// serving.
func TestFailover(t *testing.T) {
	w := NewWorld(1)
	cfg := alloc.DefaultConfig()
	sys := newSystem(w, cfg, cfg, PlantNone, 2)
	followed := 0
	sys.changed = func() { followed++ }
	if err := sys.startAll(); err != nil {
		t.Fatal(err)
	}
	step := func(want string) {
		t.Helper()
		if got := sys.lead(); got != want {
			t.Fatalf("lead step: %q; want %q", got, want)
		}
	}
	step("1:activated 2:standby")
	first := sys.procs[0].mgr
	if sys.mgr != first || !sys.serving() {
		t.Fatalf("the clients do not follow the first leader")
	}
	if ok, _ := sys.procs[1].mgr.Ready(); ok {
		t.Fatalf("the standby serves beside the leader")
	}
	wl := &workload{w: w, sys: sys}
	if err := wl.setup(); err != nil {
		t.Fatal(err)
	}
	res, err := sys.mgr.Do(context.Background(), alloc.AllocatePodCmd{As: alloc.AsSystem, PodRequest: alloc.PodRequest{
		Pod: model.PodRef{UID: "u1", Namespace: "acme", Name: "p"}, Tenant: "acme",
		Requests: []model.AttachRequest{{Network: "net", Interface: "eth0", DefaultRoute: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	ip := res.(model.Pod).Ports[0].IPs[0]

	if p := sys.crash(); p != sys.procs[0] || sys.mgr != nil {
		t.Fatalf("crash took slot %v; the clients still follow %p", p, sys.mgr)
	}
	step("1:down 2:activated")
	second := sys.procs[1].mgr
	if sys.mgr != second || sys.failovers != 1 {
		t.Fatalf("the clients follow %p, not the standby that took over (failovers %d)", sys.mgr, sys.failovers)
	}
	if got := podIP(t, sys); got != ip {
		t.Fatalf("after failover the pod has %v; it was given %v", got, ip)
	}
	if err := sys.restart(sys.procs[0]); err != nil {
		t.Fatal(err)
	}
	step("1:standby 2:serving")

	sys.store.LoseTerm()
	step("1:activated 2:standby")
	if ok, why := second.Ready(); ok {
		t.Fatalf("the manager whose session expired still serves")
	} else if why != "lost the leadership" {
		t.Fatalf("the old leader stopped serving because %q", why)
	}
	if sys.mgr != sys.procs[0].mgr || sys.failovers != 2 || podIP(t, sys) != ip {
		t.Fatalf("the leadership did not move back with the pod (failovers %d)", sys.failovers)
	}
	if followed < 5 {
		t.Fatalf("the clients were told of %d changes; want one per start, crash and failover", followed)
	}
}

func podIP(t *testing.T, sys *system) netip.Addr {
	t.Helper()
	var pod model.Pod
	var ok bool
	if err := sys.mgr.View(func(s *alloc.State) { pod, ok = s.Pod("u1") }); err != nil || !ok {
		t.Fatalf("the leader does not hold the pod (%v)", err)
	}
	return pod.Ports[0].IPs[0]
}

// TestFailoverSwarm requires every seed with three managers to pass while leaders crash and are cut
// off, and the standbys to have taken over.
func TestFailoverSwarm(t *testing.T) {
	n := uint64(50 / raceScale)
	if testing.Short() {
		n = 5
	}
	var st Stats
	for _, r := range Swarm(withManagers(0), 1, n) {
		if r.Kind != OK {
			t.Errorf("%s failure: %s\nreproduce: %s", r.Kind, r.Err, r.Config.Repro())
		}
		st.Failovers += r.Stats.Failovers
		st.Crashes += r.Stats.Crashes
		st.Partitions += r.Stats.Partitions
	}
	if st.Failovers == 0 || st.Crashes == 0 || st.Partitions == 0 {
		t.Errorf("the swarm did not fail over: %+v", st)
	}
	t.Logf("%d seeds: %d failovers after %d crashes and %d partitions", n, st.Failovers, st.Crashes, st.Partitions)
}

func TestManagersOutOfRange(t *testing.T) {
	c := withManagers(1)
	c.Managers = 4
	if r := Run(c); r.Kind != Crash || !strings.Contains(r.Err, "managers") {
		t.Fatalf("managers 4: %s %q; want a crash naming managers", r.Kind, r.Err)
	}
}
