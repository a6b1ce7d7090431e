package sim

import (
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"
)

// small is the configuration of the test swarm: short, with faults.
func small(seed uint64) Config {
	return Config{Seed: seed, Pods: 15, Duration: 20 * time.Second, Faults: true}
}

// withAgents is small with three nodes whose real agents serve every pod's CNI ADD and DEL.
func withAgents(seed uint64) Config {
	c := small(seed)
	c.Nodes = 3
	return c
}

// withChurn is withAgents with nodes added, removed and rebooted during the fault phase.
func withChurn(seed uint64) Config {
	c := withAgents(seed)
	c.NodeChurn = true
	return c
}

// withStatefulSets is withAgents with a StatefulSet per tenant.
func withStatefulSets(seed uint64) Config {
	c := withAgents(seed)
	c.StatefulSets = true
	return c
}

// modes are the ways the workload reaches the manager: directly, through agents, through agents
// following whichever of three managers leads, and through agents on nodes that join and leave.
var modes = map[string]func(uint64) Config{"direct": small, "agents": withAgents, "failover": withManagers, "churn": withChurn}

func TestSameSeedSameHash(t *testing.T) {
	for i, seed := range []uint64{1, 2, 42, 4, 5} {
		mk := append([]func(uint64) Config{small, withAgents, withManagers, withChurn}, withStatefulSets)[i]
		a, b := Run(mk(seed)), Run(mk(seed))
		if a.Kind != OK {
			t.Fatalf("seed %d: %s: %s", seed, a.Kind, a.Err)
		}
		if a.Hash != b.Hash || a.Stats != b.Stats {
			t.Errorf("seed %d ran twice: hashes %s and %s, stats %+v and %+v", seed, a.Hash, b.Hash, a.Stats, b.Stats)
		}
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	seen := map[string]uint64{}
	for seed := uint64(1); seed <= 10; seed++ {
		r := Run(small(seed))
		if other, dup := seen[r.Hash]; dup {
			t.Errorf("seeds %d and %d gave the same trace hash %s", other, seed, r.Hash)
		}
		seen[r.Hash] = seed
	}
}

// TestGOMAXPROCS runs one seed with one and with two Ps: a shell that spawned a goroutine whose
// scheduling mattered, or read the wall clock, would change the hash.
func TestGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	all := map[string]func(uint64) Config{"statefulsets": withStatefulSets, "drain": withDrain}
	for name, mk := range modes {
		all[name] = mk
	}
	for name, mk := range all {
		runtime.GOMAXPROCS(1)
		one := Run(mk(7))
		runtime.GOMAXPROCS(2)
		two := Run(mk(7))
		if one.Hash != two.Hash {
			t.Errorf("%s seed 7: GOMAXPROCS 1 gave %s, 2 gave %s", name, one.Hash, two.Hash)
		}
	}
}

func TestTraceKept(t *testing.T) {
	c := small(3)
	c.KeepTrace = true
	r := Run(c)
	if len(r.Trace) == 0 || !strings.Contains(strings.Join(r.Trace, "\n"), "allocated uid-") {
		t.Fatalf("trace has %d lines and no allocation", len(r.Trace))
	}
	if plain := Run(small(3)); plain.Hash != r.Hash {
		t.Fatalf("keeping the trace changed the hash: %s vs %s", r.Hash, plain.Hash)
	}
}

// TestSwarm is the small swarm of make test-ut: every seed must pass every invariant.
func TestSwarm(t *testing.T) {
	n := uint64(100 / raceScale)
	if testing.Short() {
		n = 10
	}
	start := time.Now()
	var faults Stats
	results := append(Swarm(small(0), 1, n), Swarm(withAgents(0), 1, n)...)
	for _, r := range results {
		if r.Kind != OK {
			t.Errorf("%s failure: %s\nreproduce: %s", r.Kind, r.Err, r.Config.Repro())
		}
		faults.Crashes += r.Stats.Crashes
		faults.WriteFaults += r.Stats.WriteFaults
		faults.LostTerms += r.Stats.LostTerms
		faults.Outages += r.Stats.Outages
		faults.AgentCrashes += r.Stats.AgentCrashes
		faults.Partitions += r.Stats.Partitions
	}
	if faults.Crashes == 0 || faults.WriteFaults == 0 || faults.LostTerms == 0 || faults.Outages == 0 || faults.AgentCrashes == 0 || faults.Partitions == 0 {
		t.Errorf("the swarm did not exercise every fault: %+v", faults)
	}
	t.Logf("%d seeds in %s; faults %+v", len(results), time.Since(start).Round(time.Millisecond), faults)
}

