package sim

import (
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/core/model"
)

func TestScaleSmall(t *testing.T) {
	cfg := ScaleConfig{Seed: 3, Nodes: 300, Pods: 2_000}
	var phases []string
	cfg.Phase = func(name string) { phases = append(phases, name) }
	a := Scale(cfg)
	if a.Kind != OK {
		t.Fatalf("%s: %s\nreproduce: %s", a.Kind, a.Err, cfg.Repro())
	}
	s := a.Stats
	if s.Created != 2_000 || s.Allocated != 2_000 || s.Deleted != 2_000 || s.Released != 2_000 || s.FinalPods != 0 {
		t.Errorf("stats %+v: want 2,000 pods created, allocated, deleted and released, none left", s)
	}
	if a.Heartbeats < 300 {
		t.Errorf("%d heartbeats; every one of the 300 agents registers at least once", a.Heartbeats)
	}
	want := []string{"nodes", "create", "check-created", "delete", "check-deleted", "done"}
	if len(phases) != len(want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	for i := range want {
		if phases[i] != want[i] {
			t.Fatalf("phases %v, want %v", phases, want)
		}
	}
	cfg.Phase = nil
	if b := Scale(cfg); b.Hash != a.Hash || b.Stats != a.Stats {
		t.Errorf("same seed twice: hashes %s and %s, stats %+v and %+v", a.Hash, b.Hash, a.Stats, b.Stats)
	}
	cfg.Seed = 4
	if c := Scale(cfg); c.Kind != OK || c.Hash == a.Hash {
		t.Errorf("seed 4: %s %s, hash %s (seed 3: %s)", c.Kind, c.Err, c.Hash, a.Hash)
	}
}

func TestScaleValidate(t *testing.T) {
	for _, c := range []ScaleConfig{{Nodes: 0, Pods: 10}, {Nodes: 10, Pods: 0}, {Nodes: MaxScaleNodes + 1, Pods: 1}, {Nodes: 1, Pods: MaxScalePods + 1}} {
		if r := Scale(c); r.Kind != Crash || r.Err == "" {
			t.Errorf("%+v: %s %q, want a crash naming the field", c, r.Kind, r.Err)
		}
	}
}

// TestVTEPsDistinct: node VTEPs stay distinct past 255 nodes, and the first 254 are the ones the
// fault runs always had.
func TestVTEPsDistinct(t *testing.T) {
	if got := vtep(0); got != netip.MustParseAddr("192.168.0.1") {
		t.Errorf("vtep(0) = %s", got)
	}
	if got := vtep(255); got != netip.MustParseAddr("192.168.1.0") {
		t.Errorf("vtep(255) = %s", got)
	}
	seen := map[netip.Addr]int{}
	for i := range MaxScaleNodes {
		if j, dup := seen[vtep(i)]; dup {
			t.Fatalf("nodes %d and %d share VTEP %s", j, i, vtep(i))
		}
		seen[vtep(i)] = i
	}
}

// TestIndexCatchesDuplicates: the scale run's index fails unique-address and unique-mac when an
// address or MAC is acknowledged to a second live pod, and not after the first was released.
func TestIndexCatchesDuplicates(t *testing.T) {
	port := func(uid, ip string, mac byte) []model.Port {
		return []model.Port{{ID: uid + "/eth0", Network: "acme/net", Pod: model.PodRef{UID: uid},
			IPs: []netip.Addr{netip.MustParseAddr(ip)}, MAC: model.MAC{2, 0, 0, 0, 0, mac}}}
	}
	for _, tc := range []struct {
		name, second, ip string
		mac              byte
		release          bool
		want             string
	}{
		{"same address", "b", "10.0.0.1", 2, false, "unique-address"},
		{"same MAC", "b", "10.0.0.2", 1, false, "unique-mac"},
		{"after release", "b", "10.0.0.1", 1, true, ""},
		{"same pod again", "a", "10.0.0.1", 1, false, ""},
	} {
		c := &checker{w: NewWorld(1), index: newAckIndex()}
		c.index.add(c, "a", port("a", "10.0.0.1", 1))
		if tc.release {
			c.index.remove("a")
		}
		c.index.add(c, tc.second, port(tc.second, tc.ip, tc.mac))
		switch {
		case tc.want == "" && c.failed != nil:
			t.Errorf("%s: %v", tc.name, c.failed)
		case tc.want != "" && (c.failed == nil || c.failed.Name != tc.want):
			t.Errorf("%s: %v, want %s", tc.name, c.failed, tc.want)
		}
	}
}

// TestScalePeerSync: with every agent's node watch running, every VXLAN device on every node
// floods to exactly the other nodes once the pods are up, and the same seed gives the same run.
func TestScalePeerSync(t *testing.T) {
	cfg := ScaleConfig{Seed: 2, Nodes: 40, Pods: 400, PeerSync: true}
	a := Scale(cfg)
	if a.Kind != OK {
		t.Fatalf("%s: %s\nreproduce: %s", a.Kind, a.Err, cfg.Repro())
	}
	if a.FloodDevices < cfg.Nodes || a.Lists < cfg.Nodes || a.Polls < a.Lists {
		t.Errorf("%d VXLAN devices checked, %d watches answered, %d with the node set; want one device a node at least and one list an agent at least",
			a.FloodDevices, a.Polls, a.Lists)
	}
	if b := Scale(cfg); b.Hash != a.Hash || b.Polls != a.Polls {
		t.Errorf("same seed twice: hashes %s and %s, polls %d and %d", a.Hash, b.Hash, a.Polls, b.Polls)
	}
	cfg.PeerSync = false
	if c := Scale(cfg); c.Kind != OK || c.Hash == a.Hash || c.Polls != 0 {
		t.Errorf("without peer sync: %s, hash %s (with: %s), polls %d", c.Kind, c.Hash, a.Hash, c.Polls)
	}
}
