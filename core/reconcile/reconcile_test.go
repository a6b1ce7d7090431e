package reconcile

import (
	"slices"
	"testing"
	"time"
)

func TestPlanReasons(t *testing.T) {
	cfg := Config{OrphanGrace: 5 * time.Second, NodeGrace: time.Minute}
	now := t0.Add(time.Hour)
	nodes := []Node{
		{Name: "ready", Ready: true, Since: t0},
		{Name: "flaky", Ready: false, Since: now.Add(-10 * time.Second)},
		{Name: "down", Ready: false, Since: now.Add(-2 * time.Minute)},
	}
	allocs := []Allocation{
		{UID: "a-live", Node: "ready"},
		{UID: "b-gone", Node: "ready"},
		{UID: "c-finished", Node: "ready"},
		{UID: "d-gone-node-deleted", Node: "deleted"},
		{UID: "e-deleting-on-down", Node: "down"},
		{UID: "f-deleting-on-flaky", Node: "flaky"},
		{UID: "g-running-on-down", Node: "down"},
		{UID: "h-deleting-on-ready", Node: "ready"},
		{UID: "i-gone-unbound"},
		{UID: "j-gone-on-down", Node: "down"},
		{UID: "k-fresh-orphan"},
	}
	pods := []Pod{
		{UID: "a-live", Node: "ready"},
		{UID: "c-finished", Node: "ready", Finished: true},
		{UID: "e-deleting-on-down", Node: "down", Deleting: true},
		{UID: "f-deleting-on-flaky", Node: "flaky", Deleting: true},
		{UID: "g-running-on-down", Node: "down"},
		{UID: "h-deleting-on-ready", Node: "ready", Deleting: true},
	}
	old := now.Add(-6 * time.Second)
	suspects := map[string]time.Time{"b-gone": old, "d-gone-node-deleted": old, "i-gone-unbound": old, "j-gone-on-down": old,
		"a-live": old, "not-in-manager": old}
	out := Plan(cfg, Input{Allocations: allocs, Pods: pods, Nodes: nodes, Suspects: suspects, Now: now})
	var got []string
	for _, r := range out.Releases {
		got = append(got, r.UID+"="+string(r.Reason))
	}
	want := []string{"b-gone=pod-gone", "c-finished=pod-finished", "d-gone-node-deleted=node-gone",
		"e-deleting-on-down=node-not-ready", "i-gone-unbound=pod-gone", "j-gone-on-down=node-not-ready"}
	if !slices.Equal(got, want) {
		t.Fatalf("releases:\n got %v\nwant %v", got, want)
	}
	if len(out.Suspects) != 1 || !out.Suspects["k-fresh-orphan"].Equal(now) {
		t.Fatalf("suspects = %v, want only k-fresh-orphan since now", out.Suspects)
	}
}

func TestPlanGraceZeroReleasesAtOnce(t *testing.T) {
	out := Plan(Config{}, Input{Allocations: []Allocation{{UID: "x"}}, Now: t0})
	if len(out.Releases) != 1 || out.Releases[0].Reason != ReasonPodGone || len(out.Suspects) != 0 {
		t.Fatalf("Plan = %+v, want x released at once", out)
	}
}
