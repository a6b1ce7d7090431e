package sim

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// withNetChurn is withAgents with an operator creating and deleting tenants and their networks.
func withNetChurn(seed uint64) Config {
	c := withAgents(seed)
	c.NetworkChurn = true
	return c
}

// TestNetworkChurnSwarm requires every seed to pass while networks and tenants come and go (with
// agents, without them, and with the monitor), and the swarm to have created and deleted networks,
// had deletions refused while ports remained, deleted tenants and failed ADDs on a missing network.
func TestNetworkChurnSwarm(t *testing.T) {
	n := uint64(30 / raceScale)
	if testing.Short() {
		n = 5
	}
	direct := func(seed uint64) Config { c := small(seed); c.NetworkChurn = true; return c }
	monitor := func(seed uint64) Config { c := withNetChurn(seed); c.Monitor = true; return c }
	for _, m := range []struct {
		name  string
		mk    func(uint64) Config
		seeds uint64
	}{{"agents", withNetChurn, n}, {"direct", direct, n}, {"monitor", monitor, max(1, n/3)}} {
		var st Stats
		for _, r := range Swarm(m.mk(0), 1, m.seeds) {
			if r.Kind != OK {
				t.Errorf("%s: %s failure: %s\nreproduce: %s", m.name, r.Kind, r.Err, r.Config.Repro())
			}
			st.NetworksCreated += r.Stats.NetworksCreated
			st.NetworksDeleted += r.Stats.NetworksDeleted
			st.DeletesRefused += r.Stats.DeletesRefused
			st.TenantsDeleted += r.Stats.TenantsDeleted
			st.MissingNetworkAdds += r.Stats.MissingNetworkAdds
		}
		if st.NetworksCreated == 0 || st.NetworksDeleted == 0 || st.DeletesRefused == 0 || st.MissingNetworkAdds == 0 || st.TenantsDeleted == 0 && m.seeds >= 5 {
			t.Errorf("%s: the swarm did not exercise the network churn: %+v", m.name, st)
		}
		t.Logf("%s: %d seeds: networks created %d, deleted %d, deletes refused %d, tenants deleted %d, ADDs on a missing network %d",
			m.name, m.seeds, st.NetworksCreated, st.NetworksDeleted, st.DeletesRefused, st.TenantsDeleted, st.MissingNetworkAdds)
	}
}

// TestNetworkChurnTrace follows seed 1 through its trace: a network's deletion is refused while
// its pods hold ports, and taken once they are released; the VLAN id and the macvlan parent a
// deleted network had go to another tenant's network; a pod created while its network was gone fails its ADD until the
// network is back, and is then allocated.
func TestNetworkChurnTrace(t *testing.T) {
	c := withNetChurn(1)
	c.KeepTrace = true
	r := Run(c)
	if r.Kind != OK {
		t.Fatalf("%s: %s", r.Kind, r.Err)
	}
	refused, deleted := -1, -1
	segOf := map[string]string{} // segment -> the tenant that had it, when its network was deleted
	reused := map[string]bool{}
	missing := map[string]int{} // uid -> the line its ADD failed for a missing network
	again := ""
	deletedRe := regexp.MustCompile(`^net-churn deleted network (\w+)/net \((.*)\)$`)
	upRe := regexp.MustCompile(`^net-churn up (\w+) (.*)$`)
	for i, l := range r.Trace {
		switch {
		case refused < 0 && strings.HasPrefix(l, "net-churn delete ") && strings.Contains(l, "ports; release the pods using it first"):
			refused = i
		case refused >= 0 && deleted < 0 && deletedRe.MatchString(l):
			deleted = i
		}
		if m := deletedRe.FindStringSubmatch(l); m != nil {
			segOf[m[2]] = m[1]
		}
		if m := upRe.FindStringSubmatch(l); m != nil && segOf[m[2]] != "" && segOf[m[2]] != m[1] {
			reused[strings.Fields(m[2])[0]] = true
		}
		if strings.HasPrefix(l, "retry uid-") && strings.Contains(l, `network "net" does not exist`) {
			uid := strings.TrimSuffix(strings.Fields(l)[1], ":")
			if _, ok := missing[uid]; !ok {
				missing[uid] = i
			}
		}
		if f := strings.Fields(l); again == "" && len(f) > 1 && f[0] == "allocated" {
			if _, ok := missing[f[1]]; ok {
				again = f[1]
			}
		}
	}
	if refused < 0 || deleted < 0 {
		t.Errorf("no network deletion refused while its pods held ports and taken after (lines %d, %d)", refused, deleted)
	}
	if !reused["vlan"] || !reused["macvlan"] {
		t.Errorf("a deleted network's VLAN id and macvlan parent did not both go to another tenant's network: %v", reused)
	}
	if again == "" {
		t.Errorf("no pod whose ADD failed on a missing network was allocated once it was back (%d failed)", len(missing))
	}
	if r.Stats.MissingNetworkAdds == 0 || r.Stats.DeletesRefused == 0 {
		t.Errorf("stats count no missing-network ADD or refused delete: %+v", r.Stats)
	}
}

// TestNetworkChurnDeterministic: the same seed gives the same trace hash, at GOMAXPROCS 1 and 2.
func TestNetworkChurnDeterministic(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	one := Run(withNetChurn(5))
	runtime.GOMAXPROCS(2)
	two := Run(withNetChurn(5))
	if one.Kind != OK || one.Hash != two.Hash || one.Stats != two.Stats {
		t.Fatalf("seed 5 (%s: %s): GOMAXPROCS 1 gave %s %+v, 2 gave %s %+v", one.Kind, one.Err, one.Hash, one.Stats, two.Hash, two.Stats)
	}
	if plain := Run(withAgents(5)); plain.Hash == one.Hash {
		t.Fatalf("network churn did not change the run: %s", plain.Hash)
	}
}

// TestNetworkChurnSetting: an experiment's network_churn turns the operator on, its reproducing
// command says so, and a value that is not a boolean is an error naming the field.
func TestNetworkChurnSetting(t *testing.T) {
	e, err := ParseExperiment([]byte("name: x\nseeds: {from: 1, to: 1}\nbase: {network_churn: true}\nvariants: [{name: a}, {name: b, network_churn: false}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.config(e.Variants[0], 1)
	b, _ := e.config(e.Variants[1], 1)
	if !a.NetworkChurn || b.NetworkChurn || !strings.Contains(a.Repro(), " --network-churn") || strings.Contains(b.Repro(), "network-churn") {
		t.Fatalf("network_churn: a %t (%s), b %t (%s)", a.NetworkChurn, a.Repro(), b.NetworkChurn, b.Repro())
	}
	if _, err := ParseExperiment([]byte("name: x\nseeds: {from: 1, to: 1}\nvariants: [{name: a, network_churn: often}]\n")); err == nil || !strings.Contains(err.Error(), "network_churn") {
		t.Fatalf("network_churn: often: %v; want an error naming network_churn", err)
	}
}