// TestPlantsCaught proves the invariants have teeth: each planted bug fails a small swarm with the
// kind of failure it should.
func TestPlantsCaught(t *testing.T) {
	want := map[string]string{ // the invariant that must catch each plant
		string(PlantNoCooldown):          "cooldown",
		string(PlantReleaseByName):       "pod-has-its-ports",
		string(PlantAckFailedWrite):      "",
		string(PlantLostCheckpoint):      "sandboxes-match-pods",
		string(PlantReuseBeforeDEL):      "sandbox-owns-its-addresses",
		string(PlantSkipFencing):         "add-allocates",
		string(PlantReleaseOnDEL):        "same-pod-same-addresses",
		string(PlantStaleNetwork):        "pods-reach",
		string(PlantNoSticky):            "sticky-address",
		string(PlantReleaseNodeSkipsPod): "removed-node-holds-nothing",
		string(PlantNodeRecordKept):      "nodes-match",
	}
	agentsOnly := map[string]bool{string(PlantLostCheckpoint): true, string(PlantReuseBeforeDEL): true, string(PlantSkipFencing): true, string(PlantReleaseOnDEL): true}
	// Only network churn deletes networks and creates them again: stale-network runs there alone.
	plantModes := maps.Clone(modes)
	plantModes["netchurn"] = withNetChurn
	for _, name := range PlantNames() {
		for mode, mk := range plantModes {
			if (name == string(PlantStaleNetwork)) != (mode == "netchurn") {
				continue
			}
			if agentsOnly[name] && mode == "direct" {
				continue // a bug of the agent's: the direct mode runs no agent to plant it in
			}
			if name == string(PlantReleaseOnDEL) && mode != "churn" {
				continue // only node churn reboots nodes, which makes the runtime recreate sandboxes
			}
			if (name == string(PlantReleaseNodeSkipsPod) || name == string(PlantNodeRecordKept)) && mode != "churn" {
				continue // only node churn removes nodes
			}
			t.Run(name+"/"+mode, func(t *testing.T) {
				inv, listed := want[name]
				if !listed {
					t.Fatalf("plant %s has no expectation in this test", name)
				}
				base := mk(0)
				base.Plant = Plant(name)
				base.StatefulSets = name == string(PlantNoSticky) // only StatefulSets' members are sticky
				caught := 0
				for _, r := range Swarm(base, 1, 10) {
					if r.Kind == Crash {
						t.Fatalf("seed %d crashed: %s", r.Config.Seed, r.Err)
					}
					if r.Kind != OK && (inv == "" || strings.Contains(r.Err, "invariant "+inv+" ")) {
						caught++
					}
				}
				if caught == 0 {
					t.Fatalf("plant %s was not caught by 10 seeds", name)
				}
				t.Logf("plant %s caught by %d of 10 seeds", name, caught)
			})
		}
	}
}

func TestParsePlant(t *testing.T) {
	if _, err := ParsePlant("nope"); err == nil || !strings.Contains(err.Error(), "no-cooldown") {
		t.Fatalf("ParsePlant(nope) = %v; want an error listing the plants", err)
	}
	if p, err := ParsePlant("no-cooldown"); err != nil || p != PlantNoCooldown {
		t.Fatalf("ParsePlant(no-cooldown) = %q, %v", p, err)
	}
}

func TestInvalidConfigIsReported(t *testing.T) {
	r := Run(Config{Seed: 1, Pods: 0, Duration: time.Second})
	if r.Kind != Crash || !strings.Contains(r.Err, "pods") {
		t.Fatalf("pods 0: kind %s (%s); want crash naming pods", r.Kind, r.Err)
	}
}

// TestNodeChurnSwarm requires every seed to pass while nodes join, leave without a drain and
// reboot (with agents, and with the monitor releasing a removed node's pods), and the swarm to have
// done each of those.
func TestNodeChurnSwarm(t *testing.T) {
	n := uint64(50 / raceScale)
	if testing.Short() {
		n = 5
	}
	withMonitorChurn := func(seed uint64) Config { c := withChurn(seed); c.Monitor = true; return c }
	for name, mk := range map[string]func(uint64) Config{"agents": withChurn, "monitor": withMonitorChurn} {
		seeds := n
		if name == "monitor" {
			seeds = n * 3 / 5 // as many as TestMonitorSwarm
		}
		var st Stats
		for _, r := range Swarm(mk(0), 1, seeds) {
			if r.Kind != OK {
				t.Errorf("%s: %s failure: %s\nreproduce: %s", name, r.Kind, r.Err, r.Config.Repro())
			}
			st.NodesJoined += r.Stats.NodesJoined
			st.NodesRemoved += r.Stats.NodesRemoved
			st.NodeReboots += r.Stats.NodeReboots
		}
		if st.NodesJoined == 0 || st.NodesRemoved == 0 || st.NodeReboots == 0 {
			t.Errorf("%s: the swarm did not add, remove and reboot nodes: %+v", name, st)
		}
		t.Logf("%s: %d seeds: %d nodes joined, %d removed, %d rebooted", name, seeds, st.NodesJoined, st.NodesRemoved, st.NodeReboots)
	}
}

