package sim

import (
	"runtime"
	"strings"
	"testing"
)

// withMonitor is withAgents plus the API server and the real monitor: the monitor allocates ahead
// of the ADD and releases once the pod object is gone, under watch drops, conflicts and monitor
// crashes.
func withMonitor(seed uint64) Config {
	c := withAgents(seed)
	c.Monitor = true
	return c
}

func TestMonitorDeterministic(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	hashes := map[string]uint64{}
	for _, seed := range []uint64{11, 12, 13} {
		runtime.GOMAXPROCS(1)
		one := Run(withMonitor(seed))
		if one.Kind != OK {
			t.Fatalf("seed %d: %s: %s", seed, one.Kind, one.Err)
		}
		runtime.GOMAXPROCS(2)
		two := Run(withMonitor(seed))
		if one.Hash != two.Hash || one.Stats != two.Stats {
			t.Fatalf("seed %d ran twice (GOMAXPROCS 1, 2): hashes %s and %s, stats %+v and %+v", seed, one.Hash, two.Hash, one.Stats, two.Stats)
		}
		if other, ok := hashes[one.Hash]; ok {
			t.Fatalf("seeds %d and %d gave the same hash %s", other, seed, one.Hash)
		}
		hashes[one.Hash] = seed
	}
}

// TestMonitorSwarm requires every seed to pass with the monitor doing the releases, and the swarm
// to exercise the Kubernetes-side faults.
func TestMonitorSwarm(t *testing.T) {
	n := uint64(30 / raceScale)
	if testing.Short() {
		n = 5
	}
	var st Stats
	for _, r := range Swarm(withMonitor(0), 1, n) {
		if r.Kind != OK {
			t.Errorf("%s failure: %s\nreproduce: %s", r.Kind, r.Err, r.Config.Repro())
		}
		st.WatchDrops += r.Stats.WatchDrops
		st.Conflicts += r.Stats.Conflicts
		st.Relists += r.Stats.Relists
		st.Delivered += r.Stats.Delivered
		st.MonitorCrashes += r.Stats.MonitorCrashes
		st.Released += r.Stats.Released
	}
	if st.WatchDrops == 0 || st.Conflicts == 0 || st.MonitorCrashes == 0 || st.Released == 0 || st.Relists < st.WatchDrops || st.Delivered == 0 {
		t.Errorf("the swarm did not exercise the monitor and its faults: %+v", st)
	}
}

// TestMonitorReleases checks that a monitor-mode run releases pods with the monitor at work: the
// trace shows the monitor's syncs and the API server's deletes, and the run released pods.
func TestMonitorReleases(t *testing.T) {
	c := withMonitor(3)
	c.KeepTrace = true
	r := Run(c)
	if r.Kind != OK {
		t.Fatalf("%s: %s", r.Kind, r.Err)
	}
	tr := strings.Join(r.Trace, "\n")
	if !strings.Contains(tr, "monitor sync ") || !strings.Contains(tr, "api delete ") || r.Stats.Released == 0 {
		t.Fatalf("no monitor syncs, API deletes or releases in the trace (released %d)", r.Stats.Released)
	}
}

func TestMonitorNeedsNodes(t *testing.T) {
	c := withMonitor(1)
	c.Nodes = 0
	if r := Run(c); r.Kind != Crash || !strings.Contains(r.Err, "monitor: needs nodes") {
		t.Fatalf("monitor without nodes: %s %q; want a crash naming monitor", r.Kind, r.Err)
	}
}
