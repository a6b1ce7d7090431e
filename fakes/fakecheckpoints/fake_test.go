package fakecheckpoints_test

import (
	"errors"
	"testing"

	"github.com/knitter-cni/knitter/agent"
	"github.com/knitter-cni/knitter/agent/porttest"
	"github.com/knitter-cni/knitter/fakes/fakecheckpoints"
)

func TestContract(t *testing.T) {
	porttest.CheckpointStore(t, func(*testing.T) agent.CheckpointStore { return fakecheckpoints.New() })
}

func TestFaults(t *testing.T) {
	f := fakecheckpoints.New()
	cp := agent.Checkpoint{ContainerID: "c1", IfName: "eth0"}
	if err := f.Save(cp, true); err != nil {
		t.Fatal(err)
	}
	cp.Ready = true
	if err := f.Save(cp, false); err != nil {
		t.Fatal(err)
	}
	f.Crash()
	got, ok, err := f.Load(cp.Key())
	if !ok || err != nil || got.Ready {
		t.Fatalf("after a crash = %+v, %v, %v; want the durable, not-ready checkpoint", got, ok, err)
	}
	full := errors.New("no space left on device")
	f.FailSave(full)
	if err := f.Save(cp, true); !errors.Is(err, full) {
		t.Fatalf("Save with a full disk = %v", err)
	}
	f.FailSave(nil)
	f.FailRemove(full)
	if err := f.Remove(cp.Key()); !errors.Is(err, full) {
		t.Fatalf("Remove with a failing disk = %v", err)
	}
	f.Corrupt("c9@eth0")
	if cps, err := f.List(); len(cps) != 1 || err == nil {
		t.Fatalf("List with a corrupt entry = %v, %v", cps, err)
	}
}