// TestNodeChurnTrace follows one seed (2: two removals and a reboot in 20 s) through its trace:
// a removed node's record is released, with the monitor only after the pod GC deleted its pods'
// objects; a rebooted node's pods get their sandboxes recreated and are allocated again, with the
// addresses they had (the run passing same-pod-same-addresses says they are the same).
func TestNodeChurnTrace(t *testing.T) {
	for _, monitor := range []bool{false, true} {
		c := withChurn(2)
		c.Monitor, c.KeepTrace = monitor, true
		r := Run(c)
		if r.Kind != OK {
			t.Fatalf("monitor %t: %s: %s", monitor, r.Kind, r.Err)
		}
		if r.Stats.NodesRemoved == 0 || r.Stats.NodeReboots == 0 {
			t.Fatalf("monitor %t: seed 2 no longer removes and reboots nodes: %+v", monitor, r.Stats)
		}
		removed, released, gc, recreated := -1, -1, -1, ""
		again := false
		for i, l := range r.Trace {
			switch {
			case removed < 0 && strings.HasPrefix(l, "remove node "):
				removed = i
			case removed >= 0 && gc < 0 && strings.HasPrefix(l, "api gc "):
				gc = i
			case removed >= 0 && released < 0 && strings.HasPrefix(l, "released node "):
				released = i
			case recreated == "" && strings.HasPrefix(l, "recreate "):
				recreated = strings.Fields(l)[1]
			case recreated != "" && strings.HasPrefix(l, "allocated "+recreated+" "):
				again = true
			}
		}
		if removed < 0 || released < 0 {
			t.Errorf("monitor %t: no removal followed by the node's release in the trace", monitor)
		}
		if monitor && (gc < 0 || gc > released) {
			t.Errorf("monitor %t: the node's record was released (line %d) before the pod GC deleted a pod of it (line %d)", monitor, released, gc)
		}
		if !again {
			t.Errorf("monitor %t: no pod allocated again after its sandbox was recreated (first recreated: %q)", monitor, recreated)
		}
	}
}

// TestStatefulSetSwarm requires every seed to pass while StatefulSets' members are scaled and
// replaced under their names (directly, with agents and node churn, with the monitor and churn,
// and with the monitor leaving the allocation to the agent's ADD), and their successors to have taken their held addresses back.
func TestStatefulSetSwarm(t *testing.T) {
	n := uint64(10 / raceScale)
	if testing.Short() {
		n = 3
	}
	direct := func(seed uint64) Config { c := small(seed); c.StatefulSets = true; return c }
	churn := func(seed uint64) Config { c := withChurn(seed); c.StatefulSets = true; return c }
	monitor := func(seed uint64) Config { c := churn(seed); c.Monitor = true; return c }
	atAdd := func(seed uint64) Config {
		c := withStatefulSets(seed)
		c.Monitor, c.AllocateAtAdd = true, true
		return c
	}
	for _, mode := range []struct {
		name string
		mk   func(uint64) Config
	}{{"direct", direct}, {"churn", churn}, {"monitor", monitor}, {"allocate-at-add", atAdd}} {
		var st Stats
		for _, r := range Swarm(mode.mk(0), 1, n) {
			if r.Kind != OK {
				t.Errorf("%s: %s failure: %s\nreproduce: %s", mode.name, r.Kind, r.Err, r.Config.Repro())
			}
			st.StickyTaken += r.Stats.StickyTaken
			st.StickyRaced += r.Stats.StickyRaced
		}
		if st.StickyTaken == 0 {
			t.Errorf("%s: no member took its held addresses back in %d seeds", mode.name, n)
		}
		t.Logf("%s: %d seeds: %d members took their held addresses, %d were allocated before their predecessor's release", mode.name, n, st.StickyTaken, st.StickyRaced)
	}
}

