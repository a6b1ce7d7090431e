package porttest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/wire"
	"github.com/knitter-cni/knitter/core/model"
	"github.com/knitter-cni/knitter/core/plan"
)

// sample is a checkpoint with every kind of field set.
func sample(id, ifname string) agent.Checkpoint {
	ip := netip.MustParsePrefix("10.1.0.2/24")
	return agent.Checkpoint{ContainerID: id, IfName: ifname, Network: "acme/net",
		Plan: plan.Pod{ContainerID: id, Netns: "/var/run/netns/" + id, Pod: model.PodRef{UID: "u-" + id, Namespace: "acme", Name: id}},
		Result: wire.Result{Interfaces: []wire.Interface{{Name: ifname, MAC: "02:00:00:00:00:01", Sandbox: "/var/run/netns/" + id}},
			IPs: []wire.IP{{Address: ip.String(), Gateway: "10.1.0.1"}}}}
}

// same compares checkpoints by their encoding, the version stamp aside.
func same(t *testing.T, what string, got, want agent.Checkpoint) {
	t.Helper()
	got.Version, want.Version = 0, 0
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// CheckpointStore runs the CheckpointStore contract on stores made by open, each empty.
func CheckpointStore(t *testing.T, open func(t *testing.T) agent.CheckpointStore) {
	t.Run("missing", func(t *testing.T) {
		s := open(t)
		if _, ok, err := s.Load(wire.Attachment{ContainerID: "c1", IfName: "eth0"}); ok || err != nil {
			t.Fatalf("Load of nothing = ok %v, %v; want not ok, no error", ok, err)
		}
		if err := s.Remove(wire.Attachment{ContainerID: "c1", IfName: "eth0"}); err != nil {
			t.Fatalf("Remove of nothing: %v", err)
		}
		if cps, err := s.List(); len(cps) != 0 || err != nil {
			t.Fatalf("List of an empty store = %v, %v", cps, err)
		}
	})
	t.Run("save load overwrite remove", func(t *testing.T) {
		s := open(t)
		cp := sample("c1", "eth0")
		if err := s.Save(cp, true); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Load(cp.Key())
		if !ok || err != nil {
			t.Fatalf("Load after Save = ok %v, %v", ok, err)
		}
		if got.Version == 0 {
			t.Fatal("the store did not stamp its format version")
		}
		same(t, "Load after Save", got, cp)
		got.Result.Interfaces[0].Name = "changed"
		again, _, _ := s.Load(cp.Key())
		same(t, "Load after the caller changed what it loaded", again, cp)

		cp.Ready = true
		if err := s.Save(cp, false); err != nil {
			t.Fatal(err)
		}
		got, _, _ = s.Load(cp.Key())
		same(t, "Load after a non-durable overwrite", got, cp)

		if err := s.Remove(cp.Key()); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Load(cp.Key()); ok || err != nil {
			t.Fatalf("Load after Remove = ok %v, %v", ok, err)
		}
	})
	t.Run("list is sorted and per attachment", func(t *testing.T) {
		s := open(t)
		for _, k := range [][2]string{{"c2", "eth0"}, {"c1", "net1"}, {"c1", "eth0"}} {
			if err := s.Save(sample(k[0], k[1]), true); err != nil {
				t.Fatal(err)
			}
		}
		cps, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, cp := range cps {
			keys = append(keys, cp.ContainerID+"@"+cp.IfName)
		}
		if want := "[c1@eth0 c1@net1 c2@eth0]"; fmt.Sprint(keys) != want {
			t.Fatalf("List = %s, want %s", keys, want)
		}
		if err := s.Remove(wire.Attachment{ContainerID: "c1", IfName: "eth0"}); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Load(wire.Attachment{ContainerID: "c1", IfName: "net1"}); !ok {
			t.Fatal("removing c1@eth0 removed c1@net1 too")
		}
	})
}
