package sim

import (
	"runtime"
	"strings"
	"testing"
)

// withNetFaults is withAgents with delays, message loss and overlapping partitions on the links.
func withNetFaults(seed uint64) Config {
	c := withAgents(seed)
	c.NetFaults = true
	return c
}

// TestNetFaultsSwarm requires every seed to pass with network faults — with agents, with the
// monitor, with three managers — and the swarm to have lost messages and had partitions, some of
// them overlapping.
func TestNetFaultsSwarm(t *testing.T) {
	n := uint64(30 / raceScale)
	if testing.Short() {
		n = 5
	}
	monitor := func(seed uint64) Config { c := withNetFaults(seed); c.Monitor = true; return c }
	managers := func(seed uint64) Config { c := withNetFaults(seed); c.Managers = 3; return c }
	for _, m := range []struct {
		name  string
		mk    func(uint64) Config
		seeds uint64
	}{{"agents", withNetFaults, n}, {"monitor", monitor, max(1, n/3)}, {"managers", managers, max(1, n/3)}} {
		var st Stats
		for _, r := range Swarm(m.mk(0), 1, m.seeds) {
			if r.Kind != OK {
				t.Errorf("%s: %s failure: %s\nreproduce: %s", m.name, r.Kind, r.Err, r.Config.Repro())
			}
			st.MessagesLost += r.Stats.MessagesLost
			st.NetPartitions += r.Stats.NetPartitions
			st.MaxOverlap = max(st.MaxOverlap, r.Stats.MaxOverlap)
		}
		if st.MessagesLost == 0 || st.NetPartitions == 0 || st.MaxOverlap < 2 && m.seeds >= 5 {
			t.Errorf("%s: the swarm did not lose messages and partition the links, some at once: %+v", m.name, st)
		}
		t.Logf("%s: %d seeds: %d messages lost, %d partitions, at most %d at once", m.name, m.seeds, st.MessagesLost, st.NetPartitions, st.MaxOverlap)
	}
}

// TestNetFaultsTrace follows seed 1 with the monitor through its trace: the links get their own
// delays and loss rates; an answer lost after the manager applied the call is retried and the pod
// is allocated (with the addresses it got, or pod-has-its-ports and same-pod-same-addresses would
// break); partitions heal.
func TestNetFaultsTrace(t *testing.T) {
	c := withNetFaults(1)
	c.Monitor, c.KeepTrace = true, true
	r := Run(c)
	if r.Kind != OK {
		t.Fatalf("%s: %s", r.Kind, r.Err)
	}
	links, answer, cut, healed := map[string]bool{}, false, false, false
	for _, l := range r.Trace {
		switch {
		case strings.HasPrefix(l, "link "):
			links[strings.SplitN(l, " delay ", 2)[1]] = true
		case strings.Contains(l, " answer lost on "):
			answer = true
		case strings.HasPrefix(l, "fault net-partition "):
			cut = true
		case cut && strings.HasPrefix(l, "net-partition healed:"):
			healed = true
		}
	}
	if len(links) < 3 {
		t.Errorf("the links do not have distributions of their own: %v", links)
	}
	if !answer || !cut || !healed || r.Stats.MessagesLost == 0 {
		t.Errorf("lost answer %t, partition %t, healed %t, messages lost %d", answer, cut, healed, r.Stats.MessagesLost)
	}
}

// TestNetFaultsDeterministic: the same seed gives the same trace hash at GOMAXPROCS 1 and 2, and
// the network faults change the run.
func TestNetFaultsDeterministic(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	one := Run(withNetFaults(6))
	runtime.GOMAXPROCS(2)
	two := Run(withNetFaults(6))
	if one.Kind != OK || one.Hash != two.Hash || one.Stats != two.Stats {
		t.Fatalf("seed 6 (%s: %s): GOMAXPROCS 1 gave %s %+v, 2 gave %s %+v", one.Kind, one.Err, one.Hash, one.Stats, two.Hash, two.Stats)
	}
	if plain := Run(withAgents(6)); plain.Hash == one.Hash {
		t.Fatalf("network faults did not change the run: %s", plain.Hash)
	}
}

// TestNetFaultsSetting: an experiment's net_faults turns the network faults on and the
// reproducing command says so.
func TestNetFaultsSetting(t *testing.T) {
	e, err := ParseExperiment([]byte("name: x\nseeds: {from: 1, to: 1}\nvariants: [{name: a, net_faults: true}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.config(e.Variants[0], 1)
	if !c.NetFaults || !strings.Contains(c.Repro(), " --net-faults") {
		t.Fatalf("net_faults: %t (%s)", c.NetFaults, c.Repro())
	}
}