// withDrain is withChurn with node drains and returns.
func withDrain(seed uint64) Config {
	c := withChurn(seed)
	c.NodeDrain = true
	c.Duration = 30 * time.Second
	return c
}

// TestNodeDrainSwarm requires every seed to pass while nodes are drained (cordoned, their pods
// evicted through the normal DEL and replaced, then removed) and removed nodes come back under
// their names, beside node churn, with agents and with the monitor and StatefulSets: each mode
// drains, and removed nodes come back in one of them at least (few seeds return under -race).
func TestNodeDrainSwarm(t *testing.T) {
	n := uint64(10 / raceScale)
	if testing.Short() {
		n = 3
	}
	monitor := func(seed uint64) Config { c := withDrain(seed); c.Monitor, c.StatefulSets = true, true; return c }
	returned := 0
	defer func() {
		if returned == 0 {
			t.Errorf("no removed node came back in either mode")
		}
	}()
	for _, mode := range []struct {
		name string
		mk   func(uint64) Config
	}{{"agents", withDrain}, {"monitor", monitor}} {
		var st Stats
		for _, r := range Swarm(mode.mk(0), 1, n) {
			if r.Kind != OK {
				t.Errorf("%s: %s failure: %s\nreproduce: %s", mode.name, r.Kind, r.Err, r.Config.Repro())
			}
			st.NodesDrained += r.Stats.NodesDrained
			st.NodesReturned += r.Stats.NodesReturned
		}
		returned += st.NodesReturned
		if st.NodesDrained == 0 {
			t.Errorf("%s: the swarm drained no node in %d seeds", mode.name, n)
		}
		t.Logf("%s: %d seeds: %d nodes drained, %d returned", mode.name, n, st.NodesDrained, st.NodesReturned)
	}
}

// TestNodeDrainTrace follows seed 1's first drain: the node's pods are deleted through their DEL
// (none goes by the pod GC), and only then is the node removed and its record released.
func TestNodeDrainTrace(t *testing.T) {
	c := withDrain(1)
	c.Monitor, c.KeepTrace = true, true
	r := Run(c)
	if r.Kind != OK || r.Stats.NodesDrained == 0 {
		t.Fatalf("seed 1: %s %s; drained %d", r.Kind, r.Err, r.Stats.NodesDrained)
	}
	name, drained, released, deletes := "", -1, -1, 0
	for i, l := range r.Trace {
		switch {
		case name == "" && strings.HasPrefix(l, "drain node "):
			name = strings.TrimPrefix(l, "drain node ")
		case name != "" && drained < 0 && strings.HasPrefix(l, "api delete "):
			deletes++
		case name != "" && drained < 0 && strings.HasPrefix(l, "api gc "):
			t.Fatalf("line %d: a pod of the draining node went by the pod GC: %s", i, l)
		case name != "" && l == "drained node "+name:
			drained = i
		case drained >= 0 && released < 0 && l == "released node "+name:
			released = i
		}
	}
	if deletes == 0 || drained < 0 || released < 0 {
		t.Fatalf("drain of %q: %d pod deletions, drained at line %d, released at line %d", name, deletes, drained, released)
	}
}

// TestEverySwitchTogether runs every workload and fault switch at once: node churn, drains and
// returns, StatefulSets, network churn and network faults. Seeds 8 and 16 of the default
// configuration once crashed so: node churn removed the last schedulable node while a drain had
// cordoned the other, and the removed node's replacements had nowhere to go. Then a short swarm of
// the same with agents and with the monitor.
func TestEverySwitchTogether(t *testing.T) {
	all := func(c Config) Config {
		c.NodeDrain, c.StatefulSets, c.NetworkChurn, c.NetFaults = true, true, true, true
		return c
	}
	check := func(what string, c Config) {
		if r := Run(c); r.Kind != OK {
			t.Errorf("%s: %s failure: %s\nreproduce: %s", what, r.Kind, r.Err, r.Config.Repro())
		}
	}
	for _, seed := range []uint64{8, 16} {
		check(fmt.Sprintf("default seed %d", seed), all(DefaultConfig(seed)))
	}
	n := uint64(2)
	if testing.Short() || raceScale > 1 {
		n = 1
	}
	for seed := uint64(1); seed <= n; seed++ {
		check(fmt.Sprintf("agents seed %d", seed), all(withDrain(seed)))
		c := all(withDrain(seed))
		c.Monitor = true
		check(fmt.Sprintf("monitor seed %d", seed), c)
	}
}
