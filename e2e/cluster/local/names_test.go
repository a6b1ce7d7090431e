package local

import (
	"regexp"
	"strings"
	"testing"

	"github.com/knitter-cni/knitter/core/plan"
)

func TestNamesCarryTheRunID(t *testing.T) {
	n := names{"abc123"}
	for got, want := range map[string]string{
		n.hub(): "kn-abc123-hub", n.node(2): "kn-abc123-node2", n.pod(7): "kn-abc123-pod7",
	} {
		if got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
	if !n.owns("kn-abc123-pod7") || n.owns("kn-abc1234-hub") || n.owns("cnitest-abc123") {
		t.Error("owns must match exactly the run's prefix")
	}
	id := n.containerID(12, "00ff00ff")
	if id != "abc1230012"+"00ff00ff" {
		t.Errorf("container ID %q", id)
	}
	// Two runs' pods with the same number get different node-side veth names.
	other := names{"abc124"}.containerID(12, "00ff00ff")
	if plan.HostIfName(id, "eth0") == plan.HostIfName(other, "eth0") {
		t.Error("veth names of two runs collide")
	}
}

func TestRunIDsAndUIDs(t *testing.T) {
	id, err := newRunID()
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{6}$`).MatchString(id) {
		t.Fatalf("run ID %q, %v", id, err)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		u, err := newUID()
		if err != nil || !uuid.MatchString(u) {
			t.Fatalf("UID %q, %v: not a version 4 UUID", u, err)
		}
		if seen[u] {
			t.Fatalf("UID %q twice", u)
		}
		seen[u] = true
	}
	if strings.ContainsAny(id, "-_") {
		t.Error("run IDs go into link names and must be plain hex")
	}
}
